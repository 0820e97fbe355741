/**
 * The incident store on PostgreSQL, beside the audit log in the ledger's schema (migration 5 of
 * postgres-control-schema.ts), shared by any number of processes. Each write is one transaction
 * that takes its locks in one order — the incident's row (`SELECT … FOR UPDATE`, or the insert of
 * a new one), the webhook deliveries it notifies, the audit log's head last — so writers never
 * deadlock, and a write is whole or absent. It returns after COMMIT.
 */

import type pg from "pg";
import { refusalOf } from "../../control/audit-log.ts";
import type { AuditEntryInput } from "../../core/audit/audit-entry.ts";
import type { Incident } from "../../core/guard/incident.ts";
import type { IncidentState } from "../../core/guard/incident-lifecycle.ts";
import type { WebhookNotification } from "../../core/guard/webhook-delivery.ts";
import {
  type IncidentStore,
  IncidentStoreError,
  type IncidentWriteResult,
  incidentIdOf,
  incidentListLimitOf,
  incidentOfJson,
  type PreparedIncidentNotification,
  prepareIncidentNotifications,
  type StoredIncident,
} from "../../guard/incident-store.ts";
import { appendPostgresAuditEntry } from "./postgres-audit-append.ts";
import {
  CONTROL_POOL_OPTION_RANGES,
  openControlPool,
  resolveOptions,
} from "./postgres-control-pool.ts";
import { POSTGRES_SCHEMA_NAME } from "./postgres-int8.ts";
import { listenForLostConnection } from "./postgres-lost-connection.ts";
import { enqueuePostgresWebhook } from "./postgres-webhook-enqueue.ts";

export interface PostgresIncidentStoreOptions {
  /** `postgres://user:password@host:port/database`. */
  readonly url: string;
  /** The schema holding the control tables (created if missing), the ledger's by default. */
  readonly schema?: string;
  /** Connections this process holds; calls beyond them wait for one. */
  readonly connectionsMax?: number;
  readonly connectTimeoutMs?: number;
  /** How long one statement may take, waiting for a row lock included. */
  readonly queryTimeoutMs?: number;
  /** Stamps the migration records only. */
  readonly nowMs?: () => number;
}

export const POSTGRES_INCIDENT_STORE_DEFAULTS = {
  schema: "bursar",
  connectionsMax: 2,
  connectTimeoutMs: 5_000,
  queryTimeoutMs: 30_000,
} as const;

/** PostgreSQL's code for a unique key taken by another transaction. */
const UNIQUE_VIOLATION = "23505";

interface StoredRow {
  revision: number;
  incident_json: string;
}

export class PostgresIncidentStore implements IncidentStore {
  private closed = false;

  private constructor(
    private readonly pool: pg.Pool,
    /** Migrations applied at open. */
    readonly migrationsApplied: readonly number[],
  ) {}

  static async open(options: PostgresIncidentStoreOptions): Promise<PostgresIncidentStore> {
    const schema = options.schema ?? POSTGRES_INCIDENT_STORE_DEFAULTS.schema;
    if (!POSTGRES_SCHEMA_NAME.test(schema)) {
      throw new IncidentStoreError(
        "open_failed",
        `schema ${schema} is not a plain lower-case name`,
      );
    }
    const fail = (message: string) => new IncidentStoreError("open_failed", message);
    const resolved = resolveOptions(
      CONTROL_POOL_OPTION_RANGES,
      options,
      POSTGRES_INCIDENT_STORE_DEFAULTS,
      fail,
    );
    const { pool, applied } = await openControlPool(
      { url: options.url, schema, ...resolved, applicationName: "bursar-incidents" },
      options.nowMs ?? Date.now,
      fail,
    );
    return new PostgresIncidentStore(pool, applied);
  }

  /** A sequence: never the same number twice, even to a transaction that rolls back. */
  async nextIncidentId(): Promise<string> {
    this.checkOpen();
    try {
      const { rows } = await this.pool.query<{ number: number }>(
        "SELECT nextval('incident_id_sequence') AS number",
      );
      return incidentIdOf(rows[0]!.number);
    } catch (error) {
      throw new IncidentStoreError("write_failed", messageOf(error));
    }
  }

  async getIncident(id: string): Promise<StoredIncident | undefined> {
    const rows = await this.read<StoredRow>(
      "SELECT revision, incident_json FROM incidents WHERE id = $1",
      [id],
    );
    const row = rows[0];
    return row === undefined
      ? undefined
      : { incident: incidentOfJson(row.incident_json), revision: row.revision };
  }

  async listIncidents(options: {
    readonly state?: IncidentState;
    readonly limit: number;
  }): Promise<readonly Incident[]> {
    const limit = incidentListLimitOf(options.limit);
    const rows =
      options.state === undefined
        ? await this.read<StoredRow>(
            "SELECT revision, incident_json FROM incidents ORDER BY position DESC LIMIT $1",
            [limit],
          )
        : await this.read<StoredRow>(
            "SELECT revision, incident_json FROM incidents WHERE state = $1 ORDER BY position DESC LIMIT $2",
            [options.state, limit],
          );
    return rows.map((row) => incidentOfJson(row.incident_json));
  }

  async writeIncident(
    incident: Incident,
    expectedRevision: number,
    audit: AuditEntryInput,
    notifications: readonly WebhookNotification[] = [],
  ): Promise<IncidentWriteResult> {
    this.checkOpen();
    const prepared = prepareIncidentNotifications(notifications, incident.updatedAtMs);
    if (!prepared.ok) return prepared;
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw new IncidentStoreError("write_failed", messageOf(error));
    }
    const stopListening = listenForLostConnection(client);
    let broken: Error | undefined;
    try {
      await client.query("BEGIN");
      const result = await writeInTransaction(
        client,
        incident,
        expectedRevision,
        audit,
        prepared.prepared,
      );
      await client.query(result.ok ? "COMMIT" : "ROLLBACK");
      return result;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      if (codeOf(error) === UNIQUE_VIOLATION) {
        return { ok: false, code: "concurrent_update", message: messageOf(error) };
      }
      broken = error instanceof Error ? error : new Error(String(error));
      throw new IncidentStoreError("write_failed", messageOf(error));
    } finally {
      stopListening();
      // A connection whose transaction failed is not trusted again.
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  private async read<Row extends pg.QueryResultRow>(
    sql: string,
    values: readonly unknown[] = [],
  ): Promise<Row[]> {
    this.checkOpen();
    try {
      return (await this.pool.query<Row>(sql, [...values])).rows;
    } catch (error) {
      throw new IncidentStoreError("read_failed", messageOf(error));
    }
  }

  private checkOpen(): void {
    if (this.closed) {
      throw new IncidentStoreError("closed", "the PostgreSQL incident store is closed");
    }
  }
}

/** The write's statements, checks first; on a refusal the caller rolls back what came before. */
async function writeInTransaction(
  client: pg.PoolClient,
  incident: Incident,
  expectedRevision: number,
  audit: AuditEntryInput,
  notifications: readonly PreparedIncidentNotification[],
): Promise<IncidentWriteResult> {
  const revision = expectedRevision + 1;
  const json = JSON.stringify(incident);
  if (expectedRevision === 0) {
    // A new incident: the insert takes the id, or finds it taken (waiting for its writer's COMMIT).
    const inserted = await client.query(
      `INSERT INTO incidents (id, state, revision, incident_json) VALUES ($1, $2, $3, $4)
       ON CONFLICT (id) DO NOTHING`,
      [incident.id, incident.state, revision, json],
    );
    if (inserted.rowCount !== 1) return refused(`${incident.id} changed meanwhile`);
  } else {
    const { rows } = await client.query<{ revision: number }>(
      "SELECT revision FROM incidents WHERE id = $1 FOR UPDATE",
      [incident.id],
    );
    if (rows[0]?.revision !== expectedRevision) return refused(`${incident.id} changed meanwhile`);
  }
  const auditRefusal = refusalOf(audit);
  if (auditRefusal !== undefined && !auditRefusal.ok) {
    return {
      ok: false,
      code: "audit_refused",
      message: `${auditRefusal.code}: ${auditRefusal.message}`,
    };
  }
  if (expectedRevision !== 0) {
    await client.query(
      "UPDATE incidents SET state = $1, revision = $2, incident_json = $3 WHERE id = $4",
      [incident.state, revision, json, incident.id],
    );
  }
  // The outbox's tables are in this schema (control migration 6): its step runs in this transaction.
  for (const { notification, body } of notifications) {
    // Unbounded (null): an incident's notification is never refused for a full outbox.
    const enqueued = await enqueuePostgresWebhook(
      client,
      notification,
      body,
      incident.updatedAtMs,
      null,
    );
    if (!enqueued.ok) throw new Error(`an unbounded enqueue refused: ${enqueued.message}`);
  }
  // Last: the audit head's lock is then held only until COMMIT.
  await appendPostgresAuditEntry(client, audit);
  return { ok: true, revision };
}

function refused(message: string): IncidentWriteResult {
  return { ok: false, code: "concurrent_update", message };
}

function codeOf(error: unknown): unknown {
  return typeof error === "object" && error !== null && "code" in error ? error.code : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
