/**
 * The PostgreSQL ledger's schema as numbered migrations, applied in order at open inside one
 * transaction under an advisory lock, so that processes opening at once migrate once. The rows
 * are those of the SQLite store (src/stores/ledger-rows.ts); money and counts are bigint, read
 * back as JavaScript numbers (the ledger keeps them at most 2^53 - 1).
 */
import type pg from "pg";
import { applyPostgresMigrations, type PostgresMigration } from "./postgres-migrations.ts";

export const POSTGRES_MIGRATIONS: readonly PostgresMigration[] = [
  {
    version: 1,
    name: "ledger",
    sql: `
      CREATE TABLE accounts (
        account text PRIMARY KEY,
        funded_minor bigint NOT NULL DEFAULT 0 CHECK (funded_minor >= 0),
        reserved_minor bigint NOT NULL DEFAULT 0 CHECK (reserved_minor >= 0),
        spent_minor bigint NOT NULL DEFAULT 0 CHECK (spent_minor >= 0),
        reserved_count bigint NOT NULL DEFAULT 0 CHECK (reserved_count >= 0),
        spent_count bigint NOT NULL DEFAULT 0 CHECK (spent_count >= 0)
      );

      -- The audit trail of money put into budgets: funded_minor is its sum per account.
      CREATE TABLE fundings (
        funding_id bigserial PRIMARY KEY,
        account text NOT NULL,
        amount_minor bigint NOT NULL CHECK (amount_minor > 0),
        reason text NOT NULL,
        at_ms bigint NOT NULL
      );
      CREATE INDEX fundings_by_account ON fundings (account);

      -- One row per payment id with the answer given and its entries (ledger-rows.ts).
      CREATE TABLE payments (
        payment_id text PRIMARY KEY,
        content_key text NOT NULL,
        answer_json text NOT NULL,
        state text CHECK (state IN ('reserved', 'committed', 'released', 'expired')),
        expires_at_ms bigint,
        payment_amount_minor bigint NOT NULL CHECK (payment_amount_minor >= 0),
        refunded_minor bigint NOT NULL DEFAULT 0
          CHECK (refunded_minor >= 0 AND refunded_minor <= payment_amount_minor),
        entries_json text NOT NULL
      );
      CREATE INDEX payments_due ON payments (expires_at_ms, payment_id) WHERE state = 'reserved';

      CREATE TABLE refunds (
        payment_id text NOT NULL REFERENCES payments (payment_id),
        refund_id text NOT NULL,
        amount_minor bigint NOT NULL CHECK (amount_minor > 0),
        at_ms bigint NOT NULL,
        answer_json text NOT NULL,
        PRIMARY KEY (payment_id, refund_id)
      );
    `,
  },
  {
    version: 2,
    name: "budget leases",
    // ADR 0008. leased_minor: money of a funded budget handed to live leases and not yet
    // reserved; available = funded - leased - reserved - spent. A lease's times are the server's
    // clock in milliseconds, so that processes with drifting clocks agree on expiry.
    sql: `
      ALTER TABLE accounts ADD COLUMN leased_minor bigint NOT NULL DEFAULT 0
        CHECK (leased_minor >= 0);
      CREATE TABLE leases (
        lease_id bigserial PRIMARY KEY,
        account text NOT NULL REFERENCES accounts (account),
        holder text NOT NULL,
        unused_minor bigint NOT NULL CHECK (unused_minor >= 0),
        expires_at_ms bigint NOT NULL
      );
      CREATE INDEX leases_by_account ON leases (account, expires_at_ms);
    `,
  },
  {
    version: 3,
    name: "impact facts",
    // ADR 0015. The payment's facts become columns of its row and each entry's version,
    // template, funding and program join entries_json (ledger-rows.ts), as in SQLite. The
    // report over 10M rows reads a narrow table of its own, one row per subsidy reserved, kept
    // with the payment in the same transaction: an index leading by campaign and version, then
    // time, finds an incident's subsidies without touching anyone else's, and its state and
    // amounts are updated as the payment settles (fillfactor 90 leaves room for those updates to
    // stay on their page). No foreign key: the payment row is written in the same statement
    // batch, and a key check per subsidy would cost every reservation.
    // Older rows: payer, scenario and region from the service's content key (a JSON array),
    // version, funding and program from the stored answer; template and time stay null.
    sql: `
      ALTER TABLE payments ADD COLUMN at_ms bigint, ADD COLUMN user_id text,
        ADD COLUMN scenario text, ADD COLUMN region text;

      CREATE FUNCTION pg_temp.bursar_jsonb_or_null(value text) RETURNS jsonb
      LANGUAGE plpgsql IMMUTABLE AS $$
      BEGIN
        RETURN value::jsonb;
      EXCEPTION WHEN others THEN
        RETURN NULL;
      END $$;

      UPDATE payments p SET user_id = k.key->>1, scenario = k.key->>4, region = k.key->>8
      FROM (SELECT payment_id, pg_temp.bursar_jsonb_or_null(content_key) AS key FROM payments) k
      WHERE k.payment_id = p.payment_id AND jsonb_typeof(k.key) = 'array'
        AND jsonb_typeof(k.key->1) = 'string' AND jsonb_typeof(k.key->4) = 'string'
        AND jsonb_typeof(k.key->8) = 'string';

      UPDATE payments p SET entries_json = (
        SELECT jsonb_agg(e.value || jsonb_build_array(
            (SELECT (a->>'campaignVersion')::integer
             FROM jsonb_array_elements(p.answer_json::jsonb->'subsidies') a
             WHERE a->>'campaignId' = e.value->>0 LIMIT 1),
            NULL,
            (SELECT a->>'funding' FROM jsonb_array_elements(p.answer_json::jsonb->'subsidies') a
             WHERE a->>'campaignId' = e.value->>0 LIMIT 1),
            (SELECT a->>'programId' FROM jsonb_array_elements(p.answer_json::jsonb->'subsidies') a
             WHERE a->>'campaignId' = e.value->>0 LIMIT 1))
          ORDER BY e.ordinality)::text
        FROM jsonb_array_elements(p.entries_json::jsonb) WITH ORDINALITY AS e(value, ordinality)
      )
      WHERE p.entries_json <> '[]';

      CREATE TABLE subsidies (
        payment_id text NOT NULL,
        entry_index smallint NOT NULL,
        campaign_id text NOT NULL,
        campaign_version integer NOT NULL,
        template_id text,
        funding text NOT NULL,
        program_id text,
        at_ms bigint,
        user_id text,
        scenario text,
        region text,
        state text NOT NULL CHECK (state IN ('reserved', 'committed', 'released', 'expired')),
        reserved_minor bigint NOT NULL CHECK (reserved_minor >= 0),
        committed_minor bigint NOT NULL CHECK (committed_minor >= 0),
        reversed_minor bigint NOT NULL CHECK (reversed_minor >= 0),
        PRIMARY KEY (payment_id, entry_index)
      ) WITH (fillfactor = 90);
      CREATE INDEX subsidies_by_version ON subsidies (campaign_id, campaign_version, at_ms);

      INSERT INTO subsidies
      SELECT p.payment_id, e.ordinality - 1, e.value->>0, (e.value->>5)::integer, e.value->>6,
        e.value->>7, e.value->>8, p.at_ms, p.user_id, p.scenario, p.region, p.state,
        (e.value->>1)::bigint, (e.value->>2)::bigint, (e.value->>3)::bigint
      FROM payments p,
        jsonb_array_elements(p.entries_json::jsonb) WITH ORDINALITY AS e(value, ordinality)
      WHERE p.state IS NOT NULL;
    `,
  },
  {
    version: 4,
    name: "payment owners",
    // As SQLite's migration 5: the principal whose request made the payment, compared by every
    // call on it (LedgerBook); null for library callers and for rows written before, which stay
    // open to every caller. Not copied into `subsidies`: reports do not split by it.
    sql: `
      ALTER TABLE payments ADD COLUMN owner text;
    `,
  },
];

export const POSTGRES_SCHEMA_VERSION = POSTGRES_MIGRATIONS[POSTGRES_MIGRATIONS.length - 1]!.version;

/** Creates the schema if needed and applies the migrations it lacks; returns the versions applied. */
export async function migratePostgres(
  client: pg.ClientBase,
  schema: string,
  nowMs: number,
): Promise<number[]> {
  return applyPostgresMigrations(
    client,
    schema,
    "schema_migrations",
    POSTGRES_MIGRATIONS,
    "ledger tables",
    nowMs,
  );
}
