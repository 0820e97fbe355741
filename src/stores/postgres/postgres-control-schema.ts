/**
 * The control plane's PostgreSQL tables (the audit log, change requests and document versions,
 * kills, incidents, the webhook outbox, API tokens) as numbered migrations, applied in order at
 * open inside one transaction under an advisory lock, so processes opening at once migrate once.
 * They live in the ledger's schema beside its tables, with their own migration record
 * (`control_schema_migrations`), so either part can migrate without the other. Applied migrations
 * are never edited: a change is a new entry at the end of the list.
 */
import type pg from "pg";
import {
  applyPostgresMigrations,
  type PostgresMigration,
  postgresRecordedVersion,
} from "./postgres-migrations.ts";

export const POSTGRES_CONTROL_MIGRATIONS: readonly PostgresMigration[] = [
  {
    version: 1,
    name: "audit log",
    // As in SQLite (sqlite-control-schema.ts): every field as written and hashed, details as its
    // canonical JSON text (not jsonb, which would rewrite it), the head row appenders lock, and
    // triggers that keep the log append-only for anyone who does not drop them.
    sql: `
      CREATE TABLE audit_log (
        sequence bigint PRIMARY KEY CHECK (sequence >= 1),
        at text NOT NULL,
        actor text NOT NULL,
        action text NOT NULL,
        subject text NOT NULL,
        content_hash text,
        reason text,
        details_json text NOT NULL,
        previous_hash text NOT NULL,
        hash text NOT NULL
      );

      CREATE TABLE audit_head (
        id integer PRIMARY KEY CHECK (id = 1),
        sequence bigint NOT NULL,
        hash text NOT NULL
      );
      INSERT INTO audit_head (id, sequence, hash) VALUES (1, 0, '${"0".repeat(64)}');

      CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'the audit log is append-only';
      END;
      $$;
      CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
        FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
    `,
  },
  {
    version: 2,
    name: "change requests and document versions",
    // As in SQLite (sqlite-control-schema.ts). position comes from an identity column at the
    // first write; change ids from a sequence, which never hands a number out twice, even to a
    // transaction that rolls back. The primary key (key, version) refuses a version number taken
    // twice, also between transactions not yet committed, and serves the latest version per key.
    sql: `
      CREATE TABLE change_requests (
        id text PRIMARY KEY,
        position bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
        state text NOT NULL,
        revision bigint NOT NULL CHECK (revision >= 1),
        change_json text NOT NULL
      );
      CREATE INDEX change_requests_by_state ON change_requests (state, position);

      CREATE SEQUENCE change_id_sequence AS bigint MINVALUE 1;

      CREATE TABLE document_versions (
        key text NOT NULL,
        version bigint NOT NULL CHECK (version >= 1),
        document_json text,
        content_hash text NOT NULL,
        change_id text NOT NULL,
        PRIMARY KEY (key, version)
      );

      CREATE FUNCTION document_versions_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'document versions are immutable';
      END;
      $$;
      CREATE TRIGGER document_versions_immutable BEFORE UPDATE OR DELETE ON document_versions
        FOR EACH ROW EXECUTE FUNCTION document_versions_immutable();
    `,
  },
  {
    version: 3,
    name: "one change rolling out",
    // One change rolls out at a time (ADR 0014): two writers starting rollouts at once collide
    // on this index, and the second is refused as concurrent_update.
    sql: `
      CREATE UNIQUE INDEX change_requests_one_rolling_out ON change_requests (state)
        WHERE state = 'rolling_out';
    `,
  },
  {
    version: 4,
    name: "kills",
    // As in SQLite (sqlite-control-schema.ts). Writers lock kill_head's row first, so kill writes
    // serialise and the sequence has no gaps; the notification a write sends (postgres-kill-store.ts)
    // is delivered at COMMIT, never for a write that rolled back.
    sql: `
      CREATE TABLE kill_head (
        id integer PRIMARY KEY CHECK (id = 1),
        sequence bigint NOT NULL CHECK (sequence >= 0)
      );
      INSERT INTO kill_head (id, sequence) VALUES (1, 0);

      CREATE TABLE kills (
        sequence bigint PRIMARY KEY CHECK (sequence >= 1),
        scope_json text NOT NULL,
        reason text NOT NULL,
        actor text NOT NULL,
        at_ms bigint NOT NULL,
        cleared_sequence bigint CHECK (cleared_sequence > sequence),
        cleared_actor text,
        cleared_at_ms bigint,
        cleared_reason text
      );
      CREATE INDEX kills_active ON kills (sequence) WHERE cleared_sequence IS NULL;
    `,
  },
  {
    version: 5,
    name: "incidents",
    // As in SQLite (sqlite-control-schema.ts): position from an identity column at the first
    // write; incident ids from a sequence, which never hands a number out twice, even to a
    // transaction that rolls back.
    sql: `
      CREATE TABLE incidents (
        id text PRIMARY KEY,
        position bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
        state text NOT NULL,
        revision bigint NOT NULL CHECK (revision >= 1),
        incident_json text NOT NULL
      );
      CREATE INDEX incidents_by_state ON incidents (state, position);

      CREATE SEQUENCE incident_id_sequence AS bigint MINVALUE 1;
    `,
  },
  {
    version: 6,
    name: "webhook outbox",
    // As in SQLite (sqlite-control-schema.ts). position comes from an identity column; claims
    // pick due rows through the partial index with FOR UPDATE SKIP LOCKED
    // (postgres-webhook-outbox.ts), so dispatchers never take the same delivery at once.
    sql: `
      CREATE TABLE webhook_endpoints (
        id text PRIMARY KEY,
        url text NOT NULL,
        secret text NOT NULL,
        event_types_json text NOT NULL,
        enabled boolean NOT NULL,
        created_at_ms bigint NOT NULL
      );

      CREATE TABLE webhook_deliveries (
        position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id text NOT NULL UNIQUE,
        endpoint_id text NOT NULL,
        notification_id text NOT NULL,
        event_type text NOT NULL,
        body text NOT NULL,
        state text NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
        attempts integer NOT NULL CHECK (attempts >= 0),
        next_attempt_at_ms bigint,
        claim_token text,
        created_at_ms bigint NOT NULL,
        finished_at_ms bigint,
        last_attempt_code text,
        last_status integer,
        dead_reason text,
        CHECK ((state = 'pending') = (next_attempt_at_ms IS NOT NULL))
      );
      CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at_ms)
        WHERE state = 'pending';
      CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (endpoint_id, position);

      CREATE TABLE webhook_attempts (
        delivery_id text NOT NULL,
        attempt integer NOT NULL CHECK (attempt >= 1),
        started_at_ms bigint NOT NULL,
        finished_at_ms bigint,
        code text,
        status integer,
        PRIMARY KEY (delivery_id, attempt)
      );
    `,
  },
  {
    version: 7,
    name: "api tokens",
    // As in SQLite (sqlite-control-schema.ts), position from an identity column. Creates lock
    // the table in SHARE ROW EXCLUSIVE mode (postgres-api-token-store.ts), which conflicts with
    // itself and not with reads, so "no token exists yet" and "fewer than the most unrevoked
    // tokens" hold until the create commits, whichever process creates at the same time.
    sql: `
      CREATE TABLE api_tokens (
        position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id text NOT NULL UNIQUE CHECK (id ~ '^[0-9a-f]{12}$'),
        name text NOT NULL,
        principal_id text NOT NULL,
        roles_json text NOT NULL,
        secret_hash text NOT NULL CHECK (secret_hash ~ '^[0-9a-f]{64}$'),
        created_at_ms bigint NOT NULL,
        created_by text NOT NULL,
        revoked_at_ms bigint,
        revoked_by text,
        CHECK ((revoked_at_ms IS NULL) = (revoked_by IS NULL))
      );
      CREATE INDEX api_tokens_active ON api_tokens (position) WHERE revoked_at_ms IS NULL;
    `,
  },
  {
    version: 8,
    name: "when each document version was written",
    // As in SQLite (sqlite-control-schema.ts): the writing change's updatedAt at that write; NULL
    // for versions written before this migration. Text, as the change keeps it.
    sql: `
      ALTER TABLE document_versions ADD COLUMN written_at text;
    `,
  },
];

export const POSTGRES_CONTROL_SCHEMA_VERSION =
  POSTGRES_CONTROL_MIGRATIONS[POSTGRES_CONTROL_MIGRATIONS.length - 1]!.version;

/** The control tables' version in `schema` (0 before any migration). */
export async function postgresControlSchemaVersion(
  client: pg.ClientBase,
  schema: string,
): Promise<number> {
  return postgresRecordedVersion(client, schema, "control_schema_migrations");
}

/** Creates the schema if needed and applies the migrations it lacks; returns the versions applied. */
export async function migratePostgresControl(
  client: pg.ClientBase,
  schema: string,
  nowMs: number,
): Promise<number[]> {
  return applyPostgresMigrations(
    client,
    schema,
    "control_schema_migrations",
    POSTGRES_CONTROL_MIGRATIONS,
    "control tables",
    nowMs,
  );
}
