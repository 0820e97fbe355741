/**
 * The change store in the control plane's SQLite file (`control.sqlite`, beside the audit log;
 * sqlite-control-schema.ts). Several processes may open the file: every write is one
 * `BEGIN IMMEDIATE` transaction that checks the change's revision and the versions' numbers,
 * writes the versions, appends the audit entry (the audit store's own step) and writes the
 * change, so writers serialise on SQLite's write lock (waiting up to the busy timeout) and a
 * write is whole or absent. WAL with `synchronous = FULL`: a write is on disk before it returns.
 */
import type BetterSqlite3 from "better-sqlite3";
import { refusalOf } from "../../control/audit-log.ts";
import {
  CHANGE_LIST_LIMIT_MAX,
  type ChangeStore,
  type ChangeWriteResult,
  type DocumentVersionRecord,
  historyBoundOf,
  type StoredChange,
  VERSION_HISTORY_LIMIT_MAX,
  versionConflictOf,
} from "../../control/change-store.ts";
import { ChangeStoreError } from "../../control/change-store-error.ts";
import type { AuditEntryInput } from "../../core/audit/audit-entry.ts";
import type { ChangeRequest } from "../../core/change/change-request.ts";
import type { DocumentKey, DocumentVersion } from "../../core/change/document-versions.ts";
import {
  changeIdOf,
  changeOfJson,
  DOCUMENT_VERSION_COLUMNS,
  type DocumentVersionRecordRow,
  type DocumentVersionRow,
  documentVersionOfRow,
  documentVersionRecordOfRow,
  documentVersionRowValues,
  listLimitOf,
} from "../change-rows.ts";
import { prepareSqliteAuditAppend } from "./sqlite-audit-append.ts";
import { openControlDatabase } from "./sqlite-control-schema.ts";

export interface SqliteChangeStoreOptions {
  /** The control database, `<data dir>/control.sqlite`; created with its folder if missing. */
  readonly path: string;
  /** How long a write waits for another process's transaction before it fails. */
  readonly busyTimeoutMs?: number;
  /** Stamps the migration records only. */
  readonly nowMs?: () => number;
}

export const SQLITE_CHANGE_STORE_DEFAULTS = { busyTimeoutMs: 10_000 } as const;

interface StoredRow {
  revision: number;
  change_json: string;
}

type WriteStep = (
  change: ChangeRequest,
  expectedRevision: number,
  versions: readonly DocumentVersion[],
  audit: AuditEntryInput | undefined,
) => ChangeWriteResult;

export class SqliteChangeStore implements ChangeStore {
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
    const step = database.transaction<WriteStep>((change, expectedRevision, versions, audit) => {
      const stored = this.statements.selectRevision.get(change.id) as
        | { revision: number }
        | undefined;
      if ((stored?.revision ?? 0) !== expectedRevision) {
        return refused(`${change.id} changed meanwhile`);
      }
      if (change.state === "rolling_out") {
        const other = this.statements.selectOtherRollingOut.get(change.id) as
          | { id: string }
          | undefined;
        if (other !== undefined) return refused(`${other.id} is rolling out; one at a time`);
      }
      const latest = new Map<DocumentKey, number>();
      for (const version of versions) {
        if (latest.has(version.key)) continue;
        const row = this.statements.selectLatestNumber.get(version.key) as {
          version: number | null;
        };
        latest.set(version.key, row.version ?? 0);
      }
      const conflict = versionConflictOf(versions, (key) => latest.get(key) ?? 0);
      if (conflict !== undefined) return refused(`${conflict.key} changed meanwhile`);
      const refusal = audit === undefined ? undefined : refusalOf(audit);
      if (refusal !== undefined && !refusal.ok) {
        return { ok: false, code: "audit_refused", message: `${refusal.code}: ${refusal.message}` };
      }
      // Nothing is written before this point, so a refusal above commits an empty transaction.
      for (const version of versions) {
        this.statements.insertVersion.run(...documentVersionRowValues(version), change.updatedAt);
      }
      if (audit !== undefined) appendAudit(audit);
      const revision = expectedRevision + 1;
      const json = JSON.stringify(change);
      if (stored === undefined) {
        this.statements.insertChange.run(change.id, change.state, revision, json);
      } else {
        this.statements.updateChange.run(change.state, revision, json, change.id);
      }
      return { ok: true, revision };
    });
    this.writeInTransaction = (...args) => step.immediate(...args);
  }

  static open(options: SqliteChangeStoreOptions): SqliteChangeStore {
    const { database, applied } = openControlDatabase(
      options.path,
      options.busyTimeoutMs ?? SQLITE_CHANGE_STORE_DEFAULTS.busyTimeoutMs,
      options.nowMs ?? Date.now,
      (message) => new ChangeStoreError("open_failed", message),
    );
    return new SqliteChangeStore(database, options.path, applied);
  }

  /** One statement under the write lock: no two connections get the same number. */
  async nextChangeId(): Promise<string> {
    this.checkOpen();
    try {
      const row = this.statements.takeChangeNumber.get() as { last: number };
      return changeIdOf(row.last);
    } catch (error) {
      throw new ChangeStoreError("write_failed", messageOf(error));
    }
  }

  async getChange(id: string): Promise<StoredChange | undefined> {
    const row = this.read(() => this.statements.selectChange.get(id) as StoredRow | undefined);
    return row === undefined
      ? undefined
      : { change: changeOfJson(row.change_json), revision: row.revision };
  }

  async listChanges(options: {
    readonly state?: ChangeRequest["state"];
    readonly limit: number;
  }): Promise<readonly ChangeRequest[]> {
    const limit = listLimitOf(options.limit, CHANGE_LIST_LIMIT_MAX);
    const rows = this.read(
      () =>
        (options.state === undefined
          ? this.statements.listNewest.all(limit)
          : this.statements.listNewestInState.all(options.state, limit)) as StoredRow[],
    );
    return rows.map((row) => changeOfJson(row.change_json));
  }

  async writeChange(
    change: ChangeRequest,
    expectedRevision: number,
    versions: readonly DocumentVersion[],
    audit: AuditEntryInput | undefined,
  ): Promise<ChangeWriteResult> {
    this.checkOpen();
    try {
      return this.writeInTransaction(change, expectedRevision, versions, audit);
    } catch (error) {
      throw new ChangeStoreError("write_failed", messageOf(error));
    }
  }

  async latestVersion(key: DocumentKey): Promise<DocumentVersion | undefined> {
    const row = this.read(
      () => this.statements.selectLatest.get(key) as DocumentVersionRow | undefined,
    );
    return row === undefined ? undefined : documentVersionOfRow(row);
  }

  async version(key: DocumentKey, version: number): Promise<DocumentVersion | undefined> {
    const row = this.read(
      () => this.statements.selectVersion.get(key, version) as DocumentVersionRow | undefined,
    );
    return row === undefined ? undefined : documentVersionOfRow(row);
  }

  async latestVersions(): Promise<readonly DocumentVersion[]> {
    const rows = this.read(() => this.statements.selectLatestOfEach.all() as DocumentVersionRow[]);
    return rows.map(documentVersionOfRow);
  }

  async versionHistory(
    key: DocumentKey,
    options: { readonly beforeVersion?: number; readonly limit: number },
  ): Promise<readonly DocumentVersionRecord[]> {
    const limit = listLimitOf(options.limit, VERSION_HISTORY_LIMIT_MAX);
    const below = historyBoundOf(options.beforeVersion);
    const rows = this.read(
      () => this.statements.selectHistory.all(key, below, limit) as DocumentVersionRecordRow[],
    );
    return rows.map(documentVersionRecordOfRow);
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
      throw new ChangeStoreError("read_failed", messageOf(error));
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new ChangeStoreError("closed", `${this.path} is closed`);
  }
}

function prepareStatements(database: BetterSqlite3.Database) {
  const prepare = (sql: string) => database.prepare(sql);
  return {
    takeChangeNumber: prepare(
      "UPDATE change_id_counter SET last = last + 1 WHERE id = 1 RETURNING last",
    ),
    selectRevision: prepare("SELECT revision FROM change_requests WHERE id = ?"),
    selectChange: prepare("SELECT revision, change_json FROM change_requests WHERE id = ?"),
    listNewest: prepare(
      "SELECT revision, change_json FROM change_requests ORDER BY position DESC LIMIT ?",
    ),
    listNewestInState: prepare(
      "SELECT revision, change_json FROM change_requests WHERE state = ? ORDER BY position DESC LIMIT ?",
    ),
    // Position follows the first write; the write lock makes max + 1 safe.
    insertChange: prepare(
      `INSERT INTO change_requests (id, position, state, revision, change_json)
       VALUES (?, (SELECT coalesce(max(position), 0) + 1 FROM change_requests), ?, ?, ?)`,
    ),
    updateChange: prepare(
      "UPDATE change_requests SET state = ?, revision = ?, change_json = ? WHERE id = ?",
    ),
    selectLatestNumber: prepare(
      "SELECT max(version) AS version FROM document_versions WHERE key = ?",
    ),
    insertVersion: prepare(
      `INSERT INTO document_versions (${DOCUMENT_VERSION_COLUMNS}, written_at) VALUES (?, ?, ?, ?, ?, ?)`,
    ),
    selectOtherRollingOut: prepare(
      "SELECT id FROM change_requests WHERE state = 'rolling_out' AND id <> ? LIMIT 1",
    ),
    selectLatest: prepare(
      `SELECT ${DOCUMENT_VERSION_COLUMNS} FROM document_versions WHERE key = ? ORDER BY version DESC LIMIT 1`,
    ),
    // Newest first through the primary key (key, version).
    selectHistory: prepare(
      `SELECT ${DOCUMENT_VERSION_COLUMNS}, written_at FROM document_versions
       WHERE key = ? AND version < ? ORDER BY version DESC LIMIT ?`,
    ),
    selectVersion: prepare(
      `SELECT ${DOCUMENT_VERSION_COLUMNS} FROM document_versions WHERE key = ? AND version = ?`,
    ),
    // One row per key, found through the primary key (key, version).
    selectLatestOfEach: prepare(
      `SELECT ${DOCUMENT_VERSION_COLUMNS} FROM document_versions AS outer_version
       WHERE version = (SELECT max(version) FROM document_versions WHERE key = outer_version.key)
       ORDER BY key`,
    ),
  };
}

function refused(message: string): ChangeWriteResult {
  return { ok: false, code: "concurrent_update", message };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
