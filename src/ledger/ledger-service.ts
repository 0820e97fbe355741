/**
 * The ledger as payment services use it: `apply` = quote + reserve, durable before it returns;
 * `commit` and `release` settle; `refund` reverses a committed subsidy in proportion. It re-evaluates every payment against the current snapshot, so
 * a subsidy shown by an earlier quote is not a promise (a kill in between withdraws it).
 * Time arrives through the injected `nowMs`; the store decides atomically.
 *
 * Every call takes an optional `owner`, the principal the caller acts for (the HTTP server passes
 * the token's): a payment applied with one belongs to it, and another principal's calls find no
 * reservation (LedgerBook). In-process callers pass none and are not restricted.
 */
import type { Decision } from "../core/evaluator/decision.ts";
import { createFastEvaluator, type FastEvaluator } from "../core/evaluator/fast-evaluator.ts";
import type { Snapshot, SnapshotCampaign } from "../core/evaluator/snapshot.ts";
import { externalBudgetAccount } from "../core/ledger/checked-subsidies.ts";
import type { LedgerCode } from "../core/ledger/ledger-codes.ts";
import { planReservation } from "../core/ledger/plan-reservation.ts";
import type { RefundAnswer } from "../core/ledger/refund.ts";
import type { ReservationAnswer } from "../core/ledger/reservation.ts";
import type { SettleAnswer } from "../core/ledger/settlement.ts";
import type { Payment } from "../core/model/payment.ts";
import type { FundAnswer, LedgerStore } from "./ledger-store.ts";
import {
  STORE_DEADLINE_MS_DEFAULT,
  StoreDeadlineExceeded,
  withinDeadline,
} from "./store-deadline.ts";

/** Fifteen minutes: long enough for a card authorisation round trip, short enough to return unused money the same hour. */
export const RESERVATION_TTL_MS_DEFAULT = 15 * 60_000;

export { STORE_DEADLINE_MS_DEFAULT, StoreDeadlineExceeded } from "./store-deadline.ts";

export interface LedgerServiceOptions {
  readonly store: LedgerStore;
  readonly nowMs: () => number;
  readonly reservationTtlMs?: number;
  /** Told about every store failure the service turned into `ledger_unavailable` (for logs and metrics). */
  readonly onStoreFailure?: (cause: unknown) => void;
  /**
   * How long `apply`, `commit`, `release` and `refund` wait for the store before answering
   * `ledger_unavailable` (the payment goes on at full price). The store may still finish the
   * write afterwards: a retry with the same id gets the stored answer, and an unsettled
   * reservation returns to its budgets when it expires. Default 50 ms; `null` waits as long as
   * the store takes (benchmarks that measure a saturated store).
   */
  readonly storeDeadlineMs?: number | null;
  /**
   * Makes each activated snapshot an evaluator. Default `createFastEvaluator`; a composition that
   * obeys kills passes `killedEvaluatorFactory(watcher)` (src/guard/killed-evaluator.ts), so `apply`
   * withdraws a subsidy an earlier quote showed once a kill names it, and grants nothing while the
   * watcher is stale. A function rather than a watcher keeps the ledger free of the guard layer.
   */
  readonly createEvaluator?: (snapshot: Snapshot) => FastEvaluator;
  /**
   * Told of a reservation the store made after `apply` had answered `ledger_unavailable` (the
   * deadline passed first): the money is reserved, and a retry will be told so as a replay. For
   * metrics that count reservations once, when they are made.
   */
  readonly onLateReservation?: (answer: ReservationAnswer) => void;
}

export interface ApplyAnswer {
  readonly code: Extract<
    LedgerCode,
    "reserved" | "no_subsidy" | "idempotency_conflict" | "ledger_unavailable"
  >;
  readonly paymentId: string | null;
  /** The stored answer; null for a conflict or a payment too invalid to have one. */
  readonly reservation: ReservationAnswer | null;
  /** True when this is the stored answer to an earlier request with the same id and content. */
  readonly replayed: boolean;
  /** What the rules and the envelope granted before limits; on a replay, today's evaluation. */
  readonly decision: Decision;
}

/** A payment's decision and the snapshot that made it, which its reservation is planned against. */
export interface ServedDecision {
  readonly decision: Decision;
  /** Absent when nothing is served (no configuration) or the payment is invalid. */
  readonly snapshot: Snapshot | undefined;
}

/**
 * What decides payments when the configuration is not one fixed snapshot: a server serving the
 * stable configuration and a change rolling out by bucket, with kills and the runtime guard
 * (src/guard/payment-serving.ts). `decide` is called once per applied payment and may record it;
 * `preview` answers a quote and records nothing.
 */
export interface DecisionSource {
  decide(input: unknown): ServedDecision;
  preview(input: unknown): ServedDecision;
}

/** One fixed snapshot, evaluated by one evaluator: what `activate` serves. */
class FixedSnapshotSource implements DecisionSource {
  constructor(
    private readonly snapshot: Snapshot,
    private readonly evaluator: FastEvaluator,
  ) {}

  decide(input: unknown): ServedDecision {
    return { decision: this.evaluator.quote(input), snapshot: this.snapshot };
  }

  preview(input: unknown): ServedDecision {
    return this.decide(input);
  }
}

export class LedgerService {
  private readonly store: LedgerStore;
  private readonly nowMs: () => number;
  private readonly reservationTtlMs: number;
  private readonly onStoreFailure: (cause: unknown) => void;
  private readonly storeDeadlineMs: number | null;
  private readonly createEvaluator: (snapshot: Snapshot) => FastEvaluator;
  private readonly onLateReservation: ((answer: ReservationAnswer) => void) | undefined;
  private source: DecisionSource | undefined;
  /** Each served snapshot's campaigns by id, built once per snapshot. */
  private readonly campaignsOfSnapshot = new WeakMap<
    Snapshot,
    ReadonlyMap<string, SnapshotCampaign>
  >();

  constructor(options: LedgerServiceOptions) {
    this.store = options.store;
    this.nowMs = options.nowMs;
    this.reservationTtlMs = options.reservationTtlMs ?? RESERVATION_TTL_MS_DEFAULT;
    this.onStoreFailure = options.onStoreFailure ?? (() => {});
    this.storeDeadlineMs =
      options.storeDeadlineMs === undefined ? STORE_DEADLINE_MS_DEFAULT : options.storeDeadlineMs;
    this.createEvaluator = options.createEvaluator ?? createFastEvaluator;
    this.onLateReservation = options.onLateReservation;
  }

  /** Makes `snapshot` the one payments are evaluated against, after funding its budgets (`fund`). */
  async activate(snapshot: Snapshot): Promise<FundAnswer[]> {
    const fundings = await this.fund(snapshot);
    this.source = new FixedSnapshotSource(snapshot, this.createEvaluator(snapshot));
    return fundings;
  }

  /**
   * Evaluates payments with `source` from now on. Budgets are not funded here: the caller funds
   * each snapshot the source starts serving (`fund`) before it serves it.
   */
  serveFrom(source: DecisionSource): void {
    this.source = source;
  }

  /**
   * Funds every campaign and program budget of `snapshot` up to what the configuration says, and
   * the budget of every external campaign it registers with `budgetMinor` (guard mode's checked
   * subsidies, `campaign/ext:<campaignRef>`). Funding only ever adds, each time with its reason:
   * lowering a budget is an operator's action, not a side effect of a snapshot. One atomic step in
   * the store: two processes funding at once fund each budget once.
   */
  async fund(snapshot: Snapshot): Promise<FundAnswer[]> {
    const targets = [
      ...snapshot.campaigns.map(({ campaign }) => ({
        account: `campaign/${campaign.id}`,
        targetMinor: campaign.limits.totalBudgetMinor,
      })),
      ...[...snapshot.programs.values()].map((program) => ({
        account: `program/${program.id}`,
        targetMinor: program.budgetMinor,
      })),
    ];
    for (const registration of snapshot.externalCampaigns?.values() ?? []) {
      if (registration.budgetMinor === undefined) continue;
      targets.push({
        account: externalBudgetAccount(registration.campaignRef),
        targetMinor: registration.budgetMinor,
      });
    }
    return this.store.fundUpTo(
      targets,
      `snapshot ${snapshot.version}: configured budgets`,
      this.nowMs(),
    );
  }

  /** What the current configuration grants `input`, before limits; reserves nothing. */
  quote(input: unknown): Decision {
    return this.currentSource().preview(input).decision;
  }

  async apply(input: unknown, owner?: string): Promise<ApplyAnswer> {
    const { decision, snapshot } = this.currentSource().decide(input);
    if (decision.reason === "payment.invalid" || snapshot === undefined) {
      // Without a valid payment there is no trustworthy idempotency key, and without a
      // configuration nothing was granted: nothing is stored.
      return {
        code: "no_subsidy",
        paymentId: decision.paymentId,
        reservation: null,
        replayed: false,
        decision,
      };
    }
    const payment = input as Payment;
    // The planned request goes straight to the store and is not kept here: thousands of calls
    // may be in flight, and each request is a few kilobytes of objects.
    const reserving = this.store.reserve([
      planReservation(snapshot, this.campaignsOf(snapshot), payment, decision, {
        reservationTtlMs: this.reservationTtlMs,
        owner,
      }),
    ]);
    let result: Awaited<ReturnType<LedgerStore["reserve"]>>[number] | undefined;
    try {
      [result] = await this.withinDeadline(reserving, "reserve");
    } catch (cause) {
      // Fail closed for subsidies, open for payments (DESIGN principle 7): the payment goes on at
      // full price. If the store did write before failing, a retry gets that stored answer, and an
      // unsettled reservation returns to its budgets when it expires.
      this.onStoreFailure(cause);
      if (cause instanceof StoreDeadlineExceeded && this.onLateReservation !== undefined) {
        const told = this.onLateReservation;
        reserving.then(
          ([late]) => {
            if (late?.code === "answered" && !late.replayed) told(late.answer);
          },
          () => {},
        );
      }
      return {
        code: "ledger_unavailable",
        paymentId: payment.paymentId,
        reservation: null,
        replayed: false,
        decision,
      };
    }
    if (result === undefined) throw new Error("the ledger store answered no request");
    if (result.code === "idempotency_conflict") {
      return {
        code: "idempotency_conflict",
        paymentId: payment.paymentId,
        reservation: null,
        replayed: false,
        decision,
      };
    }
    return {
      code: result.answer.code,
      paymentId: payment.paymentId,
      reservation: result.answer,
      replayed: result.replayed,
      decision,
    };
  }

  async commit(paymentId: string, totalMinor?: number, owner?: string): Promise<SettleAnswer> {
    const command =
      totalMinor === undefined
        ? { kind: "commit" as const, paymentId, atMs: this.nowMs(), owner }
        : { kind: "commit" as const, paymentId, atMs: this.nowMs(), totalMinor, owner };
    return this.settleOne(command);
  }

  async release(paymentId: string, owner?: string): Promise<SettleAnswer> {
    return this.settleOne({ kind: "release", paymentId, atMs: this.nowMs(), owner });
  }

  /**
   * Refunds `amountMinor` of a committed payment: the subsidy is reversed in proportion and the
   * campaign's refund policy decides which limits get it back. Idempotent per refund id.
   */
  async refund(
    paymentId: string,
    refundId: string,
    amountMinor: number,
    owner?: string,
  ): Promise<RefundAnswer> {
    const command = { paymentId, refundId, amountMinor, atMs: this.nowMs(), owner };
    let answer: RefundAnswer | undefined;
    try {
      [answer] = await this.withinDeadline(this.store.refund([command]), "refund");
    } catch (cause) {
      this.onStoreFailure(cause);
      return {
        paymentId,
        refundId,
        code: "ledger_unavailable",
        amountMinor,
        refundedMinor: 0,
        paymentAmountMinor: null,
        subsidyReversedMinor: 0,
        entries: [],
        replayed: false,
      };
    }
    if (answer === undefined) throw new Error("the ledger store answered no refund");
    return answer;
  }

  /** Returns expired reservations' money to the budgets; call it on a timer. */
  async expireDue(limit = 1_000): Promise<number> {
    return this.store.expireDue(this.nowMs(), limit);
  }

  private async settleOne(
    command: Parameters<LedgerStore["settle"]>[0][number],
  ): Promise<SettleAnswer> {
    let answer: SettleAnswer | undefined;
    try {
      [answer] = await this.withinDeadline(this.store.settle([command]), command.kind);
    } catch (cause) {
      this.onStoreFailure(cause);
      return { paymentId: command.paymentId, code: "ledger_unavailable", state: null, entries: [] };
    }
    if (answer === undefined) throw new Error("the ledger store answered no command");
    return answer;
  }

  /** The store's answer, or a `StoreDeadlineExceeded` rejection once the deadline passes. */
  private withinDeadline<T>(answer: Promise<T>, what: string): Promise<T> {
    return withinDeadline(answer, this.storeDeadlineMs, what);
  }

  private currentSource(): DecisionSource {
    if (this.source === undefined) {
      throw new Error("nothing is served: call activate() or serveFrom() first");
    }
    return this.source;
  }

  private campaignsOf(snapshot: Snapshot): ReadonlyMap<string, SnapshotCampaign> {
    let byId = this.campaignsOfSnapshot.get(snapshot);
    if (byId === undefined) {
      byId = new Map(snapshot.campaigns.map((effective) => [effective.campaign.id, effective]));
      this.campaignsOfSnapshot.set(snapshot, byId);
    }
    return byId;
  }
}
