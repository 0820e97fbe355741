/**
 * The outbox's enqueue step on PostgreSQL, shared by the webhook outbox and the incident store, so
 * an incident's action and its notification commit in one transaction (as the audit append is
 * shared: postgres-audit-append.ts). The caller checks the notification and renders its body
 * (`prepareWebhookNotification`) first and runs the step inside its transaction.
 */
import type pg from "pg";
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
export async function enqueuePostgresWebhook(
  client: pg.PoolClient,
  notification: WebhookNotification,
  body: string,
  nowMs: number,
  pendingMax: number | null,
): Promise<WebhookEnqueueResult> {
  const { rows: endpointRows } = await client.query<WebhookEndpointRow>(
    `SELECT ${WEBHOOK_ENDPOINT_LISTING_COLUMNS} FROM webhook_endpoints ORDER BY id COLLATE "C"`,
  );
  const endpointIds = endpointRows
    .map(webhookEndpointOfRow)
    .filter((endpoint) => webhookEndpointWants(endpoint, notification.eventType))
    .map((endpoint) => endpoint.id);
  const deliveryIds = endpointIds.map((id) => webhookDeliveryId(notification.id, id));
  if (deliveryIds.length === 0) return { ok: true, deliveryIds, added: 0 };
  const { rows: existing } = await client.query<{ id: string }>(
    "SELECT id FROM webhook_deliveries WHERE id = ANY($1::text[])",
    [deliveryIds],
  );
  const known = new Set(existing.map((row) => row.id));
  const fresh = endpointIds.filter((_, index) => !known.has(deliveryIds[index]!));
  if (pendingMax !== null) {
    // Counted without a lock: enqueuers at once may pass the bound by a notification or two.
    const { rows: counted } = await client.query<{ count: number }>(
      "SELECT count(*) AS count FROM webhook_deliveries WHERE state = 'pending'",
    );
    const full = outboxFullRefusal(counted[0]!.count, fresh.length, pendingMax);
    if (full !== undefined) return full;
  }
  // A concurrent enqueue of the same notification inserts the same ids: one of each wins.
  const added = await client.query(
    `INSERT INTO webhook_deliveries (id, endpoint_id, notification_id, event_type, body, state,
       attempts, next_attempt_at_ms, created_at_ms)
     SELECT fresh.id, fresh.endpoint_id, $3, $4, $5, 'pending', 0, $6, $6
     FROM unnest($1::text[], $2::text[]) AS fresh (id, endpoint_id)
     ORDER BY fresh.endpoint_id COLLATE "C"
     ON CONFLICT (id) DO NOTHING`,
    [
      fresh.map((id) => webhookDeliveryId(notification.id, id)),
      fresh,
      notification.id,
      notification.eventType,
      body,
      nowMs,
    ],
  );
  return { ok: true, deliveryIds, added: added.rowCount ?? 0 };
}
