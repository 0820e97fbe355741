/**
 * The change store on PostgreSQL, beside the audit log in the ledger's schema, shared by any
 * number of processes. Each write is one transaction that takes its locks in one order — the
 * change's row (`SELECT … FOR UPDATE`, or the insert of a new one), the versions' keys in key
 * order, the audit log's head last — so writers never deadlock, and a write is whole or absent.
 * A version number or a new change id taken by a concurrent writer shows as a conflict on the
 * primary key, answered as `concurrent_update`. A write returns after COMMIT.
 */

import type pg from "pg";
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
import { appendPostgresAuditEntry } from "./postgres-audit-append.ts";
import {
  CONTROL_POOL_OPTION_RANGES,
  openControlPool,
  resolveOptions,
} from "./postgres-control-pool.ts";
import { POSTGRES_SCHEMA_NAME } from "./postgres-int8.ts";
import { listenForLostConnection } from "./postgres-lost-connection.ts";

export interface PostgresChangeStoreOptions {
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

export const POSTGRES_CHANGE_STORE_DEFAULTS = {
  schema: "bursar",
  connectionsMax: 4,
  connectTimeoutMs: 5_000,
  queryTimeoutMs: 30_000,
} as const;

/** PostgreSQL's code for a unique key taken by another transaction. */
const UNIQUE_VIOLATION = "23505";

interface StoredRow {
  revision: number;
  change_json: string;
}

export class PostgresChangeStore implements ChangeStore {
  private closed = false;

  private constructor(
    private readonly pool: pg.Pool,
    /** Migrations applied at open. */
    readonly migrationsApplied: readonly number[],
  ) {}

  static async open(options: PostgresChangeStoreOptions): Promise<PostgresChangeStore> {
    const schema = options.schema ?? POSTGRES_CHANGE_STORE_DEFAULTS.schema;
    if (!POSTGRES_SCHEMA_NAME.test(schema)) {
      throw new ChangeStoreError("open_failed", `schema ${schema} is not a plain lower-case name`);
    }
    const fail = (message: string) => new ChangeStoreError("open_failed", message);
    const resolved = resolveOptions(
      CONTROL_POOL_OPTION_RANGES,
      options,
      POSTGRES_CHANGE_STORE_DEFAULTS,
      fail,
    );
    const { pool, applied } = await openControlPool(
      { url: options.url, schema, ...resolved, applicationName: "bursar-changes" },
      options.nowMs ?? Date.now,
      fail,
    );
    return new PostgresChangeStore(pool, applied);
  }

  /** A sequence: never the same number twice, even to a transaction that rolls back. */
  async nextChangeId(): Promise<string> {
    this.checkOpen();
    try {
      const { rows } = await this.pool.query<{ number: number }>(
        "SELECT nextval('change_id_sequence') AS number",
      );
      return changeIdOf(rows[0]!.number);
    } catch (error) {
      throw new ChangeStoreError("write_failed", messageOf(error));
    }
  }

  async getChange(id: string): Promise<StoredChange | undefined> {
    const rows = await this.read<StoredRow>(
      "SELECT revision, change_json FROM change_requests WHERE id = $1",
      [id],
    );
    const row = rows[0];
    return row === undefined
      ? undefined
      : { change: changeOfJson(row.change_json), revision: row.revision };
  }

  async listChanges(options: {
    readonly state?: ChangeRequest["state"];
    readonly limit: number;
  }): Promise<readonly ChangeRequest[]> {
    const limit = listLimitOf(options.limit, CHANGE_LIST_LIMIT_MAX);
    const rows =
      options.state === undefined
        ? await this.read<StoredRow>(
            "SELECT revision, change_json FROM change_requests ORDER BY position DESC LIMIT $1",
            [limit],
          )
        : await this.read<StoredRow>(
            "SELECT revision, change_json FROM change_requests WHERE state = $1 ORDER BY position DESC LIMIT $2",
            [options.state, limit],
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
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw new ChangeStoreError("write_failed", messageOf(error));
    }
    const stopListening = listenForLostConnection(client);
    let broken: Error | undefined;
    try {
      await client.query("BEGIN");
      const result = await writeInTransaction(client, change, expectedRevision, versions, audit);
      await client.query(result.ok ? "COMMIT" : "ROLLBACK");
      return result;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      if (codeOf(error) === UNIQUE_VIOLATION) {
        return { ok: false, code: "concurrent_update", message: messageOf(error) };
      }
      broken = error instanceof Error ? error : new Error(String(error));
      throw new ChangeStoreError("write_failed", messageOf(error));
    } finally {
      stopListening();
      // A connection whose transaction failed is not trusted again.
      client.release(broken);
    }
  }

  async latestVersion(key: DocumentKey): Promise<DocumentVersion | undefined> {
    const rows = await this.read<DocumentVersionRow>(
      `SELECT ${DOCUMENT_VERSION_COLUMNS} FROM document_versions WHERE key = $1 ORDER BY version DESC LIMIT 1`,
      [key],
    );
    return rows[0] === undefined ? undefined : documentVersionOfRow(rows[0]);
  }

  async version(key: DocumentKey, version: number): Promise<DocumentVersion | undefined> {
    if (!Number.isSafeInteger(version)) return undefined;
    const rows = await this.read<DocumentVersionRow>(
      `SELECT ${DOCUMENT_VERSION_COLUMNS} FROM document_versions WHERE key = $1 AND version = $2`,
      [key, version],
    );
    return rows[0] === undefined ? undefined : documentVersionOfRow(rows[0]);
  }

  /** Keys in byte order (as SQLite sorts them), whatever the database's collation. */
  async latestVersions(): Promise<readonly DocumentVersion[]> {
    const rows = await this.read<DocumentVersionRow>(
      `SELECT ${DOCUMENT_VERSION_COLUMNS} FROM (
         SELECT DISTINCT ON (key) ${DOCUMENT_VERSION_COLUMNS} FROM document_versions
         ORDER BY key, version DESC
       ) AS latest ORDER BY key COLLATE "C"`,
    );
    return rows.map(documentVersionOfRow);
  }

  async versionHistory(
    key: DocumentKey,
    options: { readonly beforeVersion?: number; readonly limit: number },
  ): Promise<readonly DocumentVersionRecord[]> {
    const limit = listLimitOf(options.limit, VERSION_HISTORY_LIMIT_MAX);
    const below = historyBoundOf(options.beforeVersion);
    const rows = await this.read<DocumentVersionRecordRow>(
      `SELECT ${DOCUMENT_VERSION_COLUMNS}, written_at FROM document_versions
       WHERE key = $1 AND version < $2 ORDER BY version DESC LIMIT $3`,
      [key, below, limit],
    );
    return rows.map(documentVersionRecordOfRow);
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
      throw new ChangeStoreError("read_failed", messageOf(error));
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new ChangeStoreError("closed", "the PostgreSQL change store is closed");
  }
}

/**
 * The write's statements, checks first: the change's revision under its row lock, the versions'
 * numbers, the audit input. On a refusal the caller rolls back what was done before it.
 */
async function writeInTransaction(
  client: pg.PoolClient,
  change: ChangeRequest,
  expectedRevision: number,
  versions: readonly DocumentVersion[],
  audit: AuditEntryInput | undefined,
): Promise<ChangeWriteResult> {
  const revision = expectedRevision + 1;
  const json = JSON.stringify(change);
  if (expectedRevision === 0) {
    // A new change: the insert takes the id, or finds it taken (waiting for its writer's COMMIT).
    const inserted = await client.query(
      `INSERT INTO change_requests (id, state, revision, change_json) VALUES ($1, $2, $3, $4)
       ON CONFLICT (id) DO NOTHING`,
      [change.id, change.state, revision, json],
    );
    if (inserted.rowCount !== 1) return refused(`${change.id} changed meanwhile`);
  } else {
    const { rows } = await client.query<{ revision: number }>(
      "SELECT revision FROM change_requests WHERE id = $1 FOR UPDATE",
      [change.id],
    );
    if (rows[0]?.revision !== expectedRevision) return refused(`${change.id} changed meanwhile`);
  }
  if (versions.length > 0) {
    const keys = [...new Set(versions.map((version) => version.key))];
    const { rows } = await client.query<{ key: DocumentKey; version: number }>(
      "SELECT key, max(version) AS version FROM document_versions WHERE key = ANY($1::text[]) GROUP BY key",
      [keys],
    );
    const latest = new Map(rows.map((row) => [row.key, row.version]));
    const conflict = versionConflictOf(versions, (key) => latest.get(key) ?? 0);
    if (conflict !== undefined) return refused(`${conflict.key} changed meanwhile`);
  }
  const auditRefusal = audit === undefined ? undefined : refusalOf(audit);
  if (auditRefusal !== undefined && !auditRefusal.ok) {
    return {
      ok: false,
      code: "audit_refused",
      message: `${auditRefusal.code}: ${auditRefusal.message}`,
    };
  }
  if (versions.length > 0) {
    // In key order, as every writer inserts, so two writers never wait on each other in a cycle.
    const rows = [...versions]
      .sort((left, right) =>
        left.key === right.key ? left.version - right.version : left.key < right.key ? -1 : 1,
      )
      .map(documentVersionRowValues);
    // Every version of one write was written at the change's updatedAt (migration 8).
    const inserted = await client.query(
      `INSERT INTO document_versions (${DOCUMENT_VERSION_COLUMNS}, written_at)
       SELECT *, $6::text FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[])
       ON CONFLICT (key, version) DO NOTHING`,
      [...[0, 1, 2, 3, 4].map((column) => rows.map((row) => row[column])), change.updatedAt],
    );
    if (inserted.rowCount !== rows.length) return refused("a version was written meanwhile");
  }
  if (expectedRevision !== 0) {
    await client.query(
      "UPDATE change_requests SET state = $1, revision = $2, change_json = $3 WHERE id = $4",
      [change.state, revision, json, change.id],
    );
  }
  if (audit !== undefined) await appendPostgresAuditEntry(client, audit);
  return { ok: true, revision };
}

function refused(message: string): ChangeWriteResult {
  return { ok: false, code: "concurrent_update", message };
}

function codeOf(error: unknown): unknown {
  return typeof error === "object" && error !== null && "code" in error ? error.code : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
