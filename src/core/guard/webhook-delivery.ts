/**
 * Notifications and their deliveries (docs/reference/webhooks.md): a notification is an event
 * type, an id and a JSON payload; it becomes one delivery per endpoint that wants its type, and
 * each delivery moves through a small lifecycle: pending → delivered, or pending → dead after its
 * last attempt. What happens after an attempt is decided here, from the attempt's outcome and the
 * retry policy, with the randomness and the time as arguments.
 */
import { isWebhookEventType } from "./webhook-endpoint.ts";
import { type WebhookRetryPolicy, webhookRetryDelayMs } from "./webhook-retry.ts";

export const WEBHOOK_DELIVERY_STATES = {
  pending:
    "Waiting for its next attempt, or being attempted now (claimed by a dispatcher until the claim expires).",
  delivered: "The endpoint answered an attempt with a 2xx status. Final.",
  dead: "It will not be attempted again (see its dead reason). Final.",
} as const;

export type WebhookDeliveryState = keyof typeof WEBHOOK_DELIVERY_STATES;

/** How one attempt ended. */
export const WEBHOOK_ATTEMPT_CODES = {
  delivered: "The endpoint answered with a 2xx status.",
  http_status:
    "The endpoint answered with another status (redirects included: they are not followed).",
  timeout: "No answer's status line within the dispatcher's time-out.",
  network_error: "The connection failed: refused, reset, DNS, TLS.",
} as const;

export type WebhookAttemptCode = keyof typeof WEBHOOK_ATTEMPT_CODES;

/** Why a delivery is dead. */
export const WEBHOOK_DEAD_REASONS = {
  attempts_exhausted: "Every attempt the retry policy allows failed.",
  claim_expired:
    "The last allowed attempt's dispatcher stopped or crashed before recording how it ended; whether the endpoint received it is unknown.",
  endpoint_removed: "Its endpoint was removed before it was delivered.",
} as const;

export type WebhookDeadReason = keyof typeof WEBHOOK_DEAD_REASONS;

/** Refusals of an enqueue; the notification was not stored. */
export const WEBHOOK_ENQUEUE_CODES = {
  invalid_notification:
    "The id is not 1-128 characters of A-Z, a-z, 0-9, `.`, `_`, `:` and `-`; the type is not dotted lower-case words; or the payload is not JSON.",
  payload_too_large: "The delivery's body would be larger than 64 KiB.",
  outbox_full:
    "The outbox holds as many pending deliveries as allowed; the dispatchers are behind or the endpoints down.",
} as const;

export type WebhookEnqueueCode = keyof typeof WEBHOOK_ENQUEUE_CODES;

export const WEBHOOK_DELIVERY_LIMITS = {
  notificationIdLengthMax: 128,
  bodyBytesMax: 65_536,
  /** Pending deliveries the outbox holds at most, summed over endpoints. */
  pendingMax: 100_000,
} as const;

export const WEBHOOK_NOTIFICATION_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export interface WebhookNotification {
  /** `incident.opened`, `incident.severity_raised`, `incident.resolved`, … */
  readonly eventType: string;
  /** Unique per notification: enqueueing the same id again adds nothing (idempotent). */
  readonly id: string;
  readonly payload: unknown;
}

/** A notification's problem, or undefined when it may be enqueued. The payload is checked by serialising it. */
export function webhookNotificationProblem(
  notification: WebhookNotification,
): { readonly code: WebhookEnqueueCode; readonly message: string } | undefined {
  if (typeof notification.id !== "string" || !WEBHOOK_NOTIFICATION_ID.test(notification.id)) {
    return {
      code: "invalid_notification",
      message: `id ${JSON.stringify(notification.id)} is not usable`,
    };
  }
  if (!isWebhookEventType(notification.eventType)) {
    return {
      code: "invalid_notification",
      message: `event type ${JSON.stringify(notification.eventType)} is not dotted lower-case words`,
    };
  }
  return undefined;
}

/** The delivery id a receiver deduplicates on: the same for every attempt and every enqueue. */
export function webhookDeliveryId(notificationId: string, endpointId: string): string {
  return `${notificationId}@${endpointId}`;
}

/** What the store records after an attempt. */
export type WebhookDeliveryNext =
  | { readonly state: "delivered" }
  | { readonly state: "pending"; readonly nextAttemptAtMs: number }
  | { readonly state: "dead"; readonly deadReason: "attempts_exhausted" };

/**
 * The delivery's state after attempt `attempt` (1 for the first) ended with `code`: delivered on
 * a 2xx, else retried after the policy's delay, else dead.
 */
export function webhookDeliveryNext(
  policy: WebhookRetryPolicy,
  attempt: number,
  code: WebhookAttemptCode,
  finishedAtMs: number,
  random01: number,
): WebhookDeliveryNext {
  if (code === "delivered") return { state: "delivered" };
  const delayMs = webhookRetryDelayMs(policy, attempt, random01);
  if (delayMs === undefined) return { state: "dead", deadReason: "attempts_exhausted" };
  return { state: "pending", nextAttemptAtMs: finishedAtMs + delayMs };
}

/** The attempt code of an HTTP status. */
export function webhookAttemptCodeOfStatus(status: number): WebhookAttemptCode {
  return status >= 200 && status <= 299 ? "delivered" : "http_status";
}
