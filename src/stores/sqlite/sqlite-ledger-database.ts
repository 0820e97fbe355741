/**
 * The SQLite ledger on one connection, synchronously. It runs inside the store's worker thread
 * (sqlite-ledger-worker.ts), which feeds it batches. The decisions are the ledger book's
 * (src/core/ledger/ledger-book.ts), the same rules as every store; this class gives the book its
 * state (sqlite-ledger-state.ts) inside a write transaction (BEGIN IMMEDIATE), which no other
 * connection or process can interleave, and commits many calls per transaction.
 */
import BetterSqlite3 from "better-sqlite3";
import { type AccountBalance, LedgerBook } from "../../core/ledger/ledger-book.ts";
import {
  type CounterDifference,
  compareCounters,
  type LedgerVerification,
  ledgerSums,
  verifyLedger,
} from "../../core/ledger/ledger-verification.ts";
import {
  type AccountRow,
  countersOf,
  type PaymentLedgerRow,
  paymentLedgerPartOf,
} from "../ledger-rows.ts";
import type {
  CallOutcome,
  LedgerCall,
  LedgerCallValue,
  LedgerRecovery,
} from "./sqlite-ledger-protocol.ts";
import { migrate } from "./sqlite-ledger-schema.ts";
import { SqliteLedgerState } from "./sqlite-ledger-state.ts";
import { type LedgerStatements, prepareLedgerStatements } from "./sqlite-ledger-statements.ts";

/** Calls of one batch that may throw before the batch gives up on the rest (each costs a rerun). */
const FAILED_CALLS_PER_BATCH_MAX = 8;

/** The connection's page cache. */
const PAGE_CACHE_KIB = 65_536;

/** Expiry at open works in slices of this many reservations, each in its own transaction. */
const RECOVERY_EXPIRY_SLICE = 10_000;

export interface SqliteLedgerDatabaseOptions {
  readonly path: string;
  readonly busyTimeoutMs: number;
}

export class SqliteLedgerDatabase {
  private readonly database: BetterSqlite3.Database;
  private readonly statements: LedgerStatements;
  private readonly state: SqliteLedgerState;
  private readonly book: LedgerBook;

  private constructor(database: BetterSqlite3.Database) {
    this.database = database;
    this.statements = prepareLedgerStatements(database);
    this.state = new SqliteLedgerState(this.statements);
    this.book = new LedgerBook(this.state);
  }

  /** Opens (creating if needed) and migrates the database file. */
  static open(
    options: SqliteLedgerDatabaseOptions,
    nowMs: number,
  ): {
    database: SqliteLedgerDatabase;
    migrationsApplied: number[];
  } {
    const connection = new BetterSqlite3(options.path);
    try {
      connection.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs)}`);
      const mode = connection.pragma("journal_mode = WAL", { simple: true });
      if (mode !== "wal")
        throw new Error(`could not put ${options.path} in WAL mode (got ${mode})`);
      // FULL: each commit is fsynced before it returns, so an answer is durable before it is sent.
      connection.pragma("synchronous = FULL");
      connection.pragma("foreign_keys = ON");
      // 64 MiB of page cache rather than SQLite's 2 MiB: the index pages a batch reads and writes
      // stay in memory as the ledger grows (measured: a fifth more reservations per second).
      connection.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
      // Sorts and groupings (verification, recovery) in memory rather than in temporary files.
      connection.pragma("temp_store = MEMORY");
      const migrationsApplied = migrate(connection, nowMs);
      return { database: new SqliteLedgerDatabase(connection), migrationsApplied };
    } catch (error) {
      connection.close();
      throw error;
    }
  }

  close(): void {
    this.database.close();
  }

  /**
   * Decides the calls in one transaction (group commit), in order, and commits; the outcomes stand
   * only once COMMIT has returned — if it fails, every call of the batch fails and nothing is
   * written. Calls share no savepoint: a savepoint per call made SQLite copy every page a call
   * touches (measured: a fifth of the throughput). Instead a call that throws (a bug, a broken
   * constraint) rolls the whole transaction back, and the batch runs again without it, from the
   * same state and so with the same answers. (The book refuses a subsidy before it changes
   * anything, so a refusal needs no rollback.)
   */
  runBatch(calls: readonly LedgerCall[]): CallOutcome[] {
    const failures = new Map<number, string>();
    for (;;) {
      const attempt = this.attempt(calls, failures);
      if (attempt.kind === "committed") {
        return calls.map((_, index) => {
          const failure = failures.get(index);
          return failure === undefined
            ? { ok: true, value: attempt.values[index] }
            : { ok: false, message: failure };
        });
      }
      if (attempt.kind === "call_failed" && failures.size < FAILED_CALLS_PER_BATCH_MAX) {
        failures.set(attempt.index, attempt.message);
        continue;
      }
      const message = `the ledger transaction failed and wrote nothing: ${attempt.message}`;
      return calls.map(() => ({ ok: false, message }));
    }
  }

  private attempt(
    calls: readonly LedgerCall[],
    skipped: ReadonlyMap<number, string>,
  ):
    | { readonly kind: "committed"; readonly values: LedgerCallValue[] }
    | { readonly kind: "call_failed"; readonly index: number; readonly message: string }
    | { readonly kind: "batch_failed"; readonly message: string } {
    try {
      this.begin();
    } catch (error) {
      // Another process held the write lock for longer than the busy timeout.
      return { kind: "batch_failed", message: messageOf(error) };
    }
    const values: LedgerCallValue[] = new Array(calls.length);
    let index = 0;
    try {
      for (; index < calls.length; index += 1) {
        if (!skipped.has(index)) values[index] = this.execute(calls[index]!);
      }
    } catch (error) {
      // Disk full or I/O errors end the transaction inside SQLite: the batch, not the call, failed.
      const callOnly = this.database.inTransaction;
      this.rollback();
      return callOnly
        ? { kind: "call_failed", index, message: messageOf(error) }
        : { kind: "batch_failed", message: messageOf(error) };
    }
    try {
      this.commit();
    } catch (error) {
      this.rollback();
      return { kind: "batch_failed", message: messageOf(error) };
    }
    return { kind: "committed", values };
  }

  private begin(): void {
    this.statements.begin.run();
    this.state.beginTransaction();
  }

  private commit(): void {
    this.state.flush();
    this.statements.commit.run();
  }

  private rollback(): void {
    if (this.database.inTransaction) this.statements.rollback.run();
    this.state.discard();
  }

  private execute(call: LedgerCall): LedgerCallValue {
    switch (call.kind) {
      case "reserve":
        return call.requests.map((request) => this.book.reserve(request));
      case "settle":
        return call.commands.map((command) => this.book.settle(command));
      case "refund":
        return call.commands.map((command) => this.book.refund(command));
      case "fund":
        return this.book.fund(call.account, call.amountMinor, call.reason, call.atMs);
      case "fundUpTo":
        return this.book.fundUpTo(call.targets, call.reason, call.atMs);
      case "expireDue":
        return this.book.expireDue(call.nowMs, call.limit);
      case "balance":
        return this.balance(call.account);
      case "verify":
        // The batch's changes so far, written, so that the check reads them.
        this.state.flush();
        return this.verify();
    }
  }

  private balance(account: string): AccountBalance | undefined {
    const counters = this.state.account(account);
    return counters === undefined ? undefined : { account, ...counters };
  }

  /**
   * The ledger's invariants (`verifyLedger`) over the committed rows and, inside a batch, the
   * batch's writes so far, without changing anything: the store and `bursar ledger verify` use it.
   */
  verify(): LedgerVerification {
    return verifyLedger({
      accounts: this.accountRows(),
      fundedByAccount: this.fundedByAccount(),
      payments: this.paymentRecords(),
      refundedByPayment: new Map(
        (
          this.statements.refundedByPayment.all() as { payment_id: string; amount_minor: number }[]
        ).map((row) => [row.payment_id, row.amount_minor]),
      ),
    });
  }

  private *accountRows() {
    for (const row of this.statements.allAccounts.iterate() as Iterable<AccountRow>) {
      yield [row.account, countersOf(row)] as const;
    }
  }

  private *paymentRecords() {
    for (const row of this.statements.allPayments.iterate() as Iterable<PaymentLedgerRow>) {
      yield paymentLedgerPartOf(row);
    }
  }

  private fundedByAccount(): Map<string, number> {
    return new Map(
      (this.statements.fundedByAccount.all() as { account: string; amount_minor: number }[]).map(
        (row) => [row.account, row.amount_minor],
      ),
    );
  }

  /**
   * Brings the database to a consistent state at open. Every write here is transactional, so the
   * counters cannot disagree with the ledger; if they do (a bug, an older version, a hand edit),
   * the ledger wins — counters are its sums — and each correction is recorded. Then reservations
   * whose expiry has passed are released.
   */
  recover(nowMs: number): Omit<LedgerRecovery, "migrationsApplied"> {
    let correctedAccounts = 0;
    this.begin();
    try {
      const corrections: CounterDifference[] = [];
      compareCounters(
        this.accountRows(),
        ledgerSums(this.paymentRecords(), this.fundedByAccount()),
        (difference) => corrections.push(difference),
      );
      const corrected = new Set<string>();
      for (const { account, counter, actual: before, expected: after } of corrections) {
        if (after < 0 || !Number.isSafeInteger(after)) {
          throw new Error(
            `the ledger's ${counter} for ${account} is ${after}, outside 0..2^53-1; refusing to open a corrupt ledger`,
          );
        }
        this.statements.recordCorrection.run(account, COLUMN_OF[counter], before, after, nowMs);
        this.state.accountForUpdate(account)[counter] = after;
        corrected.add(account);
      }
      correctedAccounts = corrected.size;
      this.commit();
    } catch (error) {
      this.rollback();
      throw error;
    }
    let expiredReservations = 0;
    for (;;) {
      this.begin();
      let expired: number;
      try {
        expired = this.book.expireDue(nowMs, RECOVERY_EXPIRY_SLICE);
        this.commit();
      } catch (error) {
        this.rollback();
        throw error;
      }
      expiredReservations += expired;
      if (expired < RECOVERY_EXPIRY_SLICE) break;
    }
    return { correctedAccounts, expiredReservations };
  }
}

/** The column behind each counter, as `counter_corrections` names it. */
const COLUMN_OF = {
  fundedMinor: "funded_minor",
  reservedMinor: "reserved_minor",
  spentMinor: "spent_minor",
  reservedCount: "reserved_count",
  spentCount: "spent_count",
} as const;

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
