/**
 * The ledger store in memory: the plainest implementation of the port, for application tests and
 * as the executable reading of the contract. Not durable; the SQLite and PostgreSQL stores are.
 */
import type {
  Debit,
  ReservationAnswer,
  ReservationRequest,
  ReserveResult,
} from "../core/ledger/reservation.ts";
import { type ReservationState, transition } from "../core/ledger/reservation-lifecycle.ts";
import {
  type SettleAnswer,
  type SettleCommand,
  type SettledEntry,
  splitCommit,
} from "../core/ledger/settlement.ts";
import { isAmountMinor } from "../core/money.ts";
import { checkLedgerCall } from "./check-ledger-call.ts";
import type { LedgerCall } from "./ledger-call.ts";
import type {
  AccountBalance,
  FundAnswer,
  FundingTarget,
  LedgerStore,
  LedgerVerification,
  LedgerViolation,
} from "./ledger-store.ts";

interface Account {
  fundedMinor: number;
  reservedMinor: number;
  spentMinor: number;
  reservedCount: number;
  spentCount: number;
}

interface Entry {
  readonly campaignId: string;
  readonly reservedMinor: number;
  committedMinor: number;
  readonly debits: readonly Debit[];
}

interface PaymentRecord {
  readonly contentKey: string;
  readonly answer: ReservationAnswer;
  state: ReservationState | null;
  readonly expiresAtMs: number | null;
  readonly entries: Entry[];
}

export class MemoryLedgerStore implements LedgerStore {
  private readonly accounts = new Map<string, Account>();
  private readonly fundings = new Map<string, number>();
  private readonly payments = new Map<string, PaymentRecord>();

  async fund(
    account: string,
    amountMinor: number,
    _reason: string,
    _atMs: number,
  ): Promise<FundAnswer> {
    const current = this.accountFor(account);
    if (
      amountMinor <= 0 ||
      !isAmountMinor(amountMinor) ||
      !isAmountMinor(current.fundedMinor + amountMinor)
    ) {
      return { code: "invalid_amount", account, fundedMinor: current.fundedMinor };
    }
    current.fundedMinor += amountMinor;
    this.fundings.set(account, (this.fundings.get(account) ?? 0) + amountMinor);
    return { code: "funded", account, fundedMinor: current.fundedMinor };
  }

  async fundUpTo(
    targets: readonly FundingTarget[],
    reason: string,
    atMs: number,
  ): Promise<FundAnswer[]> {
    const answers: FundAnswer[] = [];
    for (const { account, targetMinor } of targets) {
      const fundedMinor = this.accounts.get(account)?.fundedMinor ?? 0;
      answers.push(
        targetMinor > fundedMinor
          ? await this.fund(account, targetMinor - fundedMinor, reason, atMs)
          : { code: "funding_unchanged", account, fundedMinor },
      );
    }
    return answers;
  }

  async reserve(requests: readonly ReservationRequest[]): Promise<ReserveResult[]> {
    refuseMalformed({ kind: "reserve", requests });
    return requests.map((request) => this.reserveOne(request));
  }

  private reserveOne(request: ReservationRequest): ReserveResult {
    const existing = this.payments.get(request.paymentId);
    if (existing !== undefined) {
      return existing.contentKey === request.contentKey
        ? { code: "answered", answer: existing.answer, replayed: true }
        : { code: "idempotency_conflict", paymentId: request.paymentId };
    }
    const entries: Entry[] = [];
    const subsidies = request.subsidies.map((subsidy) => {
      const refusal = this.firstRefusal(subsidy.debits);
      const { debits: _debits, ...described } = subsidy;
      if (refusal !== undefined) return { ...described, amountMinor: 0, code: refusal };
      for (const debit of subsidy.debits) {
        const account = this.accountFor(debit.account);
        account.reservedMinor += debit.amountMinor;
        account.reservedCount += debit.count;
      }
      entries.push({
        campaignId: subsidy.campaignId,
        reservedMinor: subsidy.amountMinor,
        committedMinor: 0,
        debits: subsidy.debits,
      });
      return { ...described, code: "reserved" as const };
    });
    const totalReservedMinor = entries.reduce((sum, entry) => sum + entry.reservedMinor, 0);
    const reserved = entries.length > 0;
    const answer: ReservationAnswer = {
      paymentId: request.paymentId,
      code: reserved ? "reserved" : "no_subsidy",
      totalReservedMinor,
      expiresAtMs: reserved ? request.expiresAtMs : null,
      snapshotVersion: request.snapshotVersion,
      subsidies,
    };
    this.payments.set(request.paymentId, {
      contentKey: request.contentKey,
      answer,
      state: reserved ? "reserved" : null,
      expiresAtMs: answer.expiresAtMs,
      entries,
    });
    return { code: "answered", answer, replayed: false };
  }

  /** The refusal of the first debit that does not fit, counting earlier debits of the same subsidy. */
  private firstRefusal(debits: readonly Debit[]): Debit["refusal"] | undefined {
    const pending = new Map<string, { amountMinor: number; count: number }>();
    for (const debit of debits) {
      const account = this.accounts.get(debit.account);
      const before = pending.get(debit.account) ?? { amountMinor: 0, count: 0 };
      const usedMinor =
        (account?.reservedMinor ?? 0) + (account?.spentMinor ?? 0) + before.amountMinor;
      const usedCount = (account?.reservedCount ?? 0) + (account?.spentCount ?? 0) + before.count;
      const capacityMinor = debit.funded ? (account?.fundedMinor ?? 0) : debit.capacityMinor;
      if (capacityMinor !== null && usedMinor + debit.amountMinor > capacityMinor)
        return debit.refusal;
      if (debit.countCapacity !== null && usedCount + debit.count > debit.countCapacity)
        return debit.refusal;
      pending.set(debit.account, {
        amountMinor: before.amountMinor + debit.amountMinor,
        count: before.count + debit.count,
      });
    }
    return undefined;
  }

  async settle(commands: readonly SettleCommand[]): Promise<SettleAnswer[]> {
    refuseMalformed({ kind: "settle", commands });
    return commands.map((command) => this.settleOne(command));
  }

  private settleOne(command: SettleCommand): SettleAnswer {
    const record = this.payments.get(command.paymentId);
    if (record === undefined || record.state === null) {
      return {
        paymentId: command.paymentId,
        code: "reservation_not_found",
        state: null,
        entries: [],
      };
    }
    if (
      record.state === "reserved" &&
      record.expiresAtMs !== null &&
      command.atMs >= record.expiresAtMs
    ) {
      this.expire(record);
    }
    const state = record.state as ReservationState;
    if (command.kind === "commit" && state === "reserved") {
      const reservedTotal = record.entries.reduce((sum, entry) => sum + entry.reservedMinor, 0);
      const totalMinor = command.totalMinor ?? reservedTotal;
      if (!isAmountMinor(totalMinor) || totalMinor > reservedTotal) {
        return this.answer(
          command.paymentId,
          totalMinor > reservedTotal ? "commit_exceeds_reservation" : "invalid_amount",
          record,
        );
      }
    }
    const step = transition(state, command.kind);
    if (step.effective) {
      if (command.kind === "commit") this.commit(record, command.totalMinor);
      else this.releaseDebits(record);
      record.state = step.next;
    }
    return this.answer(command.paymentId, step.answer, record);
  }

  private commit(record: PaymentRecord, totalMinor: number | undefined): void {
    const reserved = record.entries.map((entry) => entry.reservedMinor);
    const committed = splitCommit(
      reserved,
      totalMinor ?? reserved.reduce((sum, amount) => sum + amount, 0),
    );
    record.entries.forEach((entry, index) => {
      entry.committedMinor = committed[index]!;
      for (const debit of entry.debits) {
        const account = this.accountFor(debit.account);
        account.reservedMinor -= debit.amountMinor;
        account.reservedCount -= debit.count;
        account.spentMinor += entry.committedMinor;
        if (entry.committedMinor > 0) account.spentCount += debit.count;
      }
    });
  }

  private releaseDebits(record: PaymentRecord): void {
    for (const entry of record.entries) {
      for (const debit of entry.debits) {
        const account = this.accountFor(debit.account);
        account.reservedMinor -= debit.amountMinor;
        account.reservedCount -= debit.count;
      }
    }
  }

  private expire(record: PaymentRecord): void {
    this.releaseDebits(record);
    record.state = "expired";
  }

  private answer(
    paymentId: string,
    code: SettleAnswer["code"],
    record: PaymentRecord,
  ): SettleAnswer {
    const entries: SettledEntry[] = record.entries.map(
      ({ campaignId, reservedMinor, committedMinor }) => ({
        campaignId,
        reservedMinor,
        committedMinor,
      }),
    );
    return { paymentId, code, state: record.state, entries };
  }

  async expireDue(nowMs: number, limit: number): Promise<number> {
    const due = [...this.payments.values()]
      .filter(
        (record) =>
          record.state === "reserved" && record.expiresAtMs !== null && record.expiresAtMs <= nowMs,
      )
      .sort((left, right) => (left.expiresAtMs ?? 0) - (right.expiresAtMs ?? 0))
      .slice(0, limit);
    for (const record of due) this.expire(record);
    return due.length;
  }

  async balance(account: string): Promise<AccountBalance | undefined> {
    const current = this.accounts.get(account);
    return current === undefined ? undefined : { account, ...current };
  }

  async verify(): Promise<LedgerVerification> {
    const violations: LedgerViolation[] = [];
    const expected = new Map<
      string,
      { reservedMinor: number; spentMinor: number; reservedCount: number; spentCount: number }
    >();
    for (const record of this.payments.values()) {
      const campaigns = new Set<string>();
      for (const entry of record.entries) {
        if (campaigns.has(entry.campaignId)) {
          violations.push({
            invariant: "one_entry_per_payment_and_campaign",
            budget: entry.campaignId,
            expected: "1",
            actual: "2 or more",
          });
        }
        campaigns.add(entry.campaignId);
        for (const debit of entry.debits) {
          const sums = expected.get(debit.account) ?? {
            reservedMinor: 0,
            spentMinor: 0,
            reservedCount: 0,
            spentCount: 0,
          };
          if (record.state === "reserved") {
            sums.reservedMinor += debit.amountMinor;
            sums.reservedCount += debit.count;
          }
          if (record.state === "committed") {
            sums.spentMinor += entry.committedMinor;
            if (entry.committedMinor > 0) sums.spentCount += debit.count;
          }
          expected.set(debit.account, sums);
        }
      }
    }
    for (const [name, account] of this.accounts) {
      const sums = expected.get(name) ?? {
        reservedMinor: 0,
        spentMinor: 0,
        reservedCount: 0,
        spentCount: 0,
      };
      const check = (invariant: string, want: number, actual: number) => {
        if (want !== actual)
          violations.push({
            invariant,
            budget: name,
            expected: String(want),
            actual: String(actual),
          });
      };
      check("reserved_equals_ledger", sums.reservedMinor, account.reservedMinor);
      check("spent_equals_ledger", sums.spentMinor, account.spentMinor);
      check("funded_equals_fundings", this.fundings.get(name) ?? 0, account.fundedMinor);
      check("reserved_count_equals_ledger", sums.reservedCount, account.reservedCount);
      check("spent_count_equals_ledger", sums.spentCount, account.spentCount);
      const isFunded = this.fundings.has(name);
      if (isFunded && account.reservedMinor + account.spentMinor > account.fundedMinor) {
        violations.push({
          invariant: "available_reserved_spent_equal_funded",
          budget: name,
          expected: `reserved + spent <= ${account.fundedMinor}`,
          actual: String(account.reservedMinor + account.spentMinor),
        });
      }
    }
    return { budgets: this.accounts.size, violations, ok: violations.length === 0 };
  }

  async close(): Promise<void> {}

  private accountFor(name: string): Account {
    let account = this.accounts.get(name);
    if (account === undefined) {
      account = {
        fundedMinor: 0,
        reservedMinor: 0,
        spentMinor: 0,
        reservedCount: 0,
        spentCount: 0,
      };
      this.accounts.set(name, account);
    }
    return account;
  }
}

/** Malformed calls are caller bugs: every store refuses them alike, before deciding anything. */
function refuseMalformed(call: LedgerCall): void {
  const problem = checkLedgerCall(call);
  if (problem !== undefined) throw new Error(`invalid ledger call: ${problem}`);
}
