/**
 * The webhook outbox's store port (docs/reference/webhooks.md, ADR 0017): configured endpoints,
 * and one durable delivery per endpoint for every notification enqueued, with the attempts made
 * on it. Enqueueing writes the deliveries before it returns, so a notification accepted is never
 * lost to a crash; dispatchers claim due deliveries for a bounded time, so a crashed dispatcher's
 * claims expire and its deliveries are attempted again (at least once, never silently dropped).
 * The memory implementation serves application tests; SQLite and PostgreSQL pass the same
 * contract suite (test/guard/webhook-outbox.contract.ts).
 */
import type { AuditEntryInput } from "../core/audit/audit-entry.ts";
import {
  WEBHOOK_DELIVERY_LIMITS,
  type WebhookAttemptCode,
  type WebhookDeadReason,
  type WebhookDeliveryNext,
  type WebhookDeliveryState,
  type WebhookEnqueueCode,
  type WebhookNotification,
  webhookNotificationProblem,
} from "../core/guard/webhook-delivery.ts";
import type {
  WebhookEndpoint,
  WebhookEndpointCode,
  WebhookEndpointListing,
} from "../core/guard/webhook-endpoint.ts";

export type WebhookEnqueueResult =
  | {
      readonly ok: true;
      /** One per endpoint that wants the event type, in endpoint id order. */
      readonly deliveryIds: readonly string[];
      /** How many of them this call wrote; the others were enqueued before (same notification id). */
      readonly added: number;
    }
  | { readonly ok: false; readonly code: WebhookEnqueueCode; readonly message: string };

export type WebhookEndpointWriteResult =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly code: WebhookEndpointCode | "audit_refused";
      readonly message: string;
    };

export interface WebhookClaimRequest {
  readonly nowMs: number;
  /** Deliveries claimed at most. */
  readonly limit: number;
  /** The claim lasts this long; then another dispatcher may attempt the delivery again. */
  readonly claimMs: number;
  /** Unique to this claim; the attempt's outcome is recorded only under it. */
  readonly claimToken: string;
  /** A due delivery whose claims used every attempt is dead (`claim_expired`), not claimed. */
  readonly attemptsMax: number;
}

/** A delivery claimed for one attempt. It holds the endpoint's secret: never log it whole. */
export interface ClaimedWebhookDelivery {
  readonly deliveryId: string;
  readonly endpointId: string;
  readonly url: string;
  readonly secret: string;
  readonly eventType: string;
  readonly notificationId: string;
  /** The body as stored at enqueue: the same bytes on every attempt. */
  readonly body: string;
  /** 1 for the first attempt. */
  readonly attempt: number;
  readonly claimToken: string;
}

export interface WebhookAttemptOutcome {
  readonly deliveryId: string;
  readonly claimToken: string;
  readonly attempt: number;
  readonly code: WebhookAttemptCode;
  /** The HTTP status, when there was an answer. */
  readonly status: number | null;
  readonly finishedAtMs: number;
  readonly next: WebhookDeliveryNext;
}

export type WebhookFinishResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly code: "claim_lost"; readonly message: string };

export interface WebhookDeliveryListing {
  readonly deliveryId: string;
  readonly endpointId: string;
  readonly notificationId: string;
  readonly eventType: string;
  readonly state: WebhookDeliveryState;
  /** Attempts started (claims taken), finished or not. */
  readonly attempts: number;
  /** When a pending delivery is next due (while claimed: when its claim expires). */
  readonly nextAttemptAtMs: number | null;
  readonly createdAtMs: number;
  readonly finishedAtMs: number | null;
  readonly lastAttemptCode: WebhookAttemptCode | null;
  readonly lastStatus: number | null;
  readonly deadReason: WebhookDeadReason | null;
}

export interface WebhookAttemptListing {
  readonly attempt: number;
  readonly startedAtMs: number;
  /** Null while in flight, or for good when its dispatcher stopped before recording it. */
  readonly finishedAtMs: number | null;
  readonly code: WebhookAttemptCode | null;
  readonly status: number | null;
}

export interface WebhookDeliveryFilter {
  readonly state?: WebhookDeliveryState;
  readonly endpointId?: string;
  readonly limit: number;
}

export interface WebhookOutbox {
  /**
   * Stores a checked endpoint, and the audit entry with it in one atomic step. Refused as
   * `endpoint_exists`, `too_many_endpoints`, a check's code, or `audit_refused`; nothing is
   * written then.
   */
  addEndpoint(
    endpoint: WebhookEndpoint,
    nowMs: number,
    audit: AuditEntryInput | undefined,
  ): Promise<WebhookEndpointWriteResult>;
  /** Removes an endpoint; its pending deliveries become dead (`endpoint_removed`) in the same step. */
  removeEndpoint(
    id: string,
    nowMs: number,
    audit: AuditEntryInput | undefined,
  ): Promise<WebhookEndpointWriteResult>;
  /** A disabled endpoint gets no new deliveries, and its pending ones wait until it is enabled. */
  setEndpointEnabled(
    id: string,
    enabled: boolean,
    audit: AuditEntryInput | undefined,
  ): Promise<WebhookEndpointWriteResult>;
  /** Every endpoint, by id, without secrets. */
  listEndpoints(): Promise<readonly WebhookEndpointListing[]>;
  /**
   * Writes one pending delivery, due at once, per enabled endpoint that wants the event type,
   * durably before it returns. Idempotent on the notification id: deliveries already written
   * for it are kept as they are. Refused (nothing written) when the notification is unusable,
   * the body too large, or the outbox full.
   */
  enqueue(notification: WebhookNotification, nowMs: number): Promise<WebhookEnqueueResult>;
  /**
   * Claims up to `limit` pending deliveries due at `nowMs` (oldest due first) of enabled
   * endpoints: each gets its next attempt number and the claim token, its attempt is recorded as
   * started, and it is not due again until the claim expires. Two claims at once never take the
   * same delivery. Due deliveries whose claims used every attempt become dead instead.
   */
  claimDue(request: WebhookClaimRequest): Promise<readonly ClaimedWebhookDelivery[]>;
  /**
   * Records how a claimed attempt ended and the delivery's next state, if the claim still holds
   * (same token, still pending); else `claim_lost` and nothing is written: the claim expired and
   * another dispatcher attempts it, or its endpoint was removed.
   */
  finishAttempt(outcome: WebhookAttemptOutcome): Promise<WebhookFinishResult>;
  /** Deliveries, newest first. */
  listDeliveries(filter: WebhookDeliveryFilter): Promise<readonly WebhookDeliveryListing[]>;
  /** A delivery's attempts in order. */
  attemptsOf(deliveryId: string): Promise<readonly WebhookAttemptListing[]>;
  close(): Promise<void>;
}

/** Deliveries one `listDeliveries` returns at most. */
export const WEBHOOK_LIST_LIMIT_MAX = 1_000;
/** Deliveries one `claimDue` takes at most. */
export const WEBHOOK_CLAIM_LIMIT_MAX = 256;

/**
 * Failures of a durable outbox, never refusals (those are results with codes): the same four
 * as the change store's (src/control/change-store-error.ts), described in the reference.
 */
export const WEBHOOK_OUTBOX_ERROR_CODES = {
  closed: "The outbox is closed; every call after `close` fails with this code.",
  open_failed:
    "The database could not be opened or migrated, or an option is out of range; nothing was changed.",
  read_failed: "A read or a claim failed (connection lost, time-out); retry.",
  write_failed:
    "The transaction holding a write failed or its outcome is unknown; an enqueue may be repeated safely (it is idempotent on the notification id).",
} as const;

export type WebhookOutboxErrorCode = keyof typeof WEBHOOK_OUTBOX_ERROR_CODES;

export class WebhookOutboxError extends Error {
  override readonly name = "WebhookOutboxError";

  constructor(
    readonly code: WebhookOutboxErrorCode,
    detail: string,
  ) {
    super(`webhook outbox ${code}: ${detail}`);
  }
}

export type PreparedWebhookNotification =
  | { readonly ok: true; readonly body: string }
  | { readonly ok: false; readonly code: WebhookEnqueueCode; readonly message: string };

/**
 * Checks a notification and renders the body every endpoint receives, the same on every attempt:
 * `{"id","type","createdAt","data"}` (docs/reference/webhooks.md, "The body"). Every store calls
 * it, so they refuse alike.
 */
export function prepareWebhookNotification(
  notification: WebhookNotification,
  nowMs: number,
): PreparedWebhookNotification {
  const problem = webhookNotificationProblem(notification);
  if (problem !== undefined) return { ok: false, ...problem };
  let body: string | undefined;
  try {
    const data = JSON.stringify(notification.payload);
    if (data === undefined) throw new Error("the payload is not JSON");
    body = `{"id":${JSON.stringify(notification.id)},"type":${JSON.stringify(notification.eventType)},"createdAt":${JSON.stringify(new Date(nowMs).toISOString())},"data":${data}}`;
  } catch (error) {
    return {
      ok: false,
      code: "invalid_notification",
      message: `the payload cannot be written as JSON: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
  if (Buffer.byteLength(body, "utf8") > WEBHOOK_DELIVERY_LIMITS.bodyBytesMax) {
    return {
      ok: false,
      code: "payload_too_large",
      message: `the body is larger than ${WEBHOOK_DELIVERY_LIMITS.bodyBytesMax} bytes`,
    };
  }
  return { ok: true, body };
}

/** The refusal when `pending + adding` would pass the outbox's bound, else undefined. */
export function outboxFullRefusal(
  pending: number,
  adding: number,
  pendingMax: number,
): WebhookEnqueueResult | undefined {
  if (adding === 0 || pending + adding <= pendingMax) return undefined;
  return {
    ok: false,
    code: "outbox_full",
    message: `${pending} deliveries are pending; ${adding} more would pass the bound of ${pendingMax}`,
  };
}

/** A claim request's problem, checked alike by every store. */
export function claimRequestProblem(request: WebhookClaimRequest): string | undefined {
  const whole = (value: number, min: number, max: number) =>
    Number.isSafeInteger(value) && value >= min && value <= max;
  if (!whole(request.limit, 0, WEBHOOK_CLAIM_LIMIT_MAX)) return `limit ${request.limit}`;
  if (!whole(request.claimMs, 1, 24 * 3_600_000)) return `claimMs ${request.claimMs}`;
  if (!whole(request.attemptsMax, 1, 20)) return `attemptsMax ${request.attemptsMax}`;
  if (!Number.isSafeInteger(request.nowMs)) return `nowMs ${request.nowMs}`;
  if (typeof request.claimToken !== "string" || request.claimToken.length === 0)
    return "claimToken";
  return undefined;
}

/** `limit` brought into 0..max, as every store reads it. */
export function webhookListLimitOf(limit: number): number {
  return Number.isSafeInteger(limit) ? Math.min(Math.max(limit, 0), WEBHOOK_LIST_LIMIT_MAX) : 0;
}
