/**
 * The ledger store in memory: the book's rules (src/core/ledger/ledger-book.ts) over plain maps,
 * for application tests and as the simplest store the others are compared with. Not durable;
 * the SQLite and PostgreSQL stores are.
 */

import {
  aggregateImpact,
  assembleImpactReport,
  type ImpactQuery,
  type ImpactReport,
  type ImpactSubsidyFact,
  impactMatcher,
  impactQueryProblem,
} from "../core/ledger/impact-report.ts";
import {
  type AccountBalance,
  type AccountCounters,
  type FundAnswer,
  type FundingTarget,
  LedgerBook,
  type LedgerBookState,
  type PaymentRecord,
  type RefundRecord,
  zeroCounters,
} from "../core/ledger/ledger-book.ts";
import { type LedgerVerification, verifyLedger } from "../core/ledger/ledger-verification.ts";
import type { RefundAnswer, RefundCommand } from "../core/ledger/refund.ts";
import type { ReservationRequest, ReserveResult } from "../core/ledger/reservation.ts";
import type { SettleAnswer, SettleCommand } from "../core/ledger/settlement.ts";
import { checkLedgerCall } from "./check-ledger-call.ts";
import type { LedgerCall } from "./ledger-call.ts";
import {
  type LedgerImpactReader,
  UNCOMMITTED_PAGE_MAX,
  type UncommittedPayment,
} from "./ledger-impact-reader.ts";
import type { LedgerStore } from "./ledger-store.ts";

class MemoryLedgerState implements LedgerBookState {
  readonly accounts = new Map<string, AccountCounters>();
  readonly fundedByAccount = new Map<string, number>();
  readonly payments = new Map<string, PaymentRecord>();
  readonly refunds = new Map<string, RefundRecord>();

  account(name: string): AccountCounters | undefined {
    return this.accounts.get(name);
  }

  accountForUpdate(name: string): AccountCounters {
    let account = this.accounts.get(name);
    if (account === undefined) {
      account = zeroCounters();
      this.accounts.set(name, account);
    }
    return account;
  }

  // Records are copied in and out, as a database would: a change the book does not save is lost
  // here too, so the memory store cannot hide a missing save that a durable store would expose.
  payment(paymentId: string): PaymentRecord | undefined {
    const record = this.payments.get(paymentId);
    return record === undefined ? undefined : structuredClone(record);
  }

  savePayment(record: PaymentRecord): void {
    this.payments.set(record.paymentId, structuredClone(record));
  }

  refund(paymentId: string, refundId: string): RefundRecord | undefined {
    return this.refunds.get(refundKey(paymentId, refundId));
  }

  saveRefund(record: RefundRecord): void {
    this.refunds.set(refundKey(record.paymentId, record.refundId), record);
  }

  saveFunding(account: string, amountMinor: number): void {
    this.fundedByAccount.set(account, (this.fundedByAccount.get(account) ?? 0) + amountMinor);
  }

  dueReservations(nowMs: number, limit: number): string[] {
    return [...this.payments.values()]
      .filter(
        (record) =>
          record.state === "reserved" && record.expiresAtMs !== null && record.expiresAtMs <= nowMs,
      )
      .sort((left, right) => (left.expiresAtMs ?? 0) - (right.expiresAtMs ?? 0))
      .slice(0, limit)
      .map((record) => record.paymentId);
  }

  refundedByPayment(): Map<string, number> {
    const sums = new Map<string, number>();
    for (const record of this.refunds.values()) {
      sums.set(record.paymentId, (sums.get(record.paymentId) ?? 0) + record.amountMinor);
    }
    return sums;
  }
}

export class MemoryLedgerStore implements LedgerStore, LedgerImpactReader {
  private readonly state = new MemoryLedgerState();
  private readonly book = new LedgerBook(this.state);

  async fund(
    account: string,
    amountMinor: number,
    reason: string,
    atMs: number,
  ): Promise<FundAnswer> {
    refuseMalformed({ kind: "fund", account, amountMinor, reason, atMs });
    return this.book.fund(account, amountMinor, reason, atMs);
  }

  async fundUpTo(
    targets: readonly FundingTarget[],
    reason: string,
    atMs: number,
  ): Promise<FundAnswer[]> {
    refuseMalformed({ kind: "fundUpTo", targets, reason, atMs });
    return this.book.fundUpTo(targets, reason, atMs);
  }

  async reserve(requests: readonly ReservationRequest[]): Promise<ReserveResult[]> {
    refuseMalformed({ kind: "reserve", requests });
    return requests.map((request) => this.book.reserve(request));
  }

  async settle(commands: readonly SettleCommand[]): Promise<SettleAnswer[]> {
    refuseMalformed({ kind: "settle", commands });
    return commands.map((command) => this.book.settle(command));
  }

  async refund(commands: readonly RefundCommand[]): Promise<RefundAnswer[]> {
    refuseMalformed({ kind: "refund", commands });
    return commands.map((command) => this.book.refund(command));
  }

  async expireDue(nowMs: number, limit: number): Promise<number> {
    refuseMalformed({ kind: "expireDue", nowMs, limit });
    return this.book.expireDue(nowMs, limit);
  }

  async balance(account: string): Promise<AccountBalance | undefined> {
    const counters = this.state.accounts.get(account);
    return counters === undefined ? undefined : { account, ...counters };
  }

  async verify(): Promise<LedgerVerification> {
    return verifyLedger({
      accounts: this.state.accounts,
      fundedByAccount: this.state.fundedByAccount,
      payments: this.state.payments.values(),
      refundedByPayment: this.state.refundedByPayment(),
    });
  }

  async close(): Promise<void> {}

  /** Computed directly over the records: the reference the SQL stores are compared with. */
  async impactReport(query: ImpactQuery): Promise<ImpactReport> {
    refuseBadQuery(query);
    const matches = impactMatcher(query);
    const facts: ImpactSubsidyFact[] = [];
    for (const fact of this.subsidyFacts()) if (matches(fact)) facts.push(fact);
    return assembleImpactReport(query, aggregateImpact(facts));
  }

  async uncommittedOf(
    query: Pick<ImpactQuery, "versions">,
    afterPaymentId: string,
    limit: number,
  ): Promise<UncommittedPayment[]> {
    refuseBadQuery(query);
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > UNCOMMITTED_PAGE_MAX) {
      throw new Error(`limit must be 1-${UNCOMMITTED_PAGE_MAX}`);
    }
    // Versions only: remediation releases whatever the versions hold, whenever it was granted.
    const matches = impactMatcher({ versions: query.versions });
    const byPayment = new Map<string, number>();
    for (const fact of this.subsidyFacts()) {
      if (fact.state !== "reserved" || fact.paymentId <= afterPaymentId || !matches(fact)) continue;
      byPayment.set(fact.paymentId, (byPayment.get(fact.paymentId) ?? 0) + fact.reservedMinor);
    }
    return [...byPayment]
      .sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0))
      .slice(0, limit)
      .map(([paymentId, affectedMinor]) => ({ paymentId, affectedMinor }));
  }

  private *subsidyFacts(): Generator<ImpactSubsidyFact> {
    for (const record of this.state.payments.values()) {
      if (record.state === null) continue;
      for (const entry of record.entries) {
        yield {
          paymentId: record.paymentId,
          userId: record.userId,
          scenario: record.scenario,
          region: record.region,
          atMs: record.atMs,
          campaignId: entry.campaignId,
          campaignVersion: entry.campaignVersion,
          funding: entry.funding,
          state: record.state,
          reservedMinor: entry.reservedMinor,
          committedMinor: entry.committedMinor,
          reversedMinor: entry.reversedMinor,
        };
      }
    }
  }
}

function refuseBadQuery(query: ImpactQuery): void {
  const problem = impactQueryProblem(query);
  if (problem !== undefined) throw new Error(`invalid impact query: ${problem}`);
}

function refundKey(paymentId: string, refundId: string): string {
  return JSON.stringify([paymentId, refundId]);
}

/** Malformed calls are caller bugs: every store refuses them alike, before deciding anything. */
function refuseMalformed(call: LedgerCall): void {
  const problem = checkLedgerCall(call);
  if (problem !== undefined) throw new Error(`invalid ledger call: ${problem}`);
}
