/**
 * Every SQL statement of the SQLite ledger, prepared once per connection, and the shapes of the
 * rows they return. Money columns come back as numbers: the store keeps every counter at most
 * 2^53 - 1. The reconciliation reads bigint, so that even a corrupt sum is reported exactly.
 */
import type BetterSqlite3 from "better-sqlite3";
import type { ReservationState } from "../../core/ledger/reservation-lifecycle.ts";

export interface PaymentRow {
  readonly content_key: string;
  readonly answer_json: string;
}

export interface SettlementRow {
  readonly state: ReservationState | null;
  readonly expires_at_ms: number | null;
}

export interface EntryRow {
  readonly entry_id: number;
  readonly campaign_id: string;
  readonly reserved_minor: number;
  readonly committed_minor: number;
}

export interface DebitRow {
  readonly entry_id: number;
  readonly account: string;
  readonly amount_minor: number;
  readonly count: number;
}

export interface BalanceRow {
  readonly funded_minor: number;
  readonly reserved_minor: number;
  readonly spent_minor: number;
  readonly reserved_count: number;
  readonly spent_count: number;
}

/** Counters and the ledger's sums for one account; bigint so a corrupt sum is still exact. */
export interface ReconciliationRow {
  readonly account: string;
  readonly funded_minor: bigint;
  readonly reserved_minor: bigint;
  readonly spent_minor: bigint;
  readonly reserved_count: bigint;
  readonly spent_count: bigint;
  readonly ledger_funded_minor: bigint;
  readonly ledger_reserved_minor: bigint;
  readonly ledger_spent_minor: bigint;
  readonly ledger_reserved_count: bigint;
  readonly ledger_spent_count: bigint;
  readonly is_funded: bigint;
}

/** Per account: counters next to what the fundings and the ledger entries say they must be. */
const RECONCILIATION_SQL = `
  WITH ledger AS (
    SELECT d.account,
      sum(CASE WHEN p.state = 'reserved' THEN d.amount_minor ELSE 0 END) AS reserved_minor,
      sum(CASE WHEN p.state = 'committed' THEN e.committed_minor ELSE 0 END) AS spent_minor,
      sum(CASE WHEN p.state = 'reserved' THEN d.count ELSE 0 END) AS reserved_count,
      sum(CASE WHEN p.state = 'committed' AND e.committed_minor > 0 THEN d.count ELSE 0 END)
        AS spent_count
    FROM entry_debits d
    JOIN entries e ON e.entry_id = d.entry_id
    JOIN payments p ON p.payment_id = e.payment_id
    GROUP BY d.account
  ),
  funding AS (
    SELECT account, sum(amount_minor) AS funded_minor FROM fundings GROUP BY account
  )
  SELECT a.account, a.funded_minor, a.reserved_minor, a.spent_minor, a.reserved_count,
    a.spent_count,
    coalesce(f.funded_minor, 0) AS ledger_funded_minor,
    coalesce(l.reserved_minor, 0) AS ledger_reserved_minor,
    coalesce(l.spent_minor, 0) AS ledger_spent_minor,
    coalesce(l.reserved_count, 0) AS ledger_reserved_count,
    coalesce(l.spent_count, 0) AS ledger_spent_count,
    f.account IS NOT NULL AS is_funded
  FROM accounts a
  LEFT JOIN ledger l ON l.account = a.account
  LEFT JOIN funding f ON f.account = a.account
  ORDER BY a.account
`;

export function prepareLedgerStatements(database: BetterSqlite3.Database) {
  const prepare = (sql: string) => database.prepare(sql);
  return {
    begin: prepare("BEGIN IMMEDIATE"),
    commit: prepare("COMMIT"),
    rollback: prepare("ROLLBACK"),
    savepointSubsidy: prepare("SAVEPOINT ledger_subsidy"),
    releaseSubsidy: prepare("RELEASE ledger_subsidy"),
    rollbackSubsidy: prepare("ROLLBACK TO ledger_subsidy"),
    selectPayment: prepare("SELECT content_key, answer_json FROM payments WHERE payment_id = ?"),
    insertPayment: prepare(
      "INSERT INTO payments (payment_id, content_key, answer_json, state, expires_at_ms) VALUES (?, ?, ?, ?, ?)",
    ),
    insertEntry: prepare(
      "INSERT INTO entries (payment_id, position, campaign_id, reserved_minor) VALUES (?, ?, ?, ?)",
    ),
    insertDebit: prepare(
      "INSERT INTO entry_debits (entry_id, position, account, amount_minor, count) VALUES (?, ?, ?, ?, ?)",
    ),
    // The fit check and the debit are one statement: the row changes only if the debit fits.
    debit: prepare(`
      UPDATE accounts
      SET reserved_minor = reserved_minor + ?, reserved_count = reserved_count + ?
      WHERE account = ?
        AND reserved_minor + spent_minor + ? <= CASE WHEN ? = 1 THEN funded_minor ELSE ? END
        AND reserved_count + spent_count + ? <= ?
    `),
    // An account's first debit: created only if the debit fits an empty account (a funded
    // account never funded has capacity 0); an existing row is left alone (it did not fit).
    debitNew: prepare(`
      INSERT INTO accounts (account, reserved_minor, reserved_count)
      SELECT ?, ?, ? WHERE ? <= CASE WHEN ? = 1 THEN 0 ELSE ? END AND ? <= ?
      ON CONFLICT (account) DO NOTHING
    `),
    ensureAccount: prepare(
      "INSERT INTO accounts (account) VALUES (?) ON CONFLICT (account) DO NOTHING",
    ),
    commitDebit: prepare(`
      UPDATE accounts
      SET reserved_minor = reserved_minor - @amount, reserved_count = reserved_count - @count,
        spent_minor = spent_minor + @spent, spent_count = spent_count + @spentCount
      WHERE account = @account
    `),
    releaseDebit: prepare(
      "UPDATE accounts SET reserved_minor = reserved_minor - ?, reserved_count = reserved_count - ? WHERE account = ?",
    ),
    addFunding: prepare("UPDATE accounts SET funded_minor = funded_minor + ? WHERE account = ?"),
    insertFunding: prepare(
      "INSERT INTO fundings (account, amount_minor, reason, at_ms) VALUES (?, ?, ?, ?)",
    ),
    selectSettlement: prepare("SELECT state, expires_at_ms FROM payments WHERE payment_id = ?"),
    selectEntries: prepare(
      "SELECT entry_id, campaign_id, reserved_minor, committed_minor FROM entries WHERE payment_id = ? ORDER BY position",
    ),
    selectDebits: prepare(`
      SELECT d.entry_id, d.account, d.amount_minor, d.count
      FROM entries e JOIN entry_debits d ON d.entry_id = e.entry_id
      WHERE e.payment_id = ?
      ORDER BY e.position, d.position
    `),
    updateCommitted: prepare("UPDATE entries SET committed_minor = ? WHERE entry_id = ?"),
    updateState: prepare("UPDATE payments SET state = ? WHERE payment_id = ?"),
    selectDue: prepare(`
      SELECT payment_id FROM payments
      WHERE state = 'reserved' AND expires_at_ms <= ?
      ORDER BY expires_at_ms, rowid
      LIMIT ?
    `),
    selectBalance: prepare(
      "SELECT funded_minor, reserved_minor, spent_minor, reserved_count, spent_count FROM accounts WHERE account = ?",
    ),
    reconcile: prepare(RECONCILIATION_SQL).safeIntegers(true),
    duplicateEntries: prepare(`
      SELECT campaign_id, count(*) AS entries FROM entries
      GROUP BY payment_id, campaign_id HAVING count(*) > 1
    `).safeIntegers(true),
    recordCorrection: prepare(
      "INSERT INTO counter_corrections (account, counter, before_value, after_value, at_ms) VALUES (?, ?, ?, ?, ?)",
    ),
  };
}

export type LedgerStatements = ReturnType<typeof prepareLedgerStatements>;
