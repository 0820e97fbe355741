/**
 * The webhook outbox on PostgreSQL, beside the control tables in the ledger's schema (migration
 * 6 in postgres-control-schema.ts), shared by any number of processes. A claim is one statement
 * that picks due rows `FOR UPDATE SKIP LOCKED`, so two dispatchers claiming at once take
 * different deliveries and neither waits for the other, and moves each row's due time to its
 * claim's expiry, so nobody else sees it as due until then. Every write returns after COMMIT.
 */

import type pg from "pg";
import { refusalOf } from "../../control/audit-log.ts";
import type { AuditEntryInput } from "../../core/audit/audit-entry.ts";
import {
  WEBHOOK_DELIVERY_LIMITS,
  type WebhookNotification,
} from "../../core/guard/webhook-delivery.ts";
import {
  WEBHOOK_ENDPOINT_LIMITS,
  type WebhookEndpoint,
  type WebhookEndpointListing,
  webhookEndpointProblem,
} from "../../core/guard/webhook-endpoint.ts";
import {
  type ClaimedWebhookDelivery,
  claimRequestProblem,
  prepareWebhookNotification,
  type WebhookAttemptListing,
  type WebhookAttemptOutcome,
  type WebhookClaimRequest,
  type WebhookDeliveryFilter,
  type WebhookDeliveryListing,
  type WebhookEndpointWriteResult,
  type WebhookEnqueueResult,
  type WebhookFinishResult,
  type WebhookOutbox,
  WebhookOutboxError,
  webhookListLimitOf,
} from "../../guard/webhook-outbox.ts";
import {
  WEBHOOK_ATTEMPT_COLUMNS,
  WEBHOOK_DELIVERY_LISTING_COLUMNS,
  WEBHOOK_ENDPOINT_LISTING_COLUMNS,
  type WebhookAttemptRow,
  type WebhookDeliveryRow,
  type WebhookEndpointRow,
  webhookAttemptOfRow,
  webhookDeliveryOfRow,
  webhookEndpointOfRow,
  webhookFinishColumns,
} from "../webhook-rows.ts";
import { appendPostgresAuditEntry } from "./postgres-audit-append.ts";
import {
  CONTROL_POOL_OPTION_RANGES,
  openControlPool,
  resolveOptions,
} from "./postgres-control-pool.ts";
import { POSTGRES_SCHEMA_NAME } from "./postgres-int8.ts";
import { listenForLostConnection } from "./postgres-lost-connection.ts";
import { enqueuePostgresWebhook } from "./postgres-webhook-enqueue.ts";

export interface PostgresWebhookOutboxOptions {
  /** `postgres://user:password@host:port/database`. */
  readonly url: string;
  /** The schema holding the control tables (created if missing), the ledger's by default. */
  readonly schema?: string;
  readonly connectionsMax?: number;
  readonly connectTimeoutMs?: number;
  /** How long one statement may take, waiting for a row lock included. */
  readonly queryTimeoutMs?: number;
  /** Pending deliveries held at most; an enqueue past it is refused as `outbox_full`. */
  readonly pendingMax?: number;
  /** Stamps the migration records only. */
  readonly nowMs?: () => number;
}

export const POSTGRES_WEBHOOK_OUTBOX_DEFAULTS = {
  schema: "bursar",
  connectionsMax: 4,
  connectTimeoutMs: 5_000,
  queryTimeoutMs: 30_000,
  pendingMax: WEBHOOK_DELIVERY_LIMITS.pendingMax,
} as const;

const OPTION_RANGES = { ...CONTROL_POOL_OPTION_RANGES, pendingMax: [1, 10_000_000] } as const;

interface ClaimRow {
  id: string;
  endpoint_id: string;
  url: string;
  secret: string;
  event_type: string;
  notification_id: string;
  body: string;
  attempts: number;
}

export class PostgresWebhookOutbox implements WebhookOutbox {
  private closed = false;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly pendingMax: number,
    /** Migrations applied at open. */
    readonly migrationsApplied: readonly number[],
  ) {}

  static async open(options: PostgresWebhookOutboxOptions): Promise<PostgresWebhookOutbox> {
    const schema = options.schema ?? POSTGRES_WEBHOOK_OUTBOX_DEFAULTS.schema;
    if (!POSTGRES_SCHEMA_NAME.test(schema)) {
      throw new WebhookOutboxError(
        "open_failed",
        `schema ${schema} is not a plain lower-case name`,
      );
    }
    const fail = (message: string) => new WebhookOutboxError("open_failed", message);
    const { pendingMax, ...resolved } = resolveOptions(
      OPTION_RANGES,
      options,
      POSTGRES_WEBHOOK_OUTBOX_DEFAULTS,
      fail,
    );
    const { pool, applied } = await openControlPool(
      { url: options.url, schema, ...resolved, applicationName: "bursar-webhooks" },
      options.nowMs ?? Date.now,
      fail,
    );
    return new PostgresWebhookOutbox(pool, pendingMax, applied);
  }

  async addEndpoint(
    endpoint: WebhookEndpoint,
    nowMs: number,
    audit: AuditEntryInput | undefined,
  ): Promise<WebhookEndpointWriteResult> {
    const problem = webhookEndpointProblem(endpoint);
    if (problem !== undefined) return { ok: false, code: problem.code, message: problem.message };
    const refusal = auditRefusal(audit);
    if (refusal !== undefined) return refusal;
    return this.transaction(async (client): Promise<WebhookEndpointWriteResult> => {
      // The audit head's lock serialises endpoint writers, so the count below cannot be raced.
      await client.query("SELECT 1 FROM audit_head WHERE id = 1 FOR UPDATE");
      const { rows } = await client.query<{ count: number }>(
        "SELECT count(*) AS count FROM webhook_endpoints",
      );
      if (rows[0]!.count >= WEBHOOK_ENDPOINT_LIMITS.endpointsMax) {
        return { ok: false, code: "too_many_endpoints", message: `${rows[0]!.count} configured` };
      }
      const inserted = await client.query(
        `INSERT INTO webhook_endpoints (id, url, secret, event_types_json, enabled, created_at_ms)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING`,
        [
          endpoint.id,
          endpoint.url,
          endpoint.secret,
          JSON.stringify(endpoint.eventTypes),
          endpoint.enabled,
          nowMs,
        ],
      );
      if (inserted.rowCount !== 1) {
        return { ok: false, code: "endpoint_exists", message: `${endpoint.id} is configured` };
      }
      if (audit !== undefined) await appendPostgresAuditEntry(client, audit);
      return { ok: true };
    });
  }

  async removeEndpoint(
    id: string,
    nowMs: number,
    audit: AuditEntryInput | undefined,
  ): Promise<WebhookEndpointWriteResult> {
    const refusal = auditRefusal(audit);
    if (refusal !== undefined) return refusal;
    return this.transaction(async (client): Promise<WebhookEndpointWriteResult> => {
      const deleted = await client.query("DELETE FROM webhook_endpoints WHERE id = $1", [id]);
      if (deleted.rowCount !== 1) {
        return { ok: false, code: "endpoint_not_found", message: `${id} is not configured` };
      }
      await client.query(
        `UPDATE webhook_deliveries SET state = 'dead', dead_reason = 'endpoint_removed',
           claim_token = NULL, next_attempt_at_ms = NULL, finished_at_ms = $1
         WHERE endpoint_id = $2 AND state = 'pending'`,
        [nowMs, id],
      );
      if (audit !== undefined) await appendPostgresAuditEntry(client, audit);
      return { ok: true };
    });
  }

  async setEndpointEnabled(
    id: string,
    enabled: boolean,
    audit: AuditEntryInput | undefined,
  ): Promise<WebhookEndpointWriteResult> {
    const refusal = auditRefusal(audit);
    if (refusal !== undefined) return refusal;
    return this.transaction(async (client): Promise<WebhookEndpointWriteResult> => {
      const updated = await client.query(
        "UPDATE webhook_endpoints SET enabled = $1 WHERE id = $2",
        [enabled, id],
      );
      if (updated.rowCount !== 1) {
        return { ok: false, code: "endpoint_not_found", message: `${id} is not configured` };
      }
      if (audit !== undefined) await appendPostgresAuditEntry(client, audit);
      return { ok: true };
    });
  }

  async listEndpoints(): Promise<readonly WebhookEndpointListing[]> {
    const rows = await this.read<WebhookEndpointRow>(
      `SELECT ${WEBHOOK_ENDPOINT_LISTING_COLUMNS} FROM webhook_endpoints ORDER BY id COLLATE "C"`,
    );
    return rows.map(webhookEndpointOfRow);
  }

  async enqueue(notification: WebhookNotification, nowMs: number): Promise<WebhookEnqueueResult> {
    const prepared = prepareWebhookNotification(notification, nowMs);
    if (!prepared.ok) return prepared;
    return this.transaction((client) =>
      enqueuePostgresWebhook(client, notification, prepared.body, nowMs, this.pendingMax),
    );
  }

  async claimDue(request: WebhookClaimRequest): Promise<readonly ClaimedWebhookDelivery[]> {
    const problem = claimRequestProblem(request);
    if (problem !== undefined) throw new WebhookOutboxError("read_failed", `bad claim: ${problem}`);
    return this.transaction(async (client) => {
      // Rows another claim holds are skipped, here and below: claims never wait on each other.
      await client.query(
        `UPDATE webhook_deliveries SET state = 'dead', dead_reason = 'claim_expired',
           claim_token = NULL, next_attempt_at_ms = NULL, finished_at_ms = $1
         WHERE id IN (
           SELECT delivery.id FROM webhook_deliveries AS delivery
           JOIN webhook_endpoints AS endpoint ON endpoint.id = delivery.endpoint_id
           WHERE delivery.state = 'pending' AND delivery.next_attempt_at_ms <= $1
             AND delivery.attempts >= $2 AND endpoint.enabled
           FOR UPDATE OF delivery SKIP LOCKED
         )`,
        [request.nowMs, request.attemptsMax],
      );
      const { rows } = await client.query<ClaimRow>(
        `WITH due AS (
           SELECT delivery.id, delivery.next_attempt_at_ms AS due_at_ms, delivery.position
           FROM webhook_deliveries AS delivery
           JOIN webhook_endpoints AS endpoint ON endpoint.id = delivery.endpoint_id
           WHERE delivery.state = 'pending' AND delivery.next_attempt_at_ms <= $1 AND endpoint.enabled
           ORDER BY delivery.next_attempt_at_ms, delivery.position
           LIMIT $2
           FOR UPDATE OF delivery SKIP LOCKED
         ), claimed AS (
           UPDATE webhook_deliveries AS delivery
           SET attempts = delivery.attempts + 1, claim_token = $3, next_attempt_at_ms = $4
           FROM due WHERE delivery.id = due.id
           RETURNING delivery.id, delivery.endpoint_id, delivery.event_type,
             delivery.notification_id, delivery.body, delivery.attempts
         ), started AS (
           INSERT INTO webhook_attempts (delivery_id, attempt, started_at_ms)
           SELECT id, attempts, $1 FROM claimed
         )
         SELECT claimed.*, endpoint.url, endpoint.secret
         FROM claimed
         JOIN due ON due.id = claimed.id
         JOIN webhook_endpoints AS endpoint ON endpoint.id = claimed.endpoint_id
         ORDER BY due.due_at_ms, due.position`,
        [request.nowMs, request.limit, request.claimToken, request.nowMs + request.claimMs],
      );
      return rows.map(
        (row): ClaimedWebhookDelivery => ({
          deliveryId: row.id,
          endpointId: row.endpoint_id,
          url: row.url,
          secret: row.secret,
          eventType: row.event_type,
          notificationId: row.notification_id,
          body: row.body,
          attempt: row.attempts,
          claimToken: request.claimToken,
        }),
      );
    }, "read_failed");
  }

  async finishAttempt(outcome: WebhookAttemptOutcome): Promise<WebhookFinishResult> {
    const columns = webhookFinishColumns(outcome);
    return this.transaction(async (client): Promise<WebhookFinishResult> => {
      const updated = await client.query(
        `UPDATE webhook_deliveries SET state = $1, next_attempt_at_ms = $2, claim_token = NULL,
           last_attempt_code = $3, last_status = $4, dead_reason = $5, finished_at_ms = $6
         WHERE id = $7 AND claim_token = $8 AND attempts = $9 AND state = 'pending'`,
        [
          columns.state,
          columns.nextAttemptAtMs,
          outcome.code,
          outcome.status,
          columns.deadReason,
          columns.finishedAtMs,
          outcome.deliveryId,
          outcome.claimToken,
          outcome.attempt,
        ],
      );
      if (updated.rowCount !== 1) {
        return {
          ok: false,
          code: "claim_lost",
          message: `${outcome.deliveryId} is no longer claimed`,
        };
      }
      await client.query(
        `UPDATE webhook_attempts SET finished_at_ms = $1, code = $2, status = $3
         WHERE delivery_id = $4 AND attempt = $5`,
        [outcome.finishedAtMs, outcome.code, outcome.status, outcome.deliveryId, outcome.attempt],
      );
      return { ok: true };
    });
  }

  async listDeliveries(filter: WebhookDeliveryFilter): Promise<readonly WebhookDeliveryListing[]> {
    const rows = await this.read<WebhookDeliveryRow>(
      `SELECT ${WEBHOOK_DELIVERY_LISTING_COLUMNS} FROM webhook_deliveries
       WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR endpoint_id = $2)
       ORDER BY position DESC LIMIT $3`,
      [filter.state ?? null, filter.endpointId ?? null, webhookListLimitOf(filter.limit)],
    );
    return rows.map(webhookDeliveryOfRow);
  }

  async attemptsOf(deliveryId: string): Promise<readonly WebhookAttemptListing[]> {
    const rows = await this.read<WebhookAttemptRow>(
      `SELECT ${WEBHOOK_ATTEMPT_COLUMNS} FROM webhook_attempts WHERE delivery_id = $1 ORDER BY attempt`,
      [deliveryId],
    );
    return rows.map(webhookAttemptOfRow);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  /** One transaction; a refusal the step returns rolls back whatever it did before it. */
  private async transaction<T extends { ok: boolean } | readonly unknown[]>(
    step: (client: pg.PoolClient) => Promise<T>,
    failure: "write_failed" | "read_failed" = "write_failed",
  ): Promise<T> {
    this.checkOpen();
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw new WebhookOutboxError(failure, messageOf(error));
    }
    const stopListening = listenForLostConnection(client);
    let broken: Error | undefined;
    try {
      await client.query("BEGIN");
      const result = await step(client);
      const refused = !Array.isArray(result) && (result as { ok: boolean }).ok === false;
      await client.query(refused ? "ROLLBACK" : "COMMIT");
      return result;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      broken = error instanceof Error ? error : new Error(String(error));
      throw new WebhookOutboxError(failure, messageOf(error));
    } finally {
      stopListening();
      // A connection whose transaction failed is not trusted again.
      client.release(broken);
    }
  }

  private async read<Row extends pg.QueryResultRow>(
    sql: string,
    values: readonly unknown[] = [],
  ): Promise<Row[]> {
    this.checkOpen();
    try {
      return (await this.pool.query<Row>(sql, [...values])).rows;
    } catch (error) {
      throw new WebhookOutboxError("read_failed", messageOf(error));
    }
  }

  private checkOpen(): void {
    if (this.closed)
      throw new WebhookOutboxError("closed", "the PostgreSQL webhook outbox is closed");
  }
}

function auditRefusal(audit: AuditEntryInput | undefined): WebhookEndpointWriteResult | undefined {
  const refusal = audit === undefined ? undefined : refusalOf(audit);
  return refusal === undefined || refusal.ok
    ? undefined
    : { ok: false, code: "audit_refused", message: `${refusal.code}: ${refusal.message}` };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
