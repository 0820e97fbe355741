/**
 * The SQLite ledger's schema as numbered migrations, applied in order at open. Each migration
 * runs once (recorded in `schema_migrations`) inside the same transaction as its record, so a
 * crash mid-migration leaves the database at the previous version; opening again is idempotent.
 * Applied migrations are never edited: a change is a new migration.
 */
import type BetterSqlite3 from "better-sqlite3";
import { applySqliteMigrations } from "./sqlite-migrations.ts";

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/**
 * Money and counts are INTEGER (64-bit in SQLite). CHECK constraints are the last line of the
 * "counters never go negative" rule: a bug that breaks it aborts its call instead of writing.
 * The store keeps every counter at most 2^53 - 1 so that JavaScript numbers read them exactly.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "ledger",
    sql: `
      CREATE TABLE accounts (
        account TEXT PRIMARY KEY,
        funded_minor INTEGER NOT NULL DEFAULT 0 CHECK (funded_minor >= 0),
        reserved_minor INTEGER NOT NULL DEFAULT 0 CHECK (reserved_minor >= 0),
        spent_minor INTEGER NOT NULL DEFAULT 0 CHECK (spent_minor >= 0),
        reserved_count INTEGER NOT NULL DEFAULT 0 CHECK (reserved_count >= 0),
        spent_count INTEGER NOT NULL DEFAULT 0 CHECK (spent_count >= 0)
      ) WITHOUT ROWID;

      -- The audit trail of money put into budgets: funded_minor is its sum per account.
      CREATE TABLE fundings (
        funding_id INTEGER PRIMARY KEY,
        account TEXT NOT NULL,
        amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
        reason TEXT NOT NULL,
        at_ms INTEGER NOT NULL
      );
      CREATE INDEX fundings_by_account ON fundings (account);

      -- One row per payment id, with the answer given, so retries replay it exactly.
      -- state is NULL for a "no subsidy" answer (nothing to settle).
      CREATE TABLE payments (
        payment_id TEXT PRIMARY KEY,
        content_key TEXT NOT NULL,
        answer_json TEXT NOT NULL,
        state TEXT CHECK (state IN ('reserved', 'committed', 'released', 'expired')),
        expires_at_ms INTEGER
      );
      -- Finds due reservations in expiry order; the rowid breaks ties in arrival order.
      CREATE INDEX payments_due ON payments (expires_at_ms) WHERE state = 'reserved';

      CREATE TABLE entries (
        entry_id INTEGER PRIMARY KEY,
        payment_id TEXT NOT NULL REFERENCES payments (payment_id),
        position INTEGER NOT NULL,
        campaign_id TEXT NOT NULL,
        reserved_minor INTEGER NOT NULL CHECK (reserved_minor >= 0),
        committed_minor INTEGER NOT NULL DEFAULT 0 CHECK (committed_minor >= 0),
        UNIQUE (payment_id, campaign_id)
      );

      CREATE TABLE entry_debits (
        entry_id INTEGER NOT NULL REFERENCES entries (entry_id),
        position INTEGER NOT NULL,
        account TEXT NOT NULL,
        amount_minor INTEGER NOT NULL CHECK (amount_minor >= 0),
        count INTEGER NOT NULL CHECK (count >= 0),
        PRIMARY KEY (entry_id, position)
      ) WITHOUT ROWID;

      -- What recovery at open changed, so that a correction is never silent.
      CREATE TABLE counter_corrections (
        correction_id INTEGER PRIMARY KEY,
        account TEXT NOT NULL,
        counter TEXT NOT NULL,
        before_value INTEGER NOT NULL,
        after_value INTEGER NOT NULL,
        at_ms INTEGER NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: "entries in the payment row, refunds",
    // The ledger's rules moved into one book shared by every store (ADR 0007): the SQLite store
    // now decides in its writer thread over cached counters, and writes per payment one row
    // holding its entries (the limits each drew on) instead of an entry row and a row per debit.
    // entries_json: [[campaignId, reservedMinor, committedMinor, reversedMinor,
    //                 [[account, amountMinor, count, restoredByRefund 0|1, funded 0|1], ...]], ...]
    // (src/stores/ledger-rows.ts; rows carried over from version 1 lack `funded`)
    // Version 1 rows are carried over: their payment amount is read from the content key (the
    // service's key is a JSON array with the amount third; 0, which no refund fits, otherwise),
    // their debits take the default refund policy, which restores every limit, and per-identity
    // accounts take their identity-first names (`renamedV1Account`), so caps keep counting.
    sql: `
      ALTER TABLE payments ADD COLUMN payment_amount_minor INTEGER NOT NULL DEFAULT 0
        CHECK (payment_amount_minor >= 0);
      ALTER TABLE payments ADD COLUMN refunded_minor INTEGER NOT NULL DEFAULT 0
        CHECK (refunded_minor >= 0 AND refunded_minor <= payment_amount_minor);
      ALTER TABLE payments ADD COLUMN entries_json TEXT NOT NULL DEFAULT '[]';

      UPDATE payments SET payment_amount_minor = json_extract(content_key, '$[2]')
      WHERE json_valid(content_key) AND json_type(content_key, '$[2]') = 'integer'
        AND json_extract(content_key, '$[2]') >= 0;

      UPDATE payments SET entries_json = json((
        SELECT json_group_array(json_array(
          e.campaign_id, e.reserved_minor, e.committed_minor, 0,
          json((
            SELECT json_group_array(json_array(
                bursar_renamed_v1_account(d.account), d.amount_minor, d.count, 1)
              ORDER BY d.position)
            FROM entry_debits d WHERE d.entry_id = e.entry_id
          ))
        ) ORDER BY e.position)
        FROM entries e WHERE e.payment_id = payments.payment_id
      ))
      WHERE EXISTS (SELECT 1 FROM entries e WHERE e.payment_id = payments.payment_id);

      UPDATE accounts SET account = bursar_renamed_v1_account(account)
      WHERE account <> bursar_renamed_v1_account(account);

      DROP TABLE entry_debits;
      DROP TABLE entries;

      -- One row per applied refund; a retry with the same ids replays answer_json.
      CREATE TABLE refunds (
        payment_id TEXT NOT NULL REFERENCES payments (payment_id),
        refund_id TEXT NOT NULL,
        amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
        at_ms INTEGER NOT NULL,
        answer_json TEXT NOT NULL,
        PRIMARY KEY (payment_id, refund_id)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 3,
    name: "counters kept by the writer, rebuilt from the ledger",
    // Account counters are the ledger's sums (fundings and the payments' entries). Writing ~7
    // scattered account rows per payment was most of a batch's cost, so the store now keeps the
    // counters in memory on the thread that decides, rebuilds them from these rows at open, and
    // writes only the ledger's own rows (ADR 0009). counter_corrections keeps what versions 1
    // and 2 corrected at open.
    sql: `
      DROP TABLE accounts;
    `,
  },
  {
    version: 4,
    name: "impact facts",
    // The facts an impact report splits by (ADR 0015): the payment's time, payer, scenario and
    // region as columns of its row, and each entry's campaign version, template, funding source
    // and program appended to it in entries_json (ledger-rows.ts). Columns and a longer JSON
    // cost the hot path almost nothing (no second table, no index to keep); the report scans
    // the payments instead, which suits an embedded ledger.
    // Older rows: payer, scenario and region come from the service's content key (a JSON array:
    // user second, scenario fifth, region ninth); version, funding and program from the stored
    // answer; the template and the time were never stored and stay null.
    sql: `
      ALTER TABLE payments ADD COLUMN at_ms INTEGER;
      ALTER TABLE payments ADD COLUMN user_id TEXT;
      ALTER TABLE payments ADD COLUMN scenario TEXT;
      ALTER TABLE payments ADD COLUMN region TEXT;

      UPDATE payments SET
        user_id = json_extract(content_key, '$[1]'),
        scenario = json_extract(content_key, '$[4]'),
        region = json_extract(content_key, '$[8]')
      WHERE json_valid(content_key) AND json_type(content_key) = 'array'
        AND json_type(content_key, '$[1]') = 'text' AND json_type(content_key, '$[4]') = 'text'
        AND json_type(content_key, '$[8]') = 'text';

      UPDATE payments SET entries_json = json((
        SELECT json_group_array(json(json_insert(e.value,
          '$[#]', (SELECT json_extract(a.value, '$.campaignVersion')
                   FROM json_each(payments.answer_json, '$.subsidies') a
                   WHERE json_extract(a.value, '$.campaignId') = json_extract(e.value, '$[0]')),
          '$[#]', NULL,
          '$[#]', (SELECT json_extract(a.value, '$.funding')
                   FROM json_each(payments.answer_json, '$.subsidies') a
                   WHERE json_extract(a.value, '$.campaignId') = json_extract(e.value, '$[0]')),
          '$[#]', (SELECT json_extract(a.value, '$.programId')
                   FROM json_each(payments.answer_json, '$.subsidies') a
                   WHERE json_extract(a.value, '$.campaignId') = json_extract(e.value, '$[0]'))
        )) ORDER BY e.key)
        FROM json_each(payments.entries_json) e
      ))
      WHERE entries_json <> '[]';
    `,
  },
  {
    version: 5,
    name: "payment owners",
    // The principal whose request made the payment (the HTTP caller's principal id): only its
    // own requests may settle or refund it, or see its stored answer (LedgerBook). Nullable, as
    // `region` is: library callers give none, and older rows never knew theirs, so they stay open
    // to every caller as before. A column read with the row costs the hot path nothing more.
    sql: `
      ALTER TABLE payments ADD COLUMN owner TEXT;
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/**
 * A version 1 per-identity account under its version 2 name: identity first, so that one
 * identity's accounts are neighbours in the index (`identity-day/C/K/DATE` becomes
 * `identity/K/day/C/DATE`, and so on). Identity keys and ids hold no `/`.
 */
export function renamedV1Account(account: string): string {
  const [kind, ...rest] = account.split("/");
  if (kind === "identity-day" && rest.length === 3) {
    const [campaign, identity, date] = rest;
    return `identity/${identity}/day/${campaign}/${date}`;
  }
  if (kind === "identity-campaign" && rest.length === 2) {
    const [campaign, identity] = rest;
    return `identity/${identity}/campaign/${campaign}`;
  }
  if (kind === "program-identity" && rest.length === 2) {
    const [program, identity] = rest;
    return `identity/${identity}/program/${program}`;
  }
  if (kind === "platform-day" && rest.length === 3) {
    const [currency, identity, date] = rest;
    return `identity/${identity}/platform-day/${currency}/${date}`;
  }
  return account;
}

/** Applies the migrations this database lacks; returns the versions applied. */
export function migrate(database: BetterSqlite3.Database, nowMs: number): number[] {
  // A migration renames accounts in SQL through this function.
  database.function("bursar_renamed_v1_account", { deterministic: true }, (account) =>
    renamedV1Account(String(account)),
  );
  return applySqliteMigrations(database, MIGRATIONS, "ledger database", nowMs);
}
