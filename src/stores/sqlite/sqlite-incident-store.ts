/**
 * The incident store in the control plane's SQLite file (`control.sqlite`, beside the audit log;
 * migration 5 of sqlite-control-schema.ts). Every write is one `BEGIN IMMEDIATE` transaction that
 * checks the incident's revision, appends the audit entry (the audit store's own step), writes
 * the incident and enqueues its webhook notifications (the outbox's own step), so writers of every process serialise on SQLite's write lock and a write is whole
 * or absent. WAL with `synchronous = FULL`: a write is on disk before it returns.
 */
import type BetterSqlite3 from "better-sqlite3";
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
import { prepareSqliteAuditAppend } from "./sqlite-audit-append.ts";
import { openControlDatabase } from "./sqlite-control-schema.ts";
import { prepareSqliteWebhookEnqueue } from "./sqlite-webhook-enqueue.ts";

export interface SqliteIncidentStoreOptions {
  /** The control database, `<data dir>/control.sqlite`; created with its folder if missing. */
  readonly path: string;
  /** How long a write waits for another process's transaction before it fails. */
  readonly busyTimeoutMs?: number;
  /** Stamps the migration records only. */
  readonly nowMs?: () => number;
}

export const SQLITE_INCIDENT_STORE_DEFAULTS = { busyTimeoutMs: 10_000 } as const;

interface StoredRow {
  revision: number;
  incident_json: string;
}

type WriteStep = (
  incident: Incident,
  expectedRevision: number,
  audit: AuditEntryInput,
  notifications: readonly PreparedIncidentNotification[],
) => IncidentWriteResult;

export class SqliteIncidentStore implements IncidentStore {
  private closed = false;
  private readonly statements: ReturnType<typeof prepareStatements>;
  private readonly writeInTransaction: WriteStep;

  private constructor(
    private readonly database: BetterSqlite3.Database,
    private readonly path: string,
    /** Migrations applied at open. */
    readonly migrationsApplied: readonly number[],
  ) {
    this.statements = prepareStatements(database);
    const appendAudit = prepareSqliteAuditAppend(database);
    // The outbox's tables are in this file (control migration 6): its step runs in our transaction.
    const enqueue = prepareSqliteWebhookEnqueue(database);
    const step = database.transaction<WriteStep>(
      (incident, expectedRevision, audit, notifications) => {
        const stored = this.statements.selectRevision.get(incident.id) as
          | { revision: number }
          | undefined;
        if ((stored?.revision ?? 0) !== expectedRevision) {
          return {
            ok: false,
            code: "concurrent_update",
            message: `${incident.id} changed meanwhile`,
          };
        }
        const refusal = refusalOf(audit);
        if (refusal !== undefined && !refusal.ok) {
          return {
            ok: false,
            code: "audit_refused",
            message: `${refusal.code}: ${refusal.message}`,
          };
        }
        // Nothing is written before this point, so a refusal above commits an empty transaction.
        appendAudit(audit);
        const revision = expectedRevision + 1;
        const json = JSON.stringify(incident);
        if (stored === undefined) {
          this.statements.insertIncident.run(incident.id, incident.state, revision, json);
        } else {
          this.statements.updateIncident.run(incident.state, revision, json, incident.id);
        }
        for (const { notification, body } of notifications) {
          // Unbounded (null): an incident's notification is never refused for a full outbox.
          const enqueued = enqueue(notification, body, incident.updatedAtMs, null);
          if (!enqueued.ok) throw new Error(`an unbounded enqueue refused: ${enqueued.message}`);
        }
        return { ok: true, revision };
      },
    );
    this.writeInTransaction = (...args) => step.immediate(...args);
  }

  static open(options: SqliteIncidentStoreOptions): SqliteIncidentStore {
    const { database, applied } = openControlDatabase(
      options.path,
      options.busyTimeoutMs ?? SQLITE_INCIDENT_STORE_DEFAULTS.busyTimeoutMs,
      options.nowMs ?? Date.now,
      (message) => new IncidentStoreError("open_failed", message),
    );
    return new SqliteIncidentStore(database, options.path, applied);
  }

  /** One statement under the write lock: no two connections get the same number. */
  async nextIncidentId(): Promise<string> {
    this.checkOpen();
    try {
      const row = this.statements.takeIncidentNumber.get() as { last: number };
      return incidentIdOf(row.last);
    } catch (error) {
      throw new IncidentStoreError("write_failed", messageOf(error));
    }
  }

  async getIncident(id: string): Promise<StoredIncident | undefined> {
    const row = this.read(() => this.statements.selectIncident.get(id) as StoredRow | undefined);
    return row === undefined
      ? undefined
      : { incident: incidentOfJson(row.incident_json), revision: row.revision };
  }

  async listIncidents(options: {
    readonly state?: IncidentState;
    readonly limit: number;
  }): Promise<readonly Incident[]> {
    const limit = incidentListLimitOf(options.limit);
    const rows = this.read(
      () =>
        (options.state === undefined
          ? this.statements.listNewest.all(limit)
          : this.statements.listNewestInState.all(options.state, limit)) as StoredRow[],
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
    try {
      return this.writeInTransaction(incident, expectedRevision, audit, prepared.prepared);
    } catch (error) {
      throw new IncidentStoreError("write_failed", messageOf(error));
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.database.close();
  }

  private read<T>(query: () => T): T {
    this.checkOpen();
    try {
      return query();
    } catch (error) {
      throw new IncidentStoreError("read_failed", messageOf(error));
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new IncidentStoreError("closed", `${this.path} is closed`);
  }
}

function prepareStatements(database: BetterSqlite3.Database) {
  const prepare = (sql: string) => database.prepare(sql);
  return {
    takeIncidentNumber: prepare(
      "UPDATE incident_id_counter SET last = last + 1 WHERE id = 1 RETURNING last",
    ),
    selectRevision: prepare("SELECT revision FROM incidents WHERE id = ?"),
    selectIncident: prepare("SELECT revision, incident_json FROM incidents WHERE id = ?"),
    listNewest: prepare(
      "SELECT revision, incident_json FROM incidents ORDER BY position DESC LIMIT ?",
    ),
    listNewestInState: prepare(
      "SELECT revision, incident_json FROM incidents WHERE state = ? ORDER BY position DESC LIMIT ?",
    ),
    // Position follows the first write; the write lock makes max + 1 safe.
    insertIncident: prepare(
      `INSERT INTO incidents (id, position, state, revision, incident_json)
       VALUES (?, (SELECT coalesce(max(position), 0) + 1 FROM incidents), ?, ?, ?)`,
    ),
    updateIncident: prepare(
      "UPDATE incidents SET state = ?, revision = ?, incident_json = ? WHERE id = ?",
    ),
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
