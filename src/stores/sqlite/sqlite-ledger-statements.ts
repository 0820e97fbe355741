/**
 * Every SQL statement of the SQLite ledger, prepared once per connection: the writer thread's
 * (rows written in group-committed transactions) and the reader's (the caller's thread: rows
 * looked up while deciding, and the whole ledger read to rebuild or verify the counters). Money
 * columns come back as numbers: the ledger keeps every amount at most 2^53 - 1.
 */
import type BetterSqlite3 from "better-sqlite3";
import { PAYMENT_COLUMNS, PAYMENT_LEDGER_COLUMNS } from "../ledger-rows.ts";

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
      `INSERT INTO payments (${PAYMENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
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
  };
}

export type ReaderStatements = ReturnType<typeof prepareReaderStatements>;
