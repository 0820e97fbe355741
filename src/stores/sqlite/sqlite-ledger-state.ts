/**
 * The book's state (LedgerBookState) on one SQLite connection, inside the writer's transaction.
 *
 * Account counters are cached in the writer: a batch reads each account once and writes each
 * changed account once, just before COMMIT (`flush`), however many of the batch's payments drew
 * on it — a campaign's budget row is written once per batch, not once per payment. The cache is
 * only ever a copy of committed rows plus the current transaction's changes: it is dropped when a
 * transaction rolls back, and when another connection has committed since (PRAGMA data_version),
 * so a second process writing the same file is seen. Payment and refund rows are written at once.
 */
import {
  type AccountCounters,
  type LedgerBookState,
  type PaymentRecord,
  type RefundRecord,
  zeroCounters,
} from "../../core/ledger/ledger-book.ts";
import type { RefundAnswer } from "../../core/ledger/refund.ts";
import {
  type AccountRow,
  countersOf,
  entriesJsonOf,
  type PaymentRow,
  paymentOf,
} from "../ledger-rows.ts";
import type { LedgerStatements, RefundRow } from "./sqlite-ledger-statements.ts";

/** Accounts kept between batches; past it the cache starts afresh at the next transaction. */
const CACHED_ACCOUNTS_MAX = 200_000;

export class SqliteLedgerState implements LedgerBookState {
  /** null: known not to exist. */
  private readonly cache = new Map<string, AccountCounters | null>();
  private readonly changed = new Set<string>();
  private dataVersion: unknown;

  constructor(private readonly statements: LedgerStatements) {}

  /** At the start of every write transaction, once the write lock is held. */
  beginTransaction(): void {
    const dataVersion = this.statements.dataVersion.get();
    if (dataVersion !== this.dataVersion || this.cache.size > CACHED_ACCOUNTS_MAX) {
      this.cache.clear();
    }
    this.dataVersion = dataVersion;
    this.changed.clear();
  }

  /** Writes every account changed in this transaction; call before COMMIT. */
  flush(): void {
    for (const name of this.changed) {
      const account = this.cache.get(name);
      if (account === undefined || account === null) {
        throw new Error(`changed ledger account ${name} is missing from the cache`);
      }
      this.statements.writeAccount.run(
        name,
        account.fundedMinor,
        account.reservedMinor,
        account.spentMinor,
        account.reservedCount,
        account.spentCount,
      );
    }
    this.changed.clear();
  }

  /** After a rollback: the cache holds changes that were never written. */
  discard(): void {
    this.cache.clear();
    this.changed.clear();
  }

  account(name: string): AccountCounters | undefined {
    let account = this.cache.get(name);
    if (account === undefined) {
      const row = this.statements.selectAccount.get(name) as AccountRow | undefined;
      account = row === undefined ? null : countersOf(row);
      this.cache.set(name, account);
    }
    return account ?? undefined;
  }

  accountForUpdate(name: string): AccountCounters {
    let account = this.account(name);
    if (account === undefined) {
      account = zeroCounters();
      this.cache.set(name, account);
    }
    this.changed.add(name);
    return account;
  }

  payment(paymentId: string): PaymentRecord | undefined {
    const row = this.statements.selectPayment.get(paymentId) as PaymentRow | undefined;
    return row === undefined ? undefined : paymentOf(row);
  }

  savePayment(record: PaymentRecord, isNew: boolean): void {
    const entriesJson = entriesJsonOf(record);
    if (isNew) {
      this.statements.insertPayment.run(
        record.paymentId,
        record.contentKey,
        JSON.stringify(record.answer),
        record.state,
        record.expiresAtMs,
        record.paymentAmountMinor,
        record.refundedMinor,
        entriesJson,
      );
    } else {
      this.statements.updatePayment.run(
        record.state,
        record.refundedMinor,
        entriesJson,
        record.paymentId,
      );
    }
  }

  refund(paymentId: string, refundId: string): RefundRecord | undefined {
    const row = this.statements.selectRefund.get(paymentId, refundId) as RefundRow | undefined;
    if (row === undefined) return undefined;
    return {
      paymentId,
      refundId,
      amountMinor: row.amount_minor,
      atMs: row.at_ms,
      answer: JSON.parse(row.answer_json) as RefundAnswer,
    };
  }

  saveRefund(record: RefundRecord): void {
    this.statements.insertRefund.run(
      record.paymentId,
      record.refundId,
      record.amountMinor,
      record.atMs,
      JSON.stringify(record.answer),
    );
  }

  saveFunding(account: string, amountMinor: number, reason: string, atMs: number): void {
    this.statements.insertFunding.run(account, amountMinor, reason, atMs);
  }

  dueReservations(nowMs: number, limit: number): string[] {
    return this.statements.selectDue.all(nowMs, limit) as string[];
  }
}
