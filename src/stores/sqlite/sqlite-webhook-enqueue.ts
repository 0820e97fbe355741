/**
 * The outbox's enqueue step on SQLite, shared by the webhook outbox and the incident store, so an
 * incident's action and its notification commit in one transaction (as the audit append is
 * shared: sqlite-audit-append.ts). The caller checks the notification and renders its body
 * (`prepareWebhookNotification`) first and runs the step inside a `BEGIN IMMEDIATE` transaction.
 */
import type BetterSqlite3 from "better-sqlite3";
import { type WebhookNotification, webhookDeliveryId } from "../../core/guard/webhook-delivery.ts";
import { webhookEndpointWants } from "../../core/guard/webhook-endpoint.ts";
import { outboxFullRefusal, type WebhookEnqueueResult } from "../../guard/webhook-outbox.ts";
import {
  WEBHOOK_ENDPOINT_LISTING_COLUMNS,
  type WebhookEndpointRow,
  webhookEndpointOfRow,
} from "../webhook-rows.ts";

/**
 * Writes one pending delivery per endpoint that wants the type and lacks it. `pendingMax` null
 * writes past the outbox's bound (an incident's own notifications: see incidents.md).
 */
export type SqliteWebhookEnqueue = (
  notification: WebhookNotification,
  body: string,
  nowMs: number,
  pendingMax: number | null,
) => WebhookEnqueueResult;

/** Prepares the step's statements on `database` once. */
export function prepareSqliteWebhookEnqueue(
  database: BetterSqlite3.Database,
): SqliteWebhookEnqueue {
  const listEndpoints = database.prepare(
    `SELECT ${WEBHOOK_ENDPOINT_LISTING_COLUMNS} FROM webhook_endpoints ORDER BY id`,
  );
  const selectDelivery = database.prepare("SELECT 1 FROM webhook_deliveries WHERE id = ?");
  const countPending = database.prepare(
    "SELECT count(*) AS count FROM webhook_deliveries WHERE state = 'pending'",
  );
  const insertDelivery = database.prepare(
    `INSERT INTO webhook_deliveries (id, endpoint_id, notification_id, event_type, body, state,
       attempts, next_attempt_at_ms, created_at_ms)
     VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?)`,
  );
  return (notification, body, nowMs, pendingMax) => {
    if (!database.inTransaction) throw new Error("an enqueue needs a write transaction");
    const endpoints = (listEndpoints.all() as WebhookEndpointRow[])
      .map(webhookEndpointOfRow)
      .filter((endpoint) => webhookEndpointWants(endpoint, notification.eventType));
    const deliveryIds = endpoints.map((endpoint) =>
      webhookDeliveryId(notification.id, endpoint.id),
    );
    const fresh = endpoints.filter(
      (_, index) => selectDelivery.get(deliveryIds[index]) === undefined,
    );
    if (pendingMax !== null) {
      const { count } = countPending.get() as { count: number };
      const full = outboxFullRefusal(count, fresh.length, pendingMax);
      if (full !== undefined) return full;
    }
    for (const endpoint of fresh) {
      insertDelivery.run(
        webhookDeliveryId(notification.id, endpoint.id),
        endpoint.id,
        notification.id,
        notification.eventType,
        body,
        nowMs,
        nowMs,
      );
    }
    return { ok: true, deliveryIds, added: fresh.length };
  };
}
