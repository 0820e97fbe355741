/**
 * The contract every webhook outbox passes (src/guard/webhook-outbox.ts): the memory store, the
 * model, and the durable ones against a real SQLite file and the real PostgreSQL server. A
 * store's suite gives a factory for a fresh, empty outbox per test, the audit log it appends to,
 * and, for a durable one, how to open it again and a second instance beside it.
 */
import { describe, expect, test } from "vitest";
import type { AuditLogStore } from "../../src/control/audit-log.ts";
import type { AuditEntryInput } from "../../src/core/audit/audit-entry.ts";
import type { WebhookEndpoint } from "../../src/core/guard/webhook-endpoint.ts";
import type { WebhookClaimRequest, WebhookOutbox } from "../../src/guard/webhook-outbox.ts";

export interface WebhookOutboxUnderTest {
  readonly outbox: WebhookOutbox;
  readonly audit: AuditLogStore;
  /** Opens the same outbox again after `outbox` was closed: a restart. */
  readonly reopen?: () => Promise<WebhookOutbox>;
  /** Another outbox on the same file or database, on connections of its own. */
  readonly another?: () => Promise<WebhookOutbox>;
}

export interface WebhookOutboxFactoryOptions {
  readonly pendingMax?: number;
}

export const SECRET = "whsec_contract-secret-0123456789abcdef";

export function endpoint(id: string, overrides: Partial<WebhookEndpoint> = {}): WebhookEndpoint {
  return {
    id,
    url: `http://127.0.0.1:9/${id}`,
    secret: SECRET,
    eventTypes: ["incident.opened", "incident.resolved"],
    enabled: true,
    ...overrides,
  };
}

export function endpointAudit(action: "webhook.endpoint_added", id: string): AuditEntryInput {
  return {
    at: "2025-01-16T06:40:00.000Z",
    actor: "ops-oncall",
    action,
    subject: `webhook/${id}`,
    contentHash: null,
    reason: null,
    details: { origin: "http://127.0.0.1:9" },
  };
}

const T0 = 1_737_009_600_000;

function claimAt(nowMs: number, token: string, limit = 10, attemptsMax = 3): WebhookClaimRequest {
  return { nowMs, limit, claimMs: 60_000, claimToken: token, attemptsMax };
}

export function describeWebhookOutboxContract(
  name: string,
  create: (options?: WebhookOutboxFactoryOptions) => Promise<WebhookOutboxUnderTest>,
): void {
  async function using<T>(
    run: (under: WebhookOutboxUnderTest) => Promise<T>,
    options?: WebhookOutboxFactoryOptions,
  ): Promise<T> {
    const under = await create(options);
    try {
      return await run(under);
    } finally {
      await under.outbox.close().catch(() => {});
      await under.audit.close().catch(() => {});
    }
  }

  describe(`webhook outbox contract: ${name}`, () => {
    test("endpoints: added with their audit entry, listed by id without secrets, refused with codes", () =>
      using(async ({ outbox, audit }) => {
        expect(
          await outbox.addEndpoint(
            endpoint("pager"),
            T0,
            endpointAudit("webhook.endpoint_added", "pager"),
          ),
        ).toEqual({ ok: true });
        expect(
          await outbox.addEndpoint(endpoint("chat", { enabled: false }), T0 + 1, undefined),
        ).toEqual({ ok: true });
        expect((await audit.head()).sequence).toBe(1);
        const listed = await outbox.listEndpoints();
        expect(listed).toEqual([
          {
            id: "chat",
            url: "http://127.0.0.1:9/chat",
            eventTypes: ["incident.opened", "incident.resolved"],
            enabled: false,
            createdAtMs: T0 + 1,
          },
          {
            id: "pager",
            url: "http://127.0.0.1:9/pager",
            eventTypes: ["incident.opened", "incident.resolved"],
            enabled: true,
            createdAtMs: T0,
          },
        ]);
        expect(JSON.stringify(listed)).not.toContain(SECRET);

        expect(await outbox.addEndpoint(endpoint("pager"), T0, undefined)).toMatchObject({
          ok: false,
          code: "endpoint_exists",
        });
        const withCredentials = await outbox.addEndpoint(
          endpoint("x", { url: "https://user:pw@example.com/hook" }),
          T0,
          undefined,
        );
        expect(withCredentials).toMatchObject({ ok: false, code: "url_has_credentials" });
        expect(JSON.stringify(withCredentials)).not.toContain("pw@");
        expect(
          await outbox.addEndpoint(endpoint("x", { url: "ftp://example.com" }), T0, undefined),
        ).toMatchObject({ code: "invalid_url" });
        expect(
          await outbox.addEndpoint(
            endpoint("x", { url: `https://example.com/${"a".repeat(2_100)}` }),
            T0,
            undefined,
          ),
        ).toMatchObject({ code: "url_too_long" });
        expect(
          await outbox.addEndpoint(endpoint("x", { secret: "short" }), T0, undefined),
        ).toMatchObject({ code: "invalid_secret" });
        expect(
          await outbox.addEndpoint(endpoint("x", { eventTypes: [] }), T0, undefined),
        ).toMatchObject({ code: "invalid_event_types" });
        expect(
          await outbox.addEndpoint(endpoint("x"), T0, {
            ...endpointAudit("webhook.endpoint_added", "x"),
            actor: "",
          }),
        ).toMatchObject({ code: "audit_refused" });
        expect((await outbox.listEndpoints()).map((each) => each.id)).toEqual(["chat", "pager"]);

        expect(await outbox.setEndpointEnabled("chat", true, undefined)).toEqual({ ok: true });
        expect(await outbox.setEndpointEnabled("nope", true, undefined)).toMatchObject({
          code: "endpoint_not_found",
        });
        expect(await outbox.removeEndpoint("chat", T0, undefined)).toEqual({ ok: true });
        expect(await outbox.removeEndpoint("chat", T0, undefined)).toMatchObject({
          code: "endpoint_not_found",
        });
        expect((await outbox.listEndpoints()).map((each) => [each.id, each.enabled])).toEqual([
          ["pager", true],
        ]);
      }));

    test("enqueue: one delivery per enabled endpoint wanting the type, idempotent on the notification id", () =>
      using(async ({ outbox }) => {
        await outbox.addEndpoint(endpoint("b-pager"), T0, undefined);
        await outbox.addEndpoint(endpoint("a-all", { eventTypes: ["*"] }), T0, undefined);
        await outbox.addEndpoint(endpoint("c-off", { enabled: false }), T0, undefined);
        await outbox.addEndpoint(
          endpoint("d-other", { eventTypes: ["incident.resolved"] }),
          T0,
          undefined,
        );
        const notification = {
          eventType: "incident.opened",
          id: "incident-7:opened",
          payload: { severity: "P1" },
        };
        expect(await outbox.enqueue(notification, T0)).toEqual({
          ok: true,
          deliveryIds: ["incident-7:opened@a-all", "incident-7:opened@b-pager"],
          added: 2,
        });
        expect(await outbox.enqueue(notification, T0 + 5)).toMatchObject({ ok: true, added: 0 });
        expect(
          await outbox.enqueue(
            { ...notification, id: "nobody", eventType: "incident.acknowledged" },
            T0,
          ),
        ).toEqual({
          ok: true,
          deliveryIds: ["nobody@a-all"],
          added: 1,
        });
        const listed = await outbox.listDeliveries({ limit: 10 });
        expect(listed.map((each) => each.deliveryId)).toEqual([
          "nobody@a-all",
          "incident-7:opened@b-pager",
          "incident-7:opened@a-all",
        ]);
        expect(listed[2]).toEqual({
          deliveryId: "incident-7:opened@a-all",
          endpointId: "a-all",
          notificationId: "incident-7:opened",
          eventType: "incident.opened",
          state: "pending",
          attempts: 0,
          nextAttemptAtMs: T0,
          createdAtMs: T0,
          finishedAtMs: null,
          lastAttemptCode: null,
          lastStatus: null,
          deadReason: null,
        });
        expect(
          await outbox.listDeliveries({ endpointId: "b-pager", state: "pending", limit: 10 }),
        ).toHaveLength(1);
        expect(await outbox.listDeliveries({ limit: 1 })).toHaveLength(1);

        expect(await outbox.enqueue({ ...notification, id: "bad id" }, T0)).toMatchObject({
          ok: false,
          code: "invalid_notification",
        });
        expect(await outbox.enqueue({ ...notification, eventType: "Opened" }, T0)).toMatchObject({
          code: "invalid_notification",
        });
        expect(
          await outbox.enqueue({ ...notification, id: "big", payload: "x".repeat(70_000) }, T0),
        ).toMatchObject({ code: "payload_too_large" });
        expect(
          await outbox.enqueue({ ...notification, id: "undef", payload: undefined }, T0),
        ).toMatchObject({ code: "invalid_notification" });
      }));

    test("enqueue past the pending bound is refused whole as outbox_full", () =>
      using(
        async ({ outbox }) => {
          await outbox.addEndpoint(endpoint("one"), T0, undefined);
          await outbox.addEndpoint(endpoint("two"), T0, undefined);
          expect(
            await outbox.enqueue({ eventType: "incident.opened", id: "n1", payload: 1 }, T0),
          ).toMatchObject({ added: 2 });
          expect(
            await outbox.enqueue({ eventType: "incident.opened", id: "n2", payload: 2 }, T0),
          ).toMatchObject({ ok: false, code: "outbox_full" });
          expect(await outbox.listDeliveries({ limit: 10 })).toHaveLength(2);
        },
        { pendingMax: 3 },
      ));

    test("claims: due first, not due again while claimed, the body and secret to sign with, attempts recorded", () =>
      using(async ({ outbox }) => {
        await outbox.addEndpoint(endpoint("pager"), T0, undefined);
        await outbox.enqueue({ eventType: "incident.opened", id: "n1", payload: { a: 1 } }, T0);
        await outbox.enqueue(
          { eventType: "incident.opened", id: "n2", payload: { a: 2 } },
          T0 + 10,
        );
        expect(await outbox.claimDue(claimAt(T0 - 1, "early"))).toEqual([]);
        const [first, ...rest] = await outbox.claimDue(claimAt(T0 + 10, "claim-1", 1));
        expect(rest).toEqual([]);
        expect(first).toEqual({
          deliveryId: "n1@pager",
          endpointId: "pager",
          url: "http://127.0.0.1:9/pager",
          secret: SECRET,
          eventType: "incident.opened",
          notificationId: "n1",
          body: `{"id":"n1","type":"incident.opened","createdAt":"2025-01-16T06:40:00.000Z","data":{"a":1}}`,
          attempt: 1,
          claimToken: "claim-1",
        });
        expect(
          (await outbox.claimDue(claimAt(T0 + 20, "claim-2"))).map((each) => each.deliveryId),
        ).toEqual(["n2@pager"]);
        expect(await outbox.claimDue(claimAt(T0 + 30, "claim-3"))).toEqual([]);

        // The attempt failed: retried later, under a new claim with the next attempt number.
        expect(
          await outbox.finishAttempt({
            deliveryId: "n1@pager",
            claimToken: "claim-1",
            attempt: 1,
            code: "http_status",
            status: 500,
            finishedAtMs: T0 + 40,
            next: { state: "pending", nextAttemptAtMs: T0 + 1_000 },
          }),
        ).toEqual({ ok: true });
        expect(
          await outbox.finishAttempt({
            deliveryId: "n1@pager",
            claimToken: "claim-1",
            attempt: 1,
            code: "delivered",
            status: 200,
            finishedAtMs: T0 + 41,
            next: { state: "delivered" },
          }),
        ).toMatchObject({ ok: false, code: "claim_lost" });
        expect(await outbox.claimDue(claimAt(T0 + 999, "claim-4"))).toEqual([]);
        const [again] = await outbox.claimDue(claimAt(T0 + 1_000, "claim-5"));
        expect(again).toMatchObject({ deliveryId: "n1@pager", attempt: 2, claimToken: "claim-5" });
        expect(
          await outbox.finishAttempt({
            deliveryId: "n1@pager",
            claimToken: "claim-5",
            attempt: 2,
            code: "delivered",
            status: 204,
            finishedAtMs: T0 + 1_050,
            next: { state: "delivered" },
          }),
        ).toEqual({ ok: true });
        expect(await outbox.attemptsOf("n1@pager")).toEqual([
          {
            attempt: 1,
            startedAtMs: T0 + 10,
            finishedAtMs: T0 + 40,
            code: "http_status",
            status: 500,
          },
          {
            attempt: 2,
            startedAtMs: T0 + 1_000,
            finishedAtMs: T0 + 1_050,
            code: "delivered",
            status: 204,
          },
        ]);
        const [delivered] = await outbox.listDeliveries({ state: "delivered", limit: 10 });
        expect(delivered).toMatchObject({
          deliveryId: "n1@pager",
          attempts: 2,
          nextAttemptAtMs: null,
          finishedAtMs: T0 + 1_050,
          lastAttemptCode: "delivered",
          lastStatus: 204,
          deadReason: null,
        });
        expect(await outbox.attemptsOf("unknown")).toEqual([]);
      }));

    test("an expired claim is claimed again; its late outcome is claim_lost; the last one expiring makes it dead", () =>
      using(async ({ outbox }) => {
        await outbox.addEndpoint(endpoint("pager"), T0, undefined);
        await outbox.enqueue({ eventType: "incident.opened", id: "n1", payload: null }, T0);
        for (let attempt = 1; attempt <= 3; attempt += 1) {
          const claimed = await outbox.claimDue(
            claimAt(T0 + (attempt - 1) * 60_000, `claim-${attempt}`),
          );
          expect(claimed.map((each) => each.attempt)).toEqual([attempt]);
        }
        expect(
          await outbox.finishAttempt({
            deliveryId: "n1@pager",
            claimToken: "claim-1",
            attempt: 1,
            code: "delivered",
            status: 200,
            finishedAtMs: T0 + 1,
            next: { state: "delivered" },
          }),
        ).toMatchObject({ code: "claim_lost" });
        expect(await outbox.claimDue(claimAt(T0 + 180_000, "claim-4"))).toEqual([]);
        const [dead] = await outbox.listDeliveries({ limit: 10 });
        expect(dead).toMatchObject({
          state: "dead",
          deadReason: "claim_expired",
          attempts: 3,
          finishedAtMs: T0 + 180_000,
          nextAttemptAtMs: null,
        });
        expect((await outbox.attemptsOf("n1@pager")).map((each) => each.code)).toEqual([
          null,
          null,
          null,
        ]);
      }));

    test("dead after the last attempt; a disabled endpoint's deliveries wait; a removed one's are dead", () =>
      using(async ({ outbox }) => {
        await outbox.addEndpoint(endpoint("pager"), T0, undefined);
        await outbox.addEndpoint(endpoint("chat"), T0, undefined);
        await outbox.enqueue({ eventType: "incident.opened", id: "n1", payload: {} }, T0);
        await outbox.setEndpointEnabled("chat", false, undefined);
        const claimed = await outbox.claimDue(claimAt(T0, "claim-1"));
        expect(claimed.map((each) => each.deliveryId)).toEqual(["n1@pager"]);
        expect(
          await outbox.finishAttempt({
            deliveryId: "n1@pager",
            claimToken: "claim-1",
            attempt: 1,
            code: "timeout",
            status: null,
            finishedAtMs: T0 + 5,
            next: { state: "dead", deadReason: "attempts_exhausted" },
          }),
        ).toEqual({ ok: true });
        expect(await outbox.listDeliveries({ endpointId: "pager", limit: 10 })).toMatchObject([
          {
            state: "dead",
            deadReason: "attempts_exhausted",
            lastAttemptCode: "timeout",
            lastStatus: null,
            finishedAtMs: T0 + 5,
          },
        ]);

        await outbox.setEndpointEnabled("chat", true, undefined);
        const [chat] = await outbox.claimDue(claimAt(T0 + 10, "claim-2"));
        expect(chat).toMatchObject({ deliveryId: "n1@chat", attempt: 1 });
        expect(await outbox.removeEndpoint("chat", T0 + 20, undefined)).toEqual({ ok: true });
        expect(
          await outbox.finishAttempt({
            deliveryId: "n1@chat",
            claimToken: "claim-2",
            attempt: 1,
            code: "delivered",
            status: 200,
            finishedAtMs: T0 + 30,
            next: { state: "delivered" },
          }),
        ).toMatchObject({ code: "claim_lost" });
        expect(await outbox.listDeliveries({ endpointId: "chat", limit: 10 })).toMatchObject([
          { state: "dead", deadReason: "endpoint_removed", finishedAtMs: T0 + 20 },
        ]);
        expect(await outbox.claimDue(claimAt(T0 + 3_600_000, "claim-3"))).toEqual([]);
      }));

    test("a closed outbox fails every call with closed", () =>
      using(async ({ outbox }) => {
        await outbox.close();
        await expect(outbox.listEndpoints()).rejects.toMatchObject({ code: "closed" });
        await expect(
          outbox.enqueue({ eventType: "incident.opened", id: "n", payload: 1 }, T0),
        ).rejects.toMatchObject({ code: "closed" });
      }));

    test("a bad claim request is refused before anything is claimed", () =>
      using(async ({ outbox }) => {
        await expect(
          outbox.claimDue({ ...claimAt(T0, "t"), limit: 100_000 }),
        ).rejects.toMatchObject({ code: "read_failed" });
      }));
  });

  describe(`webhook outbox durability and sharing: ${name}`, () => {
    test("a reopened outbox holds every endpoint, delivery and claim", async () => {
      const under = await create();
      if (under.reopen === undefined) return;
      await under.outbox.addEndpoint(endpoint("pager"), T0, undefined);
      await under.outbox.enqueue({ eventType: "incident.opened", id: "n1", payload: [1] }, T0);
      await under.outbox.claimDue(claimAt(T0, "before-restart"));
      await under.outbox.close();
      const reopened = await under.reopen();
      try {
        expect((await reopened.listEndpoints()).map((each) => each.id)).toEqual(["pager"]);
        expect(await reopened.claimDue(claimAt(T0 + 59_999, "too-early"))).toEqual([]);
        expect(await reopened.claimDue(claimAt(T0 + 60_000, "after-restart"))).toMatchObject([
          { deliveryId: "n1@pager", attempt: 2, secret: SECRET },
        ]);
      } finally {
        await reopened.close();
        await under.audit.close();
      }
    });

    test("two outboxes claiming at once never take the same delivery", async () => {
      const under = await create();
      if (under.another === undefined) return;
      const other = await under.another();
      try {
        await under.outbox.addEndpoint(endpoint("pager", { eventTypes: ["*"] }), T0, undefined);
        for (let index = 0; index < 40; index += 1) {
          await under.outbox.enqueue(
            { eventType: "incident.opened", id: `n${index}`, payload: index },
            T0,
          );
        }
        const claims = await Promise.all(
          Array.from({ length: 8 }, (_, index) =>
            (index % 2 === 0 ? under.outbox : other).claimDue(claimAt(T0, `claim-${index}`, 7)),
          ),
        );
        const ids = claims.flat().map((each) => each.deliveryId);
        expect(new Set(ids).size).toBe(ids.length);
        expect(ids).toHaveLength(40);
        expect(claims.flat().every((each) => each.attempt === 1)).toBe(true);
      } finally {
        await Promise.all([under.outbox.close(), other.close(), under.audit.close()]);
      }
    });
  });
}
