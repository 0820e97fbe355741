/**
 * The webhook outbox's rows as both SQL stores keep them (sqlite-webhook-outbox.ts,
 * postgres-webhook-outbox.ts) and their codec, so the two read alike.
 */
import type { WebhookDeliveryNext } from "../core/guard/webhook-delivery.ts";
import type { WebhookEndpointListing } from "../core/guard/webhook-endpoint.ts";
import type {
  WebhookAttemptListing,
  WebhookAttemptOutcome,
  WebhookDeliveryListing,
} from "../guard/webhook-outbox.ts";

export const WEBHOOK_ENDPOINT_LISTING_COLUMNS = "id, url, event_types_json, enabled, created_at_ms";

export interface WebhookEndpointRow {
  id: string;
  url: string;
  event_types_json: string;
  enabled: number | boolean;
  created_at_ms: number;
}

export function webhookEndpointOfRow(row: WebhookEndpointRow): WebhookEndpointListing {
  return {
    id: row.id,
    url: row.url,
    eventTypes: JSON.parse(row.event_types_json) as string[],
    enabled: row.enabled === true || row.enabled === 1,
    createdAtMs: row.created_at_ms,
  };
}

export const WEBHOOK_DELIVERY_LISTING_COLUMNS =
  "id, endpoint_id, notification_id, event_type, state, attempts, next_attempt_at_ms, created_at_ms, finished_at_ms, last_attempt_code, last_status, dead_reason";

export interface WebhookDeliveryRow {
  id: string;
  endpoint_id: string;
  notification_id: string;
  event_type: string;
  state: WebhookDeliveryListing["state"];
  attempts: number;
  next_attempt_at_ms: number | null;
  created_at_ms: number;
  finished_at_ms: number | null;
  last_attempt_code: WebhookDeliveryListing["lastAttemptCode"];
  last_status: number | null;
  dead_reason: WebhookDeliveryListing["deadReason"];
}

export function webhookDeliveryOfRow(row: WebhookDeliveryRow): WebhookDeliveryListing {
  return {
    deliveryId: row.id,
    endpointId: row.endpoint_id,
    notificationId: row.notification_id,
    eventType: row.event_type,
    state: row.state,
    attempts: row.attempts,
    nextAttemptAtMs: row.next_attempt_at_ms,
    createdAtMs: row.created_at_ms,
    finishedAtMs: row.finished_at_ms,
    lastAttemptCode: row.last_attempt_code,
    lastStatus: row.last_status,
    deadReason: row.dead_reason,
  };
}

export const WEBHOOK_ATTEMPT_COLUMNS = "attempt, started_at_ms, finished_at_ms, code, status";

export interface WebhookAttemptRow {
  attempt: number;
  started_at_ms: number;
  finished_at_ms: number | null;
  code: WebhookAttemptListing["code"];
  status: number | null;
}

export function webhookAttemptOfRow(row: WebhookAttemptRow): WebhookAttemptListing {
  return {
    attempt: row.attempt,
    startedAtMs: row.started_at_ms,
    finishedAtMs: row.finished_at_ms,
    code: row.code,
    status: row.status,
  };
}

/** The columns a finished attempt sets on its delivery, from the dispatcher's decision. */
export function webhookFinishColumns(outcome: WebhookAttemptOutcome): {
  state: WebhookDeliveryNext["state"];
  nextAttemptAtMs: number | null;
  finishedAtMs: number | null;
  deadReason: string | null;
} {
  const next = outcome.next;
  return {
    state: next.state,
    nextAttemptAtMs: next.state === "pending" ? next.nextAttemptAtMs : null,
    finishedAtMs: next.state === "pending" ? null : outcome.finishedAtMs,
    deadReason: next.state === "dead" ? next.deadReason : null,
  };
}
