/**
 * Every SQL statement of the SQLite ledger, prepared once per connection: the writer thread's
 * (rows written in group-committed transactions) and the reader's (the caller's thread: rows
 * looked up while deciding, and the whole ledger read to rebuild or verify the counters). Money
 * columns come back as numbers: the ledger keeps every amount at most 2^53 - 1.
 */
import type BetterSqlite3 from "better-sqlite3";
import { IMPACT_GROUPS_SQL, impactAmountColumns } from "../ledger-impact-sql.ts";
import { PAYMENT_COLUMNS, PAYMENT_LEDGER_COLUMNS } from "../ledger-rows.ts";

/**
 * Subsidies of the queried versions (`@versions`: a JSON array of [campaignId, version]), one row
 * each, read from the payments and their entries_json (ADR 0015: no table of its own, so the
 * hot path writes nothing more; the report scans the payments).
 */
const WANTED_ENTRIES = `
  wanted AS (
    SELECT value->>0 AS campaign_id, value->>1 AS campaign_version FROM json_each(@versions)
  ),
  entries AS MATERIALIZED (
    SELECT p.payment_id, p.user_id, p.scenario, p.region, p.at_ms, p.state,
      e.value->>0 AS campaign_id, e.value->>5 AS campaign_version, e.value->>7 AS funding,
      e.value->>1 AS reserved, e.value->>2 AS committed, e.value->>3 AS reversed
    FROM payments p, json_each(p.entries_json) e
    JOIN wanted w ON w.campaign_id = e.value->>0 AND w.campaign_version = e.value->>5
    WHERE p.state IS NOT NULL
  )`;

export interface RefundRow {
  readonly amount_minor: number;
  readonly at_ms: number;
  readonly answer_json: string;
}

export interface DueRow {
  readonly payment_id: string;
  readonly expires_at_ms: number;
}

export function prepareWriterStatements(database: BetterSqlite3.Database) {
  const prepare = (sql: string) => database.prepare(sql);
  return {
    begin: prepare("BEGIN IMMEDIATE"),
    commit: prepare("COMMIT"),
    rollback: prepare("ROLLBACK"),
    insertPayment: prepare(
      `INSERT INTO payments (${PAYMENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    updatePayment: prepare(
      "UPDATE payments SET state = ?, refunded_minor = ?, entries_json = ? WHERE payment_id = ?",
    ),
    insertRefund: prepare(
      "INSERT INTO refunds (payment_id, refund_id, amount_minor, at_ms, answer_json) VALUES (?, ?, ?, ?, ?)",
    ),
    insertFunding: prepare(
      "INSERT INTO fundings (account, amount_minor, reason, at_ms) VALUES (?, ?, ?, ?)",
    ),
  };
}

export type WriterStatements = ReturnType<typeof prepareWriterStatements>;

export function prepareReaderStatements(database: BetterSqlite3.Database) {
  const prepare = (sql: string) => database.prepare(sql);
  return {
    schemaVersion: prepare("SELECT max(version) FROM schema_migrations").pluck(),
    selectPayment: prepare(`SELECT ${PAYMENT_COLUMNS} FROM payments WHERE payment_id = ?`),
    selectRefund: prepare(
      "SELECT amount_minor, at_ms, answer_json FROM refunds WHERE payment_id = ? AND refund_id = ?",
    ),
    selectDue: prepare(`
      SELECT payment_id, expires_at_ms FROM payments
      WHERE state = 'reserved' AND expires_at_ms <= ?
      ORDER BY expires_at_ms, rowid
      LIMIT ?
    `),
    /** Every payment, with what the counters' sums need. */
    allPayments: prepare(`SELECT ${PAYMENT_LEDGER_COLUMNS} FROM payments`),
    /** Payments that hold or spent money: the ones the counters are sums over. */
    settledOrHeldPayments: prepare(
      `SELECT ${PAYMENT_LEDGER_COLUMNS} FROM payments WHERE state IS NOT NULL`,
    ),
    fundedByAccount: prepare(
      "SELECT account, sum(amount_minor) AS amount_minor FROM fundings GROUP BY account",
    ),
    refundedByPayment: prepare(
      "SELECT payment_id, sum(amount_minor) AS amount_minor FROM refunds GROUP BY payment_id",
    ),
    /** The impact report's group rows (ledger-impact-sql.ts); `@fromMs`/`@toMs` may be null. */
    impactGroups: prepare(`
      WITH ${WANTED_ENTRIES},
      affected AS MATERIALIZED (
        SELECT payment_id, user_id, scenario, region, at_ms, campaign_id, campaign_version,
          funding, ${impactAmountColumns("state", "reserved", "committed", "reversed")}
        FROM entries
        WHERE (@fromMs IS NULL OR at_ms >= @fromMs) AND (@toMs IS NULL OR at_ms < @toMs)
      )
      ${IMPACT_GROUPS_SQL}
    `),
    /** Reserved payments holding a subsidy of the versions, in id order after `@after`. */
    uncommittedOf: prepare(`
      WITH ${WANTED_ENTRIES}
      SELECT payment_id, sum(reserved) AS affected_minor FROM entries
      WHERE state = 'reserved' AND payment_id > @after
      GROUP BY payment_id ORDER BY payment_id LIMIT @limit
    `),
  };
}

export type ReaderStatements = ReturnType<typeof prepareReaderStatements>;
