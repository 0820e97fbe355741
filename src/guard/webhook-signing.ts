/**
 * Signing and verifying webhook deliveries with HMAC-SHA256 (`node:crypto`); the header's text
 * and the checks are the core's (src/core/guard/webhook-signature.ts). Receivers written in
 * TypeScript can call `verifyWebhookSignature` as it is; docs/reference/webhooks.md shows the
 * same steps for any language.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import {
  checkWebhookSignature,
  WEBHOOK_SIGNATURE_LIMITS,
  type WebhookSignatureCheck,
  webhookSignatureHeader,
  webhookSignedText,
  webhookTimestampSeconds,
} from "../core/guard/webhook-signature.ts";

/** Lower-case hex HMAC-SHA256 of `text` (UTF-8) with `secret` (its UTF-8 bytes) as the key. */
export function webhookHmacHex(secret: string, text: string): string {
  return createHmac("sha256", secret).update(text, "utf8").digest("hex");
}

/** The `Bursar-Signature` header for `body` sent at `nowMs`. */
export function signWebhookBody(secret: string, body: string, nowMs: number): string {
  const timestampSeconds = webhookTimestampSeconds(nowMs);
  return webhookSignatureHeader(
    timestampSeconds,
    webhookHmacHex(secret, webhookSignedText(timestampSeconds, body)),
  );
}

/**
 * Verifies a received delivery: `header` is the `Bursar-Signature` header (undefined when
 * absent), `body` the raw request body exactly as received (not re-serialised JSON), `nowMs` the
 * receiver's clock, `toleranceMs` how far the signature's time may be from it (five minutes is
 * usual). A refusal is a value with a code (`malformed_header`, `timestamp_out_of_tolerance`,
 * `signature_mismatch`); nothing here throws on any input.
 */
export function verifyWebhookSignature(
  secret: string,
  header: string | undefined,
  body: string,
  nowMs: number,
  toleranceMs: number = WEBHOOK_SIGNATURE_LIMITS.defaultToleranceMs,
): WebhookSignatureCheck {
  return checkWebhookSignature({
    header,
    body,
    nowMs,
    toleranceMs,
    hmacHex: (text) => webhookHmacHex(secret, text),
    sameHex: sameHexInConstantTime,
  });
}

/** A new secret for an endpoint: 32 random bytes, base64url, behind a recognisable prefix. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString("base64url")}`;
}

function sameHexInConstantTime(left: string, right: string): boolean {
  const leftBytes = Buffer.from(left, "utf8");
  const rightBytes = Buffer.from(right, "utf8");
  return leftBytes.length === rightBytes.length && timingSafeEqual(leftBytes, rightBytes);
}
