/**
 * The webhook outbox in the control plane's SQLite file (`control.sqlite`; migration 6 in
 * sqlite-control-schema.ts). Every write and every claim is one `BEGIN IMMEDIATE` transaction,
 * so processes sharing the file take turns on SQLite's write lock and no two claims take the
 * same delivery. WAL with `synchronous = FULL`: an enqueue is on disk before it returns.
 */
import type BetterSqlite3 from "better-sqlite3";
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
import { prepareSqliteAuditAppend } from "./sqlite-audit-append.ts";
import { openControlDatabase } from "./sqlite-control-schema.ts";
import {
  prepareSqliteWebhookEnqueue,
  type SqliteWebhookEnqueue,
} from "./sqlite-webhook-enqueue.ts";

export interface SqliteWebhookOutboxOptions {
  /** The control database, `<data dir>/control.sqlite`; created with its folder if missing. */
  readonly path: string;
  /** How long a write waits for another process's transaction before it fails. */
  readonly busyTimeoutMs?: number;
  /** Pending deliveries held at most; an enqueue past it is refused as `outbox_full`. */
  readonly pendingMax?: number;
  /** Stamps the migration records only. */
  readonly nowMs?: () => number;
}

export const SQLITE_WEBHOOK_OUTBOX_DEFAULTS = {
  busyTimeoutMs: 10_000,
  pendingMax: WEBHOOK_DELIVERY_LIMITS.pendingMax,
} as const;

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

export class SqliteWebhookOutbox implements WebhookOutbox {
  private closed = false;
  private readonly statements: ReturnType<typeof prepareStatements>;
  private readonly appendAudit: ReturnType<typeof prepareSqliteAuditAppend>;
  private readonly enqueueStep: SqliteWebhookEnqueue;

  private constructor(
    private readonly database: BetterSqlite3.Database,
    private readonly path: string,
    private readonly pendingMax: number,
    /** Migrations applied at open. */
    readonly migrationsApplied: readonly number[],
  ) {
    this.statements = prepareStatements(database);
    this.appendAudit = prepareSqliteAuditAppend(database);
    this.enqueueStep = prepareSqliteWebhookEnqueue(database);
  }

  static open(options: SqliteWebhookOutboxOptions): SqliteWebhookOutbox {
    const pendingMax = options.pendingMax ?? SQLITE_WEBHOOK_OUTBOX_DEFAULTS.pendingMax;
    if (!isWithin(pendingMax, 1, 10_000_000)) {
      throw new WebhookOutboxError("open_failed", `pendingMax ${pendingMax} is out of range`);
    }
    const { database, applied } = openControlDatabase(
      options.path,
      options.busyTimeoutMs ?? SQLITE_WEBHOOK_OUTBOX_DEFAULTS.busyTimeoutMs,
      options.nowMs ?? Date.now,
      (message) => new WebhookOutboxError("open_failed", message),
    );
    return new SqliteWebhookOutbox(database, options.path, pendingMax, applied);
  }

  async addEndpoint(
    endpoint: WebhookEndpoint,
    nowMs: number,
    audit: AuditEntryInput | undefined,
  ): Promise<WebhookEndpointWriteResult> {
    const problem = webhookEndpointProblem(endpoint);
    if (problem !== undefined) return { ok: false, code: problem.code, message: problem.message };
    return this.write((): WebhookEndpointWriteResult => {
      if (this.statements.selectEndpoint.get(endpoint.id) !== undefined) {
        return { ok: false, code: "endpoint_exists", message: `${endpoint.id} is configured` };
      }
      const { count } = this.statements.countEndpoints.get() as { count: number };
      if (count >= WEBHOOK_ENDPOINT_LIMITS.endpointsMax) {
        return { ok: false, code: "too_many_endpoints", message: `${count} configured` };
      }
      const refusal = auditRefusal(audit);
      if (refusal !== undefined) return refusal;
      this.statements.insertEndpoint.run(
        endpoint.id,
        endpoint.url,
        endpoint.secret,
        JSON.stringify(endpoint.eventTypes),
        endpoint.enabled ? 1 : 0,
        nowMs,
      );
      if (audit !== undefined) this.appendAudit(audit);
      return { ok: true };
    });
  }

  async removeEndpoint(
    id: string,
    nowMs: number,
    audit: AuditEntryInput | undefined,
  ): Promise<WebhookEndpointWriteResult> {
    return this.write((): WebhookEndpointWriteResult => {
      if (this.statements.selectEndpoint.get(id) === undefined) {
        return { ok: false, code: "endpoint_not_found", message: `${id} is not configured` };
      }
      const refusal = auditRefusal(audit);
      if (refusal !== undefined) return refusal;
      this.statements.deleteEndpoint.run(id);
      this.statements.killPendingOfEndpoint.run(nowMs, id);
      if (audit !== undefined) this.appendAudit(audit);
      return { ok: true };
    });
  }

  async setEndpointEnabled(
    id: string,
    enabled: boolean,
    audit: AuditEntryInput | undefined,
  ): Promise<WebhookEndpointWriteResult> {
    return this.write((): WebhookEndpointWriteResult => {
      if (this.statements.selectEndpoint.get(id) === undefined) {
        return { ok: false, code: "endpoint_not_found", message: `${id} is not configured` };
      }
      const refusal = auditRefusal(audit);
      if (refusal !== undefined) return refusal;
      this.statements.setEnabled.run(enabled ? 1 : 0, id);
      if (audit !== undefined) this.appendAudit(audit);
      return { ok: true };
    });
  }

  async listEndpoints(): Promise<readonly WebhookEndpointListing[]> {
    const rows = this.read(() => this.statements.listEndpoints.all() as WebhookEndpointRow[]);
    return rows.map(webhookEndpointOfRow);
  }

  async enqueue(notification: WebhookNotification, nowMs: number): Promise<WebhookEnqueueResult> {
    const prepared = prepareWebhookNotification(notification, nowMs);
    if (!prepared.ok) return prepared;
    return this.write(() => this.enqueueStep(notification, prepared.body, nowMs, this.pendingMax));
  }

  async claimDue(request: WebhookClaimRequest): Promise<readonly ClaimedWebhookDelivery[]> {
    const problem = claimRequestProblem(request);
    if (problem !== undefined) throw new WebhookOutboxError("read_failed", `bad claim: ${problem}`);
    return this.write(() => {
      this.statements.killExhausted.run(request.nowMs, request.nowMs, request.attemptsMax);
      const rows = this.statements.selectDue.all(request.nowMs, request.limit) as ClaimRow[];
      return rows.map((row): ClaimedWebhookDelivery => {
        const attempt = row.attempts + 1;
        this.statements.claim.run(
          attempt,
          request.claimToken,
          request.nowMs + request.claimMs,
          row.id,
        );
        this.statements.insertAttempt.run(row.id, attempt, request.nowMs);
        return {
          deliveryId: row.id,
          endpointId: row.endpoint_id,
          url: row.url,
          secret: row.secret,
          eventType: row.event_type,
          notificationId: row.notification_id,
          body: row.body,
          attempt,
          claimToken: request.claimToken,
        };
      });
    }, "read_failed");
  }

  async finishAttempt(outcome: WebhookAttemptOutcome): Promise<WebhookFinishResult> {
    const columns = webhookFinishColumns(outcome);
    return this.write((): WebhookFinishResult => {
      const changed = this.statements.finish.run(
        columns.state,
        columns.nextAttemptAtMs,
        outcome.code,
        outcome.status,
        columns.deadReason,
        columns.finishedAtMs,
        outcome.deliveryId,
        outcome.claimToken,
        outcome.attempt,
      ).changes;
      if (changed !== 1) {
        return {
          ok: false,
          code: "claim_lost",
          message: `${outcome.deliveryId} is no longer claimed`,
        };
      }
      this.statements.finishAttempt.run(
        outcome.finishedAtMs,
        outcome.code,
        outcome.status,
        outcome.deliveryId,
        outcome.attempt,
      );
      return { ok: true };
    });
  }

  async listDeliveries(filter: WebhookDeliveryFilter): Promise<readonly WebhookDeliveryListing[]> {
    const limit = webhookListLimitOf(filter.limit);
    const rows = this.read(
      () =>
        this.statements.listDeliveries.all({
          state: filter.state ?? null,
          endpoint: filter.endpointId ?? null,
          limit,
        }) as WebhookDeliveryRow[],
    );
    return rows.map(webhookDeliveryOfRow);
  }

  async attemptsOf(deliveryId: string): Promise<readonly WebhookAttemptListing[]> {
    const rows = this.read(() => this.statements.attemptsOf.all(deliveryId) as WebhookAttemptRow[]);
    return rows.map(webhookAttemptOfRow);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.database.close();
  }

  /** One `BEGIN IMMEDIATE` transaction; a refusal returned from it commits nothing written. */
  private write<T>(step: () => T, failure: "write_failed" | "read_failed" = "write_failed"): T {
    this.checkOpen();
    try {
      return this.database.transaction(step).immediate();
    } catch (error) {
      throw new WebhookOutboxError(failure, messageOf(error));
    }
  }

  private read<T>(query: () => T): T {
    this.checkOpen();
    try {
      return query();
    } catch (error) {
      throw new WebhookOutboxError("read_failed", messageOf(error));
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new WebhookOutboxError("closed", `${this.path} is closed`);
  }
}

function prepareStatements(database: BetterSqlite3.Database) {
  const prepare = (sql: string) => database.prepare(sql);
  return {
    selectEndpoint: prepare("SELECT 1 FROM webhook_endpoints WHERE id = ?"),
    countEndpoints: prepare("SELECT count(*) AS count FROM webhook_endpoints"),
    insertEndpoint: prepare(
      `INSERT INTO webhook_endpoints (id, url, secret, event_types_json, enabled, created_at_ms)
       VALUES (?, ?, ?, ?, ?, ?)`,
    ),
    deleteEndpoint: prepare("DELETE FROM webhook_endpoints WHERE id = ?"),
    killPendingOfEndpoint: prepare(
      `UPDATE webhook_deliveries SET state = 'dead', dead_reason = 'endpoint_removed',
         claim_token = NULL, next_attempt_at_ms = NULL, finished_at_ms = ?
       WHERE endpoint_id = ? AND state = 'pending'`,
    ),
    setEnabled: prepare("UPDATE webhook_endpoints SET enabled = ? WHERE id = ?"),
    listEndpoints: prepare(
      `SELECT ${WEBHOOK_ENDPOINT_LISTING_COLUMNS} FROM webhook_endpoints ORDER BY id`,
    ),
    // A due delivery whose claims took every attempt: its last dispatcher never recorded it.
    killExhausted: prepare(
      `UPDATE webhook_deliveries SET state = 'dead', dead_reason = 'claim_expired',
         claim_token = NULL, next_attempt_at_ms = NULL, finished_at_ms = ?
       WHERE state = 'pending' AND next_attempt_at_ms <= ? AND attempts >= ?
         AND endpoint_id IN (SELECT id FROM webhook_endpoints WHERE enabled = 1)`,
    ),
    selectDue: prepare(
      `SELECT delivery.id, delivery.endpoint_id, endpoint.url, endpoint.secret, delivery.event_type,
         delivery.notification_id, delivery.body, delivery.attempts
       FROM webhook_deliveries AS delivery
       JOIN webhook_endpoints AS endpoint ON endpoint.id = delivery.endpoint_id
       WHERE delivery.state = 'pending' AND delivery.next_attempt_at_ms <= ? AND endpoint.enabled = 1
       ORDER BY delivery.next_attempt_at_ms, delivery.position LIMIT ?`,
    ),
    claim: prepare(
      "UPDATE webhook_deliveries SET attempts = ?, claim_token = ?, next_attempt_at_ms = ? WHERE id = ?",
    ),
    insertAttempt: prepare(
      "INSERT INTO webhook_attempts (delivery_id, attempt, started_at_ms) VALUES (?, ?, ?)",
    ),
    finish: prepare(
      `UPDATE webhook_deliveries SET state = ?, next_attempt_at_ms = ?, claim_token = NULL,
         last_attempt_code = ?, last_status = ?, dead_reason = ?, finished_at_ms = ?
       WHERE id = ? AND claim_token = ? AND attempts = ? AND state = 'pending'`,
    ),
    finishAttempt: prepare(
      `UPDATE webhook_attempts SET finished_at_ms = ?, code = ?, status = ?
       WHERE delivery_id = ? AND attempt = ?`,
    ),
    listDeliveries: prepare(
      `SELECT ${WEBHOOK_DELIVERY_LISTING_COLUMNS} FROM webhook_deliveries
       WHERE (@state IS NULL OR state = @state) AND (@endpoint IS NULL OR endpoint_id = @endpoint)
       ORDER BY position DESC LIMIT @limit`,
    ),
    attemptsOf: prepare(
      `SELECT ${WEBHOOK_ATTEMPT_COLUMNS} FROM webhook_attempts WHERE delivery_id = ? ORDER BY attempt`,
    ),
  };
}

function auditRefusal(audit: AuditEntryInput | undefined): WebhookEndpointWriteResult | undefined {
  const refusal = audit === undefined ? undefined : refusalOf(audit);
  return refusal === undefined || refusal.ok
    ? undefined
    : { ok: false, code: "audit_refused", message: `${refusal.code}: ${refusal.message}` };
}

function isWithin(value: number, minimum: number, maximum: number): boolean {
  return Number.isSafeInteger(value) && value >= minimum && value <= maximum;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
