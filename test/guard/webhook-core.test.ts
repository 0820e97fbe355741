import { createHmac } from "node:crypto";
import { fc, test as property } from "@fast-check/vitest";
import { describe, expect, test } from "vitest";
import {
  WEBHOOK_DELIVERY_LIMITS,
  webhookDeliveryNext,
} from "../../src/core/guard/webhook-delivery.ts";
import {
  webhookEndpointProblem,
  webhookUrlProblem,
} from "../../src/core/guard/webhook-endpoint.ts";
import {
  DEFAULT_WEBHOOK_RETRY_POLICY,
  webhookRetryDelayMs,
  webhookRetryDelaysWithoutJitterMs,
} from "../../src/core/guard/webhook-retry.ts";
import { parseWebhookSignatureHeader } from "../../src/core/guard/webhook-signature.ts";
import { prepareWebhookNotification } from "../../src/guard/webhook-outbox.ts";
import {
  newWebhookSecret,
  signWebhookBody,
  verifyWebhookSignature,
} from "../../src/guard/webhook-signing.ts";

const SECRET = "whsec_core-test-secret-0123456789abcdef";
const NOW_MS = 1_737_009_600_123;
const BODY = `{"id":"incident-1:opened","type":"incident.opened","createdAt":"2025-01-16T06:40:00.000Z","data":{}}`;

describe("webhook signatures", () => {
  test("the header is t=<seconds>,v1=<hex HMAC-SHA256 of t.body>, as the reference's worked example", () => {
    const header = signWebhookBody(SECRET, BODY, NOW_MS);
    const expected = createHmac("sha256", SECRET).update(`1737009600.${BODY}`).digest("hex");
    expect(header).toBe(`t=1737009600,v1=${expected}`);
    expect(verifyWebhookSignature(SECRET, header, BODY, NOW_MS, 300_000)).toEqual({
      ok: true,
      timestampSeconds: 1_737_009_600,
    });
  });

  test("the reference's worked example verifies (docs/reference/webhooks.md)", () => {
    const body =
      '{"id":"incident-42:opened","type":"incident.opened","createdAt":"2025-01-16T06:40:00.000Z","data":{"severity":"P1"}}';
    const header =
      "t=1737009600,v1=b535736cb1bea27f31ef461e0e45f56c72533f0aabdca238383a00323460bd5f";
    const secret = "whsec_example-0123456789abcdef";
    expect(verifyWebhookSignature(secret, header, body, 1_737_009_660_000, 300_000)).toEqual({
      ok: true,
      timestampSeconds: 1_737_009_600,
    });
    expect(signWebhookBody(secret, body, 1_737_009_600_999)).toBe(header);
  });

  test("a wrong secret, a changed body, a stale or future time, a malformed header are refused with codes", () => {
    const header = signWebhookBody(SECRET, BODY, NOW_MS);
    expect(
      verifyWebhookSignature("whsec_another-secret-0123456789", header, BODY, NOW_MS, 300_000),
    ).toMatchObject({ ok: false, code: "signature_mismatch" });
    expect(verifyWebhookSignature(SECRET, header, `${BODY} `, NOW_MS, 300_000)).toMatchObject({
      code: "signature_mismatch",
    });
    expect(verifyWebhookSignature(SECRET, header, BODY, NOW_MS + 300_001, 300_000)).toMatchObject({
      code: "timestamp_out_of_tolerance",
    });
    expect(verifyWebhookSignature(SECRET, header, BODY, NOW_MS - 301_000, 300_000)).toMatchObject({
      code: "timestamp_out_of_tolerance",
    });
    expect(verifyWebhookSignature(SECRET, header, BODY, NOW_MS + 299_000, 300_000)).toMatchObject({
      ok: true,
    });
    for (const bad of [
      undefined,
      "",
      "t=1",
      "v1=abc",
      `t=x,v1=${"0".repeat(64)}`,
      `t=1,v1=${"0".repeat(63)}`,
      `t=1,t=2,v1=${"0".repeat(64)}`,
      "x".repeat(2_000),
    ]) {
      expect(verifyWebhookSignature(SECRET, bad, BODY, NOW_MS, 300_000)).toMatchObject({
        code: "malformed_header",
      });
    }
  });

  test("any of several v1 values may match (a secret being rotated); unknown schemes are ignored", () => {
    const good = signWebhookBody(SECRET, BODY, NOW_MS).split(",v1=")[1]!;
    const header = `t=1737009600,v0=zzz,v1=${"a".repeat(64)},v1=${good}`;
    expect(verifyWebhookSignature(SECRET, header, BODY, NOW_MS, 300_000)).toMatchObject({
      ok: true,
    });
    expect(parseWebhookSignatureHeader(header)?.signaturesHex).toHaveLength(2);
  });

  property.prop([fc.string({ maxLength: 200 }), fc.string({ maxLength: 300 })])(
    "any header text is a value, never an exception",
    (header, body) => {
      const result = verifyWebhookSignature(SECRET, header, body, NOW_MS, 300_000);
      expect(typeof result.ok).toBe("boolean");
    },
  );

  test("new secrets are distinct and usable", () => {
    const secrets = new Set(Array.from({ length: 20 }, newWebhookSecret));
    expect(secrets.size).toBe(20);
    for (const secret of secrets) {
      expect(
        webhookEndpointProblem({
          id: "x",
          url: "https://example.com/hook",
          secret,
          eventTypes: ["*"],
          enabled: true,
        }),
      ).toBeUndefined();
    }
  });
});

describe("webhook retry schedule", () => {
  test("the default: 8 attempts, waits of 30 s doubling to 32 min, the last about 63 min after the first", () => {
    const delays = webhookRetryDelaysWithoutJitterMs(DEFAULT_WEBHOOK_RETRY_POLICY);
    expect(delays).toEqual([30_000, 60_000, 120_000, 240_000, 480_000, 960_000, 1_920_000]);
    expect(delays.reduce((sum, each) => sum + each, 0)).toBe(3_810_000);
    expect(webhookRetryDelayMs(DEFAULT_WEBHOOK_RETRY_POLICY, 8, 0.5)).toBeUndefined();
  });

  property.prop([
    fc.integer({ min: 1, max: 7 }),
    fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
  ])("jitter stays within ±20 % of the wait", (attempt, draw) => {
    const base = webhookRetryDelayMs(
      { ...DEFAULT_WEBHOOK_RETRY_POLICY, jitterPercent: 0 },
      attempt,
      0.5,
    )!;
    const delay = webhookRetryDelayMs(DEFAULT_WEBHOOK_RETRY_POLICY, attempt, draw)!;
    expect(delay).toBeGreaterThanOrEqual(Math.floor(base * 0.8));
    expect(delay).toBeLessThanOrEqual(Math.ceil(base * 1.2));
  });

  test("after an attempt: delivered on 2xx, pending after the delay, dead after the last", () => {
    const policy = DEFAULT_WEBHOOK_RETRY_POLICY;
    expect(webhookDeliveryNext(policy, 1, "delivered", NOW_MS, 0.5)).toEqual({
      state: "delivered",
    });
    expect(webhookDeliveryNext(policy, 1, "timeout", NOW_MS, 0.5)).toEqual({
      state: "pending",
      nextAttemptAtMs: NOW_MS + 30_000,
    });
    expect(webhookDeliveryNext(policy, 8, "network_error", NOW_MS, 0.5)).toEqual({
      state: "dead",
      deadReason: "attempts_exhausted",
    });
  });
});

describe("webhook endpoints and notifications", () => {
  test("URLs: http(s), no credentials, no fragment, bounded", () => {
    expect(webhookUrlProblem("https://hooks.example.com/bursar?team=pay")).toBeUndefined();
    expect(webhookUrlProblem("http://127.0.0.1:8080/")).toBeUndefined();
    expect(webhookUrlProblem("https://user@example.com/")).toMatchObject({
      code: "url_has_credentials",
    });
    expect(webhookUrlProblem("https://:pw@example.com/")).toMatchObject({
      code: "url_has_credentials",
    });
    expect(webhookUrlProblem("file:///etc/passwd")).toMatchObject({ code: "invalid_url" });
    expect(webhookUrlProblem("not a url")).toMatchObject({ code: "invalid_url" });
    expect(webhookUrlProblem("https://example.com/#x")).toMatchObject({ code: "url_has_fragment" });
    expect(webhookUrlProblem(`https://example.com/${"a".repeat(2_048)}`)).toMatchObject({
      code: "url_too_long",
    });
  });

  test("a body over 64 KiB is refused; its size counts UTF-8 bytes", () => {
    const near = WEBHOOK_DELIVERY_LIMITS.bodyBytesMax - 200;
    expect(
      prepareWebhookNotification(
        { eventType: "incident.opened", id: "a", payload: "x".repeat(near) },
        NOW_MS,
      ),
    ).toMatchObject({ ok: true });
    expect(
      prepareWebhookNotification(
        { eventType: "incident.opened", id: "a", payload: "é".repeat(near / 2 + 200) },
        NOW_MS,
      ),
    ).toMatchObject({ ok: false, code: "payload_too_large" });
    expect(
      prepareWebhookNotification(
        { eventType: "incident.opened", id: "a", payload: { big: 1n } },
        NOW_MS,
      ),
    ).toMatchObject({ code: "invalid_notification" });
  });
});
