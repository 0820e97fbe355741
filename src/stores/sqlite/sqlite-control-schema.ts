/**
 * The control plane's SQLite file (`<data dir>/control.sqlite`: the audit log, change requests
 * and document versions) as numbered migrations applied in order at open. It is a file
 * apart from the ledger's, which its writer thread holds exclusively. Each migration runs once,
 * in the same transaction as its record, so a crash mid-migration leaves the previous version.
 * Applied migrations are never edited: a change is a new entry at the end of the list.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import {
  applySqliteMigrations,
  type SqliteMigration,
  sqliteSchemaVersion,
} from "./sqlite-migrations.ts";

export const CONTROL_MIGRATIONS: readonly SqliteMigration[] = [
  {
    version: 1,
    name: "audit log",
    // One row per entry, every field as written and hashed (details as its canonical JSON text),
    // so a verifier recomputes each hash from the row alone. audit_head is the one row appenders
    // serialise on and the head a verifier compares the last entry with. The triggers make the
    // log append-only for anyone using SQL by mistake; they stop no one who drops them, which the
    // hash chain is for.
    sql: `
      CREATE TABLE audit_log (
        sequence INTEGER PRIMARY KEY CHECK (sequence >= 1),
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        subject TEXT NOT NULL,
        content_hash TEXT,
        reason TEXT,
        details_json TEXT NOT NULL,
        previous_hash TEXT NOT NULL,
        hash TEXT NOT NULL
      );

      CREATE TABLE audit_head (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        sequence INTEGER NOT NULL,
        hash TEXT NOT NULL
      );
      INSERT INTO audit_head (id, sequence, hash) VALUES (1, 0, '${"0".repeat(64)}');

      CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
      BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
      CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
      BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    `,
  },
  {
    version: 2,
    name: "change requests and document versions",
    // change_requests holds each change as the JSON the store was given, with the columns reads
    // filter and order on: state, and position, given at the first write, for newest first.
    // revision guards every write. document_versions is append-only like the audit log: a
    // version, once written, never changes; its primary key (key, version) refuses a number taken
    // twice and is the index the latest version of a key is read from. change_id_counter hands
    // out change ids under the write lock, so no two processes get the same one, and a number
    // taken by a change never written is skipped, not reused.
    sql: `
      CREATE TABLE change_requests (
        id TEXT PRIMARY KEY,
        position INTEGER NOT NULL UNIQUE CHECK (position >= 1),
        state TEXT NOT NULL,
        revision INTEGER NOT NULL CHECK (revision >= 1),
        change_json TEXT NOT NULL
      );
      CREATE INDEX change_requests_by_state ON change_requests (state, position);

      CREATE TABLE change_id_counter (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        last INTEGER NOT NULL CHECK (last >= 0)
      );
      INSERT INTO change_id_counter (id, last) VALUES (1, 0);

      CREATE TABLE document_versions (
        key TEXT NOT NULL,
        version INTEGER NOT NULL CHECK (version >= 1),
        document_json TEXT,
        content_hash TEXT NOT NULL,
        change_id TEXT NOT NULL,
        PRIMARY KEY (key, version)
      ) WITHOUT ROWID;

      CREATE TRIGGER document_versions_no_update BEFORE UPDATE ON document_versions
      BEGIN SELECT RAISE(ABORT, 'document versions are immutable'); END;
      CREATE TRIGGER document_versions_no_delete BEFORE DELETE ON document_versions
      BEGIN SELECT RAISE(ABORT, 'document versions are immutable'); END;
    `,
  },
  {
    version: 3,
    name: "one change rolling out",
    // One change rolls out at a time (ADR 0014): the store holds to it whatever its writers check.
    sql: `
      CREATE UNIQUE INDEX change_requests_one_rolling_out ON change_requests (state)
        WHERE state = 'rolling_out';
    `,
  },
  {
    version: 4,
    name: "kills",
    // The kill switch (sqlite-kill-store.ts). kill_head holds the sequence every write moves by
    // one, the single number a poll reads; kills keeps every kill ever set, a cleared one with
    // the sequence and who and why of its clearing, so the table is its own history. Active
    // kills are read through a partial index.
    sql: `
      CREATE TABLE kill_head (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        sequence INTEGER NOT NULL CHECK (sequence >= 0)
      );
      INSERT INTO kill_head (id, sequence) VALUES (1, 0);

      CREATE TABLE kills (
        sequence INTEGER PRIMARY KEY CHECK (sequence >= 1),
        scope_json TEXT NOT NULL,
        reason TEXT NOT NULL,
        actor TEXT NOT NULL,
        at_ms INTEGER NOT NULL,
        cleared_sequence INTEGER CHECK (cleared_sequence > sequence),
        cleared_actor TEXT,
        cleared_at_ms INTEGER,
        cleared_reason TEXT
      );
      CREATE INDEX kills_active ON kills (sequence) WHERE cleared_sequence IS NULL;
    `,
  },
  {
    version: 5,
    name: "incidents",
    // Incidents (sqlite-incident-store.ts) as the JSON the store was given, with the columns reads
    // filter and order on, as change_requests keeps changes: state, position (given at the first
    // write, for newest first) and revision, which guards every write. incident_id_counter hands
    // out ids under the write lock, never the same one twice.
    sql: `
      CREATE TABLE incidents (
        id TEXT PRIMARY KEY,
        position INTEGER NOT NULL UNIQUE CHECK (position >= 1),
        state TEXT NOT NULL,
        revision INTEGER NOT NULL CHECK (revision >= 1),
        incident_json TEXT NOT NULL
      );
      CREATE INDEX incidents_by_state ON incidents (state, position);

      CREATE TABLE incident_id_counter (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        last INTEGER NOT NULL CHECK (last >= 0)
      );
      INSERT INTO incident_id_counter (id, last) VALUES (1, 0);
    `,
  },
  {
    version: 6,
    name: "webhook outbox",
    // Webhook endpoints and their deliveries (sqlite-webhook-outbox.ts, ADR 0017). A delivery is
    // one row per notification and endpoint, its id the one receivers deduplicate on; a pending
    // row's next_attempt_at_ms is when it is next due, moved to the claim's expiry while a
    // dispatcher holds it, so one partial index serves every claim. Deliveries keep no foreign
    // key to their endpoint: removing an endpoint leaves its history. webhook_attempts has one
    // row per claim, finished when its outcome is recorded.
    sql: `
      CREATE TABLE webhook_endpoints (
        id TEXT PRIMARY KEY,
        url TEXT NOT NULL,
        secret TEXT NOT NULL,
        event_types_json TEXT NOT NULL,
        enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
        created_at_ms INTEGER NOT NULL
      );

      CREATE TABLE webhook_deliveries (
        position INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        endpoint_id TEXT NOT NULL,
        notification_id TEXT NOT NULL,
        event_type TEXT NOT NULL,
        body TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
        attempts INTEGER NOT NULL CHECK (attempts >= 0),
        next_attempt_at_ms INTEGER,
        claim_token TEXT,
        created_at_ms INTEGER NOT NULL,
        finished_at_ms INTEGER,
        last_attempt_code TEXT,
        last_status INTEGER,
        dead_reason TEXT,
        CHECK ((state = 'pending') = (next_attempt_at_ms IS NOT NULL))
      );
      CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at_ms)
        WHERE state = 'pending';
      CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (endpoint_id, position);

      CREATE TABLE webhook_attempts (
        delivery_id TEXT NOT NULL,
        attempt INTEGER NOT NULL CHECK (attempt >= 1),
        started_at_ms INTEGER NOT NULL,
        finished_at_ms INTEGER,
        code TEXT,
        status INTEGER,
        PRIMARY KEY (delivery_id, attempt)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 7,
    name: "api tokens",
    // API tokens (sqlite-api-token-store.ts): the record with the SHA-256 of the secret, never
    // the secret. position is the order of creation, for newest first; a revoked token keeps its
    // row, with who revoked it and when, so an id is never used twice. Unrevoked tokens, which
    // creates count, are read through a partial index.
    sql: `
      CREATE TABLE api_tokens (
        position INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE CHECK (length(id) = 12),
        name TEXT NOT NULL,
        principal_id TEXT NOT NULL,
        roles_json TEXT NOT NULL,
        secret_hash TEXT NOT NULL CHECK (length(secret_hash) = 64),
        created_at_ms INTEGER NOT NULL,
        created_by TEXT NOT NULL,
        revoked_at_ms INTEGER,
        revoked_by TEXT,
        CHECK ((revoked_at_ms IS NULL) = (revoked_by IS NULL))
      );
      CREATE INDEX api_tokens_active ON api_tokens (position) WHERE revoked_at_ms IS NULL;
    `,
  },
  {
    version: 8,
    name: "when each document version was written",
    // A document's history (GET /v1/documents/{kind}/{id}/versions) says when each version was
    // written: the writing change's updatedAt at that write, stored with the version because the
    // change's own record moves on. Versions written before this migration keep NULL: their time
    // was not kept, and none is made up. Adding a column is no UPDATE: the triggers stay quiet.
    sql: `
      ALTER TABLE document_versions ADD COLUMN written_at TEXT;
    `,
  },
];

export const CONTROL_SCHEMA_VERSION = CONTROL_MIGRATIONS[CONTROL_MIGRATIONS.length - 1]!.version;

/** The schema version of an open control database (0 before any migration). */
export function controlSchemaVersion(database: BetterSqlite3.Database): number {
  return sqliteSchemaVersion(database);
}

/** Applies the migrations this database lacks; returns the versions applied. */
export function migrateControl(database: BetterSqlite3.Database, nowMs: number): number[] {
  return applySqliteMigrations(database, CONTROL_MIGRATIONS, "control database", nowMs);
}

/** The most a control store waits for another connection's write lock. */
export const CONTROL_BUSY_TIMEOUT_MS_MAX = 600_000;

/**
 * What every control-plane store on `control.sqlite` does at open (changes, kills, incidents, the
 * webhook outbox): check the busy time-out, create the directory, open the file in WAL mode with
 * `synchronous = FULL`, and bring the control migrations up to date. A failure closes the file
 * and throws what `fail` builds from the message, so a caller sees the store's own error.
 */
export function openControlDatabase(
  path: string,
  busyTimeoutMs: number,
  nowMs: () => number,
  fail: (message: string) => Error,
): { database: BetterSqlite3.Database; applied: number[] } {
  if (
    !Number.isSafeInteger(busyTimeoutMs) ||
    busyTimeoutMs < 0 ||
    busyTimeoutMs > CONTROL_BUSY_TIMEOUT_MS_MAX
  ) {
    throw fail(`busyTimeoutMs ${busyTimeoutMs} is not within 0..${CONTROL_BUSY_TIMEOUT_MS_MAX}`);
  }
  const reason = (error: unknown) =>
    fail(`${path}: ${error instanceof Error ? error.message : String(error)}`);
  let database: BetterSqlite3.Database;
  try {
    mkdirSync(dirname(path), { recursive: true });
    database = new BetterSqlite3(path, { timeout: busyTimeoutMs });
  } catch (error) {
    throw reason(error);
  }
  try {
    const mode = database.pragma("journal_mode = WAL", { simple: true });
    if (mode !== "wal") throw new Error(`journal mode ${String(mode)} instead of WAL`);
    database.pragma("synchronous = FULL");
    return { database, applied: migrateControl(database, nowMs()) };
  } catch (error) {
    database.close();
    throw reason(error);
  }
}
