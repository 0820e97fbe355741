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
