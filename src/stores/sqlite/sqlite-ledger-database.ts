/**
 * The SQLite ledger's decisions, synchronously, on one connection. It runs inside the store's
 * worker thread (sqlite-ledger-worker.ts), which feeds it batches; the decision rules are the
 * memory store's (src/ledger/memory-ledger-store.ts) — the same transition table and commit
 * split — with each debit checked and applied by one guarded statement. Everything runs inside a
 * write transaction (BEGIN IMMEDIATE), which no other connection or process can interleave.
 */
import BetterSqlite3 from "better-sqlite3";
import type {
  Debit,
  PlannedSubsidy,
  ReservationAnswer,
  ReservationRequest,
  ReserveResult,
  SubsidyAnswer,
} from "../../core/ledger/reservation.ts";
import { type ReservationState, transition } from "../../core/ledger/reservation-lifecycle.ts";
import {
  type SettleAnswer,
  type SettleCommand,
  type SettledEntry,
  splitCommit,
} from "../../core/ledger/settlement.ts";
import { isAmountMinor } from "../../core/money.ts";
import type {
  AccountBalance,
  FundAnswer,
  LedgerVerification,
  LedgerViolation,
} from "../../ledger/ledger-store.ts";
import type {
  CallOutcome,
  LedgerCall,
  LedgerCallValue,
  LedgerRecovery,
} from "./sqlite-ledger-protocol.ts";
import { migrate } from "./sqlite-ledger-schema.ts";
import {
  type BalanceRow,
  type DebitRow,
  type EntryRow,
  type LedgerStatements,
  type PaymentRow,
  prepareLedgerStatements,
  type ReconciliationRow,
  type SettlementRow,
} from "./sqlite-ledger-statements.ts";

/**
 * The bound of a counter whose debit names no bound: counters stay exact as JavaScript numbers.
 * A debit that would pass it is refused like any other limit.
 */
const COUNTER_MAX = Number.MAX_SAFE_INTEGER;

/** Calls of one batch that may throw before the batch gives up on the rest (each costs a rerun). */
const FAILED_CALLS_PER_BATCH_MAX = 8;

/** Expiry at open works in slices of this many reservations, each in its own transaction. */
const RECOVERY_EXPIRY_SLICE = 10_000;

export interface SqliteLedgerDatabaseOptions {
  readonly path: string;
  readonly busyTimeoutMs: number;
}

export class SqliteLedgerDatabase {
  private readonly database: BetterSqlite3.Database;
  private readonly statements: LedgerStatements;

  private constructor(database: BetterSqlite3.Database) {
    this.database = database;
    this.statements = prepareLedgerStatements(database);
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
      // Savepoints journal the pages they touch; in memory rather than in a temporary file
      // (measured: the file made each reservation take half again as long).
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
   * same state and so with the same answers; a refused subsidy still rolls back alone, on its
   * own savepoint (`debitAll`).
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
    const { begin, commit, rollback } = this.statements;
    try {
      begin.run();
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
      if (callOnly) rollback.run();
      return callOnly
        ? { kind: "call_failed", index, message: messageOf(error) }
        : { kind: "batch_failed", message: messageOf(error) };
    }
    try {
      commit.run();
    } catch (error) {
      if (this.database.inTransaction) rollback.run();
      return { kind: "batch_failed", message: messageOf(error) };
    }
    return { kind: "committed", values };
  }

  private execute(call: LedgerCall): LedgerCallValue {
    switch (call.kind) {
      case "reserve":
        return call.requests.map((request) => this.reserveOne(request));
      case "settle":
        return call.commands.map((command) => this.settleOne(command));
      case "fund":
        return this.fund(call.account, call.amountMinor, call.reason, call.atMs);
      case "fundUpTo":
        return call.targets.map(({ account, targetMinor }) => {
          const fundedMinor =
            (this.statements.selectBalance.get(account) as BalanceRow | undefined)?.funded_minor ??
            0;
          return targetMinor > fundedMinor
            ? this.fund(account, targetMinor - fundedMinor, call.reason, call.atMs)
            : { code: "funding_unchanged" as const, account, fundedMinor };
        });
      case "expireDue":
        return this.expireDue(call.nowMs, call.limit);
      case "balance":
        return this.balance(call.account);
      case "verify":
        return this.verify();
    }
  }

  private fund(account: string, amountMinor: number, reason: string, atMs: number): FundAnswer {
    const current = this.statements.selectBalance.get(account) as BalanceRow | undefined;
    const fundedMinor = current?.funded_minor ?? 0;
    if (
      amountMinor <= 0 ||
      !isAmountMinor(amountMinor) ||
      !isAmountMinor(fundedMinor + amountMinor)
    ) {
      return { code: "invalid_amount", account, fundedMinor };
    }
    this.statements.ensureAccount.run(account);
    this.statements.addFunding.run(amountMinor, account);
    this.statements.insertFunding.run(account, amountMinor, reason, atMs);
    return { code: "funded", account, fundedMinor: fundedMinor + amountMinor };
  }

  private reserveOne(request: ReservationRequest): ReserveResult {
    const existing = this.statements.selectPayment.get(request.paymentId) as PaymentRow | undefined;
    if (existing !== undefined) {
      return existing.content_key === request.contentKey
        ? { code: "answered", answer: JSON.parse(existing.answer_json), replayed: true }
        : { code: "idempotency_conflict", paymentId: request.paymentId };
    }
    const reserved: PlannedSubsidy[] = [];
    const subsidies = request.subsidies.map((subsidy): SubsidyAnswer => {
      const refusal = this.debitAll(subsidy.debits);
      const { debits: _debits, ...described } = subsidy;
      if (refusal !== undefined) return { ...described, amountMinor: 0, code: refusal };
      reserved.push(subsidy);
      return { ...described, code: "reserved" };
    });
    const totalReservedMinor = reserved.reduce((sum, subsidy) => sum + subsidy.amountMinor, 0);
    const isReserved = reserved.length > 0;
    const answer: ReservationAnswer = {
      paymentId: request.paymentId,
      code: isReserved ? "reserved" : "no_subsidy",
      totalReservedMinor,
      expiresAtMs: isReserved ? request.expiresAtMs : null,
      snapshotVersion: request.snapshotVersion,
      subsidies,
    };
    this.statements.insertPayment.run(
      request.paymentId,
      request.contentKey,
      JSON.stringify(answer),
      isReserved ? "reserved" : null,
      answer.expiresAtMs,
    );
    reserved.forEach((subsidy, position) => {
      const entryId = this.statements.insertEntry.run(
        request.paymentId,
        position,
        subsidy.campaignId,
        subsidy.amountMinor,
      ).lastInsertRowid;
      subsidy.debits.forEach((debit, debitPosition) => {
        this.statements.insertDebit.run(
          entryId,
          debitPosition,
          debit.account,
          debit.amountMinor,
          debit.count,
        );
      });
    });
    return { code: "answered", answer, replayed: false };
  }

  /**
   * Debits every limit of one subsidy, or none: each debit is one guarded statement that changes
   * its row only if the amount and count fit, and the first that does not fit rolls the subsidy's
   * savepoint back. Earlier debits of the same subsidy on the same account count, as in memory.
   */
  private debitAll(debits: readonly Debit[]): Debit["refusal"] | undefined {
    const { savepointSubsidy, releaseSubsidy, rollbackSubsidy, debit, debitNew } = this.statements;
    savepointSubsidy.run();
    for (const each of debits) {
      const funded = each.funded ? 1 : 0;
      const capacity = each.capacityMinor ?? COUNTER_MAX;
      const countCapacity = each.countCapacity ?? COUNTER_MAX;
      // Positional parameters, in the order of the statement's placeholders.
      let changed = debit.run(
        each.amountMinor,
        each.count,
        each.account,
        each.amountMinor,
        funded,
        capacity,
        each.count,
        countCapacity,
      ).changes;
      if (changed === 0) {
        changed = debitNew.run(
          each.account,
          each.amountMinor,
          each.count,
          each.amountMinor,
          funded,
          capacity,
          each.count,
          countCapacity,
        ).changes;
      }
      if (changed !== 1) {
        // Also undoes the account rows this subsidy created: a refusal leaves no trace.
        rollbackSubsidy.run();
        releaseSubsidy.run();
        return each.refusal;
      }
    }
    releaseSubsidy.run();
    return undefined;
  }

  private settleOne(command: SettleCommand): SettleAnswer {
    const row = this.statements.selectSettlement.get(command.paymentId) as
      | SettlementRow
      | undefined;
    if (row === undefined || row.state === null) {
      return {
        paymentId: command.paymentId,
        code: "reservation_not_found",
        state: null,
        entries: [],
      };
    }
    let state: ReservationState = row.state;
    if (state === "reserved" && row.expires_at_ms !== null && command.atMs >= row.expires_at_ms) {
      this.expire(command.paymentId);
      state = "expired";
    }
    const entries = this.statements.selectEntries.all(command.paymentId) as EntryRow[];
    if (command.kind === "commit" && state === "reserved") {
      const reservedTotal = entries.reduce((sum, entry) => sum + entry.reserved_minor, 0);
      const totalMinor = command.totalMinor ?? reservedTotal;
      if (!isAmountMinor(totalMinor) || totalMinor > reservedTotal) {
        const code = totalMinor > reservedTotal ? "commit_exceeds_reservation" : "invalid_amount";
        return { paymentId: command.paymentId, code, state, entries: settledEntries(entries) };
      }
    }
    const step = transition(state, command.kind);
    if (!step.effective) {
      return {
        paymentId: command.paymentId,
        code: step.answer,
        state,
        entries: settledEntries(entries),
      };
    }
    const settled =
      command.kind === "commit"
        ? this.commit(command.paymentId, entries, command.totalMinor)
        : this.release(command.paymentId, entries);
    this.statements.updateState.run(step.next, command.paymentId);
    return { paymentId: command.paymentId, code: step.answer, state: step.next, entries: settled };
  }

  private commit(
    paymentId: string,
    entries: readonly EntryRow[],
    totalMinor: number | undefined,
  ): SettledEntry[] {
    const reserved = entries.map((entry) => entry.reserved_minor);
    const committed = splitCommit(
      reserved,
      totalMinor ?? reserved.reduce((sum, amount) => sum + amount, 0),
    );
    const debits = this.debitsOf(paymentId);
    return entries.map((entry, index) => {
      const committedMinor = committed[index]!;
      this.statements.updateCommitted.run(committedMinor, entry.entry_id);
      for (const debit of debits.get(entry.entry_id) ?? []) {
        expectOneChange(
          this.statements.commitDebit.run({
            account: debit.account,
            amount: debit.amount_minor,
            count: debit.count,
            spent: committedMinor,
            spentCount: committedMinor > 0 ? debit.count : 0,
          }).changes,
          debit.account,
        );
      }
      return { campaignId: entry.campaign_id, reservedMinor: entry.reserved_minor, committedMinor };
    });
  }

  private release(paymentId: string, entries: readonly EntryRow[]): SettledEntry[] {
    this.releaseDebits(paymentId);
    return settledEntries(entries);
  }

  private releaseDebits(paymentId: string): void {
    for (const debits of this.debitsOf(paymentId).values()) {
      for (const debit of debits) {
        expectOneChange(
          this.statements.releaseDebit.run(debit.amount_minor, debit.count, debit.account).changes,
          debit.account,
        );
      }
    }
  }

  private expire(paymentId: string): void {
    this.releaseDebits(paymentId);
    this.statements.updateState.run("expired", paymentId);
  }

  private debitsOf(paymentId: string): Map<number, DebitRow[]> {
    const byEntry = new Map<number, DebitRow[]>();
    for (const row of this.statements.selectDebits.all(paymentId) as DebitRow[]) {
      const list = byEntry.get(row.entry_id) ?? [];
      list.push(row);
      byEntry.set(row.entry_id, list);
    }
    return byEntry;
  }

  private expireDue(nowMs: number, limit: number): number {
    const due = this.statements.selectDue.all(nowMs, limit) as { payment_id: string }[];
    for (const row of due) this.expire(row.payment_id);
    return due.length;
  }

  private balance(account: string): AccountBalance | undefined {
    const row = this.statements.selectBalance.get(account) as BalanceRow | undefined;
    if (row === undefined) return undefined;
    return {
      account,
      fundedMinor: row.funded_minor,
      reservedMinor: row.reserved_minor,
      spentMinor: row.spent_minor,
      reservedCount: row.reserved_count,
      spentCount: row.spent_count,
    };
  }

  /**
   * The memory store's invariants, computed by SQL over the ledger (exact, in bigint), without
   * changing anything: the store and `bursar ledger verify` use it.
   */
  verify(): LedgerVerification {
    const violations: LedgerViolation[] = [];
    for (const row of this.statements.duplicateEntries.all() as {
      campaign_id: string;
      entries: bigint;
    }[]) {
      violations.push({
        invariant: "one_entry_per_payment_and_campaign",
        budget: row.campaign_id,
        expected: "1",
        actual: String(row.entries),
      });
    }
    const rows = this.statements.reconcile.all() as ReconciliationRow[];
    for (const row of rows) {
      const check = (invariant: string, expected: bigint, actual: bigint) => {
        if (expected !== actual) {
          violations.push({
            invariant,
            budget: row.account,
            expected: String(expected),
            actual: String(actual),
          });
        }
      };
      check("reserved_equals_ledger", row.ledger_reserved_minor, row.reserved_minor);
      check("spent_equals_ledger", row.ledger_spent_minor, row.spent_minor);
      check("funded_equals_fundings", row.ledger_funded_minor, row.funded_minor);
      check("reserved_count_equals_ledger", row.ledger_reserved_count, row.reserved_count);
      check("spent_count_equals_ledger", row.ledger_spent_count, row.spent_count);
      if (row.is_funded !== 0n && row.reserved_minor + row.spent_minor > row.funded_minor) {
        violations.push({
          invariant: "available_reserved_spent_equal_funded",
          budget: row.account,
          expected: `reserved + spent <= ${row.funded_minor}`,
          actual: String(row.reserved_minor + row.spent_minor),
        });
      }
    }
    return { budgets: rows.length, violations, ok: violations.length === 0 };
  }

  /**
   * Brings the database to a consistent state at open. Every write here is transactional, so the
   * counters cannot disagree with the ledger; if they do (a bug, an older version, a hand edit),
   * the ledger wins — counters are its sums — and each correction is recorded. Then reservations
   * whose expiry has passed are released.
   */
  recover(nowMs: number): Omit<LedgerRecovery, "migrationsApplied"> {
    const { begin, commit, rollback } = this.statements;
    begin.run();
    let correctedAccounts = 0;
    try {
      // Accounts the ledger names but the counters lack (none, unless written outside the store).
      this.database.exec(`
        INSERT INTO accounts (account)
        SELECT account FROM entry_debits WHERE true UNION SELECT account FROM fundings WHERE true
        ON CONFLICT (account) DO NOTHING
      `);
      for (const row of this.statements.reconcile.all() as ReconciliationRow[]) {
        if (this.correct(row, nowMs)) correctedAccounts += 1;
      }
      commit.run();
    } catch (error) {
      if (this.database.inTransaction) rollback.run();
      throw error;
    }
    let expiredReservations = 0;
    for (;;) {
      begin.run();
      const expired = this.expireDue(nowMs, RECOVERY_EXPIRY_SLICE);
      commit.run();
      expiredReservations += expired;
      if (expired < RECOVERY_EXPIRY_SLICE) break;
    }
    return { correctedAccounts, expiredReservations };
  }

  private correct(row: ReconciliationRow, nowMs: number): boolean {
    const pairs = [
      ["funded_minor", row.funded_minor, row.ledger_funded_minor],
      ["reserved_minor", row.reserved_minor, row.ledger_reserved_minor],
      ["spent_minor", row.spent_minor, row.ledger_spent_minor],
      ["reserved_count", row.reserved_count, row.ledger_reserved_count],
      ["spent_count", row.spent_count, row.ledger_spent_count],
    ] as const;
    const wrong = pairs.filter(([, actual, expected]) => actual !== expected);
    for (const [counter, actual, expected] of wrong) {
      if (expected < 0n || expected > BigInt(COUNTER_MAX)) {
        throw new Error(
          `the ledger's ${counter} for ${row.account} is ${expected}, outside 0..2^53-1; refusing to open a corrupt ledger`,
        );
      }
      this.statements.recordCorrection.run(row.account, counter, actual, expected, nowMs);
      // The column name comes from the fixed list above, never from input.
      this.database
        .prepare(`UPDATE accounts SET ${counter} = ? WHERE account = ?`)
        .run(expected, row.account);
    }
    return wrong.length > 0;
  }
}

function settledEntries(entries: readonly EntryRow[]): SettledEntry[] {
  return entries.map((entry) => ({
    campaignId: entry.campaign_id,
    reservedMinor: entry.reserved_minor,
    committedMinor: entry.committed_minor,
  }));
}

/** Settling touches accounts the reservation created; a missing one is a broken ledger. */
function expectOneChange(changes: number, account: string): void {
  if (changes !== 1) throw new Error(`ledger account ${account} is missing while settling`);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
