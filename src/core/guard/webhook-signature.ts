/**
 * The text of a webhook's `Bursar-Signature` header and its check (docs/reference/webhooks.md):
 * `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, the scheme Stripe made familiar, so
 * receivers' libraries and habits carry over. The HMAC needs `node:crypto`, which the core does
 * not touch: it arrives as a function (src/guard/webhook-signing.ts gives the real one), as does
 * the constant-time comparison. The time is an argument too.
 */

/** Why a signature was not accepted; never renamed, each described in the reference. */
export const WEBHOOK_SIGNATURE_CODES = {
  malformed_header:
    "The header is missing, too long, or not `t=<seconds>,v1=<64 hex digits>` (several v1 values may be given).",
  timestamp_out_of_tolerance:
    "The header's time is further from the receiver's clock than the tolerance: a replay, or a clock that is off.",
  signature_mismatch:
    "No v1 value is the HMAC of the body with this secret: a wrong secret, or a body changed on the way.",
} as const;

export type WebhookSignatureCode = keyof typeof WEBHOOK_SIGNATURE_CODES;

export type WebhookSignatureCheck =
  | { readonly ok: true; readonly timestampSeconds: number }
  | { readonly ok: false; readonly code: WebhookSignatureCode; readonly message: string };

export const WEBHOOK_SIGNATURE_LIMITS = {
  /** A header longer than this is refused unread (a few v1 values fit, during a secret's rotation). */
  headerLengthMax: 1_024,
  /** v1 values looked at in one header, at most. */
  signaturesMax: 8,
  /** The tolerance receivers use unless they choose another: Stripe's five minutes. */
  defaultToleranceMs: 300_000,
} as const;

/** The exact text that is signed: the timestamp, a dot, the body as sent. */
export function webhookSignedText(timestampSeconds: number, body: string): string {
  return `${timestampSeconds}.${body}`;
}

/** The header's value for a timestamp and the signature's lower-case hex digits. */
export function webhookSignatureHeader(timestampSeconds: number, signatureHex: string): string {
  return `t=${timestampSeconds},v1=${signatureHex}`;
}

/** Whole seconds since 1970 of an instant in milliseconds, as the header carries them. */
export function webhookTimestampSeconds(nowMs: number): number {
  return Math.floor(nowMs / 1_000);
}

interface ParsedHeader {
  readonly timestampSeconds: number;
  readonly signaturesHex: readonly string[];
}

const TIMESTAMP_TEXT = /^\d{1,12}$/;
const SIGNATURE_HEX = /^[0-9a-f]{64}$/;

/** The header's parts, or undefined when it is not the format above. Unknown keys are skipped. */
export function parseWebhookSignatureHeader(header: string): ParsedHeader | undefined {
  if (header.length === 0 || header.length > WEBHOOK_SIGNATURE_LIMITS.headerLengthMax) {
    return undefined;
  }
  let timestampSeconds: number | undefined;
  const signaturesHex: string[] = [];
  for (const part of header.split(",")) {
    const equals = part.indexOf("=");
    if (equals < 1) return undefined;
    const key = part.slice(0, equals).trim();
    const value = part.slice(equals + 1).trim();
    if (key === "t") {
      if (timestampSeconds !== undefined || !TIMESTAMP_TEXT.test(value)) return undefined;
      timestampSeconds = Number(value);
    } else if (key === "v1") {
      if (!SIGNATURE_HEX.test(value)) return undefined;
      if (signaturesHex.length < WEBHOOK_SIGNATURE_LIMITS.signaturesMax) signaturesHex.push(value);
    }
    // Other keys (a future v2) are ignored, so a sender can add a scheme before receivers know it.
  }
  if (timestampSeconds === undefined || signaturesHex.length === 0) return undefined;
  return { timestampSeconds, signaturesHex };
}

export interface WebhookSignatureCheckInput {
  readonly header: string | undefined;
  readonly body: string;
  readonly nowMs: number;
  readonly toleranceMs: number;
  /** Lower-case hex HMAC-SHA256 of a text with the endpoint's secret. */
  readonly hmacHex: (signedText: string) => string;
  /** Compares two hex strings of equal length in constant time. */
  readonly sameHex: (left: string, right: string) => boolean;
}

/**
 * Checks a received header: its format, its time within `toleranceMs` of `nowMs` either way
 * (a replayed request is refused once it is older than the tolerance), and one v1 value equal
 * to the HMAC of `t.body`. The time is checked first; the HMAC of a stale request is never
 * computed.
 */
export function checkWebhookSignature(input: WebhookSignatureCheckInput): WebhookSignatureCheck {
  const parsed = input.header === undefined ? undefined : parseWebhookSignatureHeader(input.header);
  if (parsed === undefined) {
    return refused("malformed_header", "the Bursar-Signature header is not t=…,v1=…");
  }
  const skewMs = Math.abs(input.nowMs - parsed.timestampSeconds * 1_000);
  if (!(skewMs <= input.toleranceMs)) {
    return refused(
      "timestamp_out_of_tolerance",
      `the signature's time is ${Math.round(skewMs / 1_000)} s from now; the tolerance is ${Math.round(input.toleranceMs / 1_000)} s`,
    );
  }
  const expected = input.hmacHex(webhookSignedText(parsed.timestampSeconds, input.body));
  // Every value is compared, whatever the first gives, so the time taken says nothing of which.
  let matched = false;
  for (const candidate of parsed.signaturesHex) {
    if (input.sameHex(candidate, expected)) matched = true;
  }
  if (!matched) return refused("signature_mismatch", "no v1 signature matches the body");
  return { ok: true, timestampSeconds: parsed.timestampSeconds };
}

function refused(code: WebhookSignatureCode, message: string): WebhookSignatureCheck {
  return { ok: false, code, message };
}
