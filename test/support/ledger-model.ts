/**
 * A simple model of the ledger store's contract (src/ledger/ledger-store.ts), written apart from
 * the ledger book on purpose: no counters at all — every account's use is summed afresh over the
 * payments whenever it is needed — its own transition table, and plain loops. The contract suite
 * compares every store's answers and balances with it step by step, so a mistake in the shared
 * rules (src/core/ledger/ledger-book.ts) shows up as a difference, not only a mistake in a store.
 */

import type { RefundAnswer, RefundCommand, RefundRestores } from "../../src/core/ledger/refund.ts";
import type {
  Debit,
  ReservationRequest,
  ReserveResult,
} from "../../src/core/ledger/reservation.ts";
import type { SettleAnswer, SettleCommand } from "../../src/core/ledger/settlement.ts";

type State = "reserved" | "committed" | "released" | "expired";

interface ModelEntry {
  campaignId: string;
  reserved: number;
  committed: number;
  reversed: number;
  policy: RefundRestores;
  debits: readonly Debit[];
}

interface ModelPayment {
  contentKey: string;
  owner: string | null;
  answer: Extract<ReserveResult, { code: "answered" }>["answer"];
  state: State | null;
  expiresAtMs: number | null;
  amount: number;
  refunded: number;
  entries: ModelEntry[];
}

const MAX = Number.MAX_SAFE_INTEGER;

/** An owned payment and a request acting for someone else; either without an owner is free. */
function ownedByOther(payment: ModelPayment, owner: string | undefined): boolean {
  return payment.owner !== null && owner !== undefined && owner !== payment.owner;
}
const AMOUNT_MAX = 10 ** 15;
const isAmount = (value: unknown): value is number =>
  Number.isSafeInteger(value) && (value as number) >= 0 && (value as number) <= AMOUNT_MAX;

/** The model's own reading of the lifecycle: [next state, answer], effective when it changes money. */
const TABLE: Record<State, Record<"commit" | "release" | "refund", [State, string, boolean]>> = {
  reserved: {
    commit: ["committed", "committed", true],
    release: ["released", "released", true],
    refund: ["reserved", "refund_not_committed", false],
  },
  committed: {
    commit: ["committed", "already_committed", false],
    release: ["committed", "already_committed", false],
    refund: ["committed", "refunded", true],
  },
  released: {
    commit: ["released", "reservation_released", false],
    release: ["released", "released", false],
    refund: ["released", "refund_not_committed", false],
  },
  expired: {
    commit: ["expired", "reservation_expired", false],
    release: ["expired", "reservation_expired", false],
    refund: ["expired", "refund_not_committed", false],
  },
};

function restores(policy: RefundRestores, refusal: Debit["refusal"]): boolean {
  if (policy === "nothing") return false;
  if (policy === "budgets") {
    return ["budget_exhausted", "daily_budget_exhausted", "program_budget_exhausted"].includes(
      refusal,
    );
  }
  return true;
}

export class LedgerModel {
  private readonly funded = new Map<string, number>();
  private readonly payments = new Map<string, ModelPayment>();
  private readonly refunds = new Map<string, RefundAnswer>();

  /** An account's use, summed over every payment. */
  use(account: string): {
    reservedMinor: number;
    spentMinor: number;
    reservedCount: number;
    spentCount: number;
  } {
    let reservedMinor = 0;
    let spentMinor = 0;
    let reservedCount = 0;
    let spentCount = 0;
    for (const payment of this.payments.values()) {
      for (const entry of payment.entries) {
        for (const debit of entry.debits) {
          if (debit.account !== account) continue;
          if (payment.state === "reserved") {
            reservedMinor += debit.amountMinor;
            reservedCount += debit.count;
          } else if (payment.state === "committed" && entry.committed > 0) {
            const back = restores(entry.policy, debit.refusal);
            spentMinor += entry.committed - (back ? entry.reversed : 0);
            if (!(back && entry.reversed === entry.committed)) spentCount += debit.count;
          }
        }
      }
    }
    return { reservedMinor, spentMinor, reservedCount, spentCount };
  }

  fundedOf(account: string): number {
    return this.funded.get(account) ?? 0;
  }

  fund(account: string, amountMinor: number) {
    const fundedMinor = this.fundedOf(account);
    if (!(amountMinor > 0 && isAmount(amountMinor) && isAmount(fundedMinor + amountMinor))) {
      return { code: "invalid_amount", account, fundedMinor };
    }
    this.funded.set(account, fundedMinor + amountMinor);
    return { code: "funded", account, fundedMinor: fundedMinor + amountMinor };
  }

  reserve(request: ReservationRequest): ReserveResult {
    const existing = this.payments.get(request.paymentId);
    if (existing !== undefined) {
      return existing.contentKey === request.contentKey && !ownedByOther(existing, request.owner)
        ? { code: "answered", answer: existing.answer, replayed: true }
        : { code: "idempotency_conflict", paymentId: request.paymentId };
    }
    // Accepted subsidies count for the next ones at once: they sit in a provisional payment.
    const payment: ModelPayment = {
      contentKey: request.contentKey,
      owner: request.owner ?? null,
      answer: undefined as never,
      state: "reserved",
      expiresAtMs: request.expiresAtMs,
      amount: request.paymentAmountMinor,
      refunded: 0,
      entries: [],
    };
    this.payments.set(request.paymentId, payment);
    const subsidies = request.subsidies.map((subsidy) => {
      const { debits, refundRestores, ...described } = subsidy;
      const refusal = this.firstRefusal(debits);
      if (refusal !== undefined) return { ...described, amountMinor: 0, code: refusal };
      payment.entries.push({
        campaignId: subsidy.campaignId,
        reserved: subsidy.amountMinor,
        committed: 0,
        reversed: 0,
        policy: refundRestores,
        debits,
      });
      return { ...described, code: "reserved" as const };
    });
    const reserved = payment.entries.length > 0;
    payment.state = reserved ? "reserved" : null;
    payment.expiresAtMs = reserved ? request.expiresAtMs : null;
    payment.answer = {
      paymentId: request.paymentId,
      code: reserved ? "reserved" : "no_subsidy",
      totalReservedMinor: payment.entries.reduce((sum, entry) => sum + entry.reserved, 0),
      expiresAtMs: payment.expiresAtMs,
      snapshotVersion: request.snapshotVersion,
      subsidies,
    };
    return { code: "answered", answer: payment.answer, replayed: false };
  }

  private firstRefusal(debits: readonly Debit[]): Debit["refusal"] | undefined {
    const earlier = new Map<string, [number, number]>();
    for (const debit of debits) {
      const use = this.use(debit.account);
      const [minor, count] = earlier.get(debit.account) ?? [0, 0];
      const capacity = debit.funded ? this.fundedOf(debit.account) : (debit.capacityMinor ?? MAX);
      if (use.reservedMinor + use.spentMinor + minor + debit.amountMinor > capacity) {
        return debit.refusal;
      }
      if (use.reservedCount + use.spentCount + count + debit.count > (debit.countCapacity ?? MAX)) {
        return debit.refusal;
      }
      earlier.set(debit.account, [minor + debit.amountMinor, count + debit.count]);
    }
    return undefined;
  }

  /** The payment as a caller acting for `owner` sees it: another principal's is not there. */
  private visible(paymentId: string, owner: string | undefined): ModelPayment | undefined {
    const payment = this.payments.get(paymentId);
    return payment !== undefined && ownedByOther(payment, owner) ? undefined : payment;
  }

  private expireIfDue(payment: ModelPayment, atMs: number): void {
    if (
      payment.state === "reserved" &&
      payment.expiresAtMs !== null &&
      atMs >= payment.expiresAtMs
    ) {
      payment.state = "expired";
    }
  }

  settle(command: SettleCommand): SettleAnswer {
    const payment = this.visible(command.paymentId, command.owner);
    if (payment === undefined || payment.state === null) {
      return {
        paymentId: command.paymentId,
        code: "reservation_not_found",
        state: null,
        entries: [],
      };
    }
    this.expireIfDue(payment, command.atMs);
    const state = payment.state as State;
    const answer = (code: string): SettleAnswer =>
      ({
        paymentId: command.paymentId,
        code,
        state: payment.state,
        entries: payment.entries.map((entry) => ({
          campaignId: entry.campaignId,
          reservedMinor: entry.reserved,
          committedMinor: entry.committed,
        })),
      }) as SettleAnswer;
    const reservedTotal = payment.entries.reduce((sum, entry) => sum + entry.reserved, 0);
    if (command.kind === "commit" && state === "reserved") {
      const total = command.totalMinor ?? reservedTotal;
      if (!isAmount(total)) return answer("invalid_amount");
      if (total > reservedTotal) return answer("commit_exceeds_reservation");
    }
    const [next, code, effective] = TABLE[state][command.kind];
    if (effective && command.kind === "commit") {
      let remaining = command.totalMinor ?? reservedTotal;
      for (const entry of payment.entries) {
        entry.committed = Math.min(entry.reserved, remaining);
        remaining -= entry.committed;
      }
    }
    payment.state = next;
    return answer(code);
  }

  refund(command: RefundCommand): RefundAnswer {
    const payment = this.visible(command.paymentId, command.owner);
    const refused = (code: string): RefundAnswer =>
      ({
        paymentId: command.paymentId,
        refundId: command.refundId,
        code,
        amountMinor: command.amountMinor,
        refundedMinor: payment?.refunded ?? 0,
        paymentAmountMinor: payment?.amount ?? null,
        subsidyReversedMinor: 0,
        entries: [],
        replayed: false,
      }) as RefundAnswer;
    if (payment === undefined || payment.state === null) return refused("reservation_not_found");
    const key = JSON.stringify([command.paymentId, command.refundId]);
    const stored = this.refunds.get(key);
    if (stored !== undefined) {
      return stored.amountMinor === command.amountMinor
        ? { ...stored, replayed: true }
        : refused("refund_conflict");
    }
    if (!(command.amountMinor > 0 && isAmount(command.amountMinor)))
      return refused("invalid_amount");
    this.expireIfDue(payment, command.atMs);
    const [, code, effective] = TABLE[payment.state as State].refund;
    if (!effective) return refused(code);
    const refunded = payment.refunded + command.amountMinor;
    if (refunded > payment.amount) return refused("refund_exceeds_payment");
    payment.refunded = refunded;
    const entries = payment.entries.map((entry) => {
      const total =
        refunded >= payment.amount
          ? entry.committed
          : Number((BigInt(entry.committed) * BigInt(refunded)) / BigInt(payment.amount));
      const reversedMinor = total - entry.reversed;
      entry.reversed = total;
      return {
        campaignId: entry.campaignId,
        committedMinor: entry.committed,
        reversedMinor,
        reversedTotalMinor: total,
      };
    });
    const answer: RefundAnswer = {
      paymentId: command.paymentId,
      refundId: command.refundId,
      code: "refunded",
      amountMinor: command.amountMinor,
      refundedMinor: refunded,
      paymentAmountMinor: payment.amount,
      subsidyReversedMinor: entries.reduce((sum, entry) => sum + entry.reversedMinor, 0),
      entries,
      replayed: false,
    };
    this.refunds.set(key, answer);
    return answer;
  }

  expireDue(nowMs: number, limit: number): number {
    const due = [...this.payments.values()]
      .filter(
        (payment) =>
          payment.state === "reserved" &&
          payment.expiresAtMs !== null &&
          payment.expiresAtMs <= nowMs,
      )
      .slice(0, limit);
    for (const payment of due) payment.state = "expired";
    return due.length;
  }
}
