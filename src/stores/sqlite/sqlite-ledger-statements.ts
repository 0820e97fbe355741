/**
 * Every SQL statement of the SQLite ledger, prepared once per connection, and the shapes of the
 * rows they return. Money columns come back as numbers: the ledger keeps every counter at most
 * 2^53 - 1 (the book refuses debits past it).
 */
import type BetterSqlite3 from "better-sqlite3";
import { ACCOUNT_COLUMNS, PAYMENT_COLUMNS, PAYMENT_LEDGER_COLUMNS } from "../ledger-rows.ts";

export interface RefundRow {
  readonly amount_minor: number;
  readonly at_ms: number;
  readonly answer_json: string;
}

export function prepareLedgerStatements(database: BetterSqlite3.Database) {
  const prepare = (sql: string) => database.prepare(sql);
  return {
    begin: prepare("BEGIN IMMEDIATE"),
    commit: prepare("COMMIT"),
    rollback: prepare("ROLLBACK"),
    /** Changes when another connection commits: the writer's cached counters are then stale. */
    dataVersion: prepare("PRAGMA data_version").pluck(),
    selectPayment: prepare(`SELECT ${PAYMENT_COLUMNS} FROM payments WHERE payment_id = ?`),
    insertPayment: prepare(
      `INSERT INTO payments (${PAYMENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    updatePayment: prepare(
      "UPDATE payments SET state = ?, refunded_minor = ?, entries_json = ? WHERE payment_id = ?",
    ),
    selectAccount: prepare(`SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE account = ?`),
    writeAccount: prepare(`
      INSERT INTO accounts (${ACCOUNT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT (account) DO UPDATE SET
        funded_minor = excluded.funded_minor, reserved_minor = excluded.reserved_minor,
        spent_minor = excluded.spent_minor, reserved_count = excluded.reserved_count,
        spent_count = excluded.spent_count
    `),
    insertFunding: prepare(
      "INSERT INTO fundings (account, amount_minor, reason, at_ms) VALUES (?, ?, ?, ?)",
    ),
    selectRefund: prepare(
      "SELECT amount_minor, at_ms, answer_json FROM refunds WHERE payment_id = ? AND refund_id = ?",
    ),
    insertRefund: prepare(
      "INSERT INTO refunds (payment_id, refund_id, amount_minor, at_ms, answer_json) VALUES (?, ?, ?, ?, ?)",
    ),
    selectDue: prepare(`
      SELECT payment_id FROM payments
      WHERE state = 'reserved' AND expires_at_ms <= ?
      ORDER BY expires_at_ms, rowid
      LIMIT ?
    `).pluck(),
    allPayments: prepare(`SELECT ${PAYMENT_LEDGER_COLUMNS} FROM payments WHERE state IS NOT NULL`),
    allAccounts: prepare(`SELECT ${ACCOUNT_COLUMNS} FROM accounts ORDER BY account`),
    fundedByAccount: prepare(
      "SELECT account, sum(amount_minor) AS amount_minor FROM fundings GROUP BY account",
    ),
    refundedByPayment: prepare(
      "SELECT payment_id, sum(amount_minor) AS amount_minor FROM refunds GROUP BY payment_id",
    ),
    recordCorrection: prepare(
      "INSERT INTO counter_corrections (account, counter, before_value, after_value, at_ms) VALUES (?, ?, ?, ?, ?)",
    ),
  };
}

export type LedgerStatements = ReturnType<typeof prepareLedgerStatements>;
