/**
 * What decides payments in a long-running process (`bursar serve`): the configuration the change
 * pipeline serves — stable, and a change rolling out by bucket — with the kills applied and every
 * applied payment recorded by the runtime guard. The process calls `tick` on a timer with the wall
 * clock: kills are read again, the rollout reported and judged when due, the guard's monitors
 * checked, and a trip answered by the responder (kill, roll back, incident).
 *
 * Fail closed for subsidies (DESIGN principle 7): when the kill state has not been confirmed
 * current for `allowedStalenessMs` — ticks fail because the control store does not answer — every
 * decision passes the staleness gate and grants nothing (`guard.snapshot_stale`) until a tick
 * succeeds again. A snapshot the tick has not funded yet (the moment between a rollout's reload
 * and its funding) grants nothing either: a reservation against an unfunded budget would be
 * refused, and that refusal stored for good under the payment's id.
 *
 * Guard mode's checks (`GuardCheckService`) share this process's guard and kill state: what they
 * allow is recorded with `recordExternal`, so every tick's monitors see native and external
 * grants together and a trip of an external campaign goes to the same responder (kill,
 * incident); `guardModeKills` is the kill state the serving obeys, confirmed by the same ticks,
 * so the responder's kill refuses the external campaign from the next check.
 */
import type { ChangeService } from "../control/change-service.ts";
import { RolloutRunner } from "../control/rollout-runner.ts";
import type { Decision } from "../core/evaluator/decision.ts";
import { CheckedPayment, fastPaymentCheck } from "../core/evaluator/fast-payment-check.ts";
import type { Snapshot } from "../core/evaluator/snapshot.ts";
import { isKillStateStale, type Kill, type KillState, refuseStale } from "../core/guard/kill.ts";
import type { ExternalCampaign } from "../core/guard/proposal-input.ts";
import type { Payment } from "../core/model/payment.ts";
import type { DecisionSource, ServedDecision } from "../ledger/ledger-service.ts";
import type { GuardCheckKills } from "./guard-check.ts";
import { GuardedRunner, type GuardedTick } from "./guarded-runner.ts";
import type { IncidentService } from "./incident-service.ts";
import type { KillStore } from "./kill-store.ts";
import type { BreakerView, RuntimeGuardOptions } from "./runtime-guard.ts";

export interface PaymentServingOptions {
  readonly changes: ChangeService;
  readonly kills: KillStore;
  readonly incidents: IncidentService;
  readonly nowMs: () => number;
  /** Seeds random offers, as every snapshot built elsewhere. */
  readonly randomSeed: number;
  /** Wall time between two verdicts on a rollout. Default 10 s. */
  readonly judgeEveryMs?: number;
  /** Wall time between two reads of the kills and checks of the monitors. Default 100 ms. */
  readonly checkEveryMs?: number;
  /** How long after the last successful tick decisions still grant. Default 1 s. */
  readonly allowedStalenessMs?: number;
  readonly guard?: RuntimeGuardOptions;
  /**
   * External campaigns registered with guard mode (checked already, e.g. by
   * `externalCampaignRegistry`): watched with their declared scope and ceiling.
   */
  readonly externalCampaigns?: readonly ExternalCampaign[];
  /** How this process is named on an incident's timeline. */
  readonly evaluatorId: string;
  /**
   * Told of the kills this process obeys for the first time (`GuardedRunnerOptions`): a
   * `KillConfirmer` under the same `evaluatorId` confirms those other processes published.
   */
  readonly onKillsObeyed?: (kills: readonly Kill[], atMs: number) => void;
  /**
   * Funds a snapshot's budgets in the ledger (`LedgerService.fund`); called once for each snapshot
   * before any payment is decided with it.
   */
  readonly fund: (snapshot: Snapshot) => Promise<unknown>;
}

export const PAYMENT_SERVING_DEFAULTS = {
  judgeEveryMs: 10_000,
  checkEveryMs: 100,
  // "A kill takes effect within a second" (DESIGN §3.8), even when the store stops answering.
  allowedStalenessMs: 1_000,
} as const;

/** The decision of a payment that is not one: nothing granted, nothing to plan against. */
function invalidDecision(input: unknown): Decision {
  const paymentId =
    typeof input === "object" && input !== null && "paymentId" in input
      ? (input as { paymentId: unknown }).paymentId
      : undefined;
  return {
    paymentId: typeof paymentId === "string" ? paymentId : null,
    snapshotVersion: 0,
    reason: "payment.invalid",
    subsidies: [],
    totalSubsidyMinor: 0,
    rejected: [],
    excludedByIndex: 0,
    subjectToBudget: false,
  };
}

export class PaymentServing implements DecisionSource {
  private readonly checked = new CheckedPayment();
  private readonly allowedStalenessMs: number;
  private readonly funded = new WeakSet<Snapshot>();
  private confirmedAtMs: number;
  private ticking: Promise<GuardedTick> | undefined;
  /** The kill state decisions obey, for guard mode's checks: confirmed by this serving's ticks. */
  readonly guardModeKills: GuardCheckKills;

  private constructor(
    private readonly options: PaymentServingOptions,
    private readonly runner: RolloutRunner,
    private readonly guarded: GuardedRunner,
  ) {
    this.allowedStalenessMs =
      options.allowedStalenessMs ?? PAYMENT_SERVING_DEFAULTS.allowedStalenessMs;
    this.confirmedAtMs = options.nowMs();
    this.guardModeKills = new ServedKills(
      guarded,
      () => this.confirmedAtMs,
      this.allowedStalenessMs,
    );
  }

  static async open(options: PaymentServingOptions): Promise<PaymentServing> {
    const runner = await RolloutRunner.open(options.changes, {
      randomSeed: options.randomSeed,
      judgeEveryMs: options.judgeEveryMs ?? PAYMENT_SERVING_DEFAULTS.judgeEveryMs,
    });
    const guarded = await GuardedRunner.open({
      runner,
      changes: options.changes,
      kills: options.kills,
      incidents: options.incidents,
      nowMs: options.nowMs,
      checkEveryMs: options.checkEveryMs ?? PAYMENT_SERVING_DEFAULTS.checkEveryMs,
      evaluatorId: options.evaluatorId,
      ...(options.onKillsObeyed === undefined ? {} : { onKillsObeyed: options.onKillsObeyed }),
      guard: {
        ...options.guard,
        ...(options.externalCampaigns === undefined
          ? {}
          : { externalCampaigns: options.externalCampaigns }),
      },
    });
    const serving = new PaymentServing(options, runner, guarded);
    await serving.fundServed();
    return serving;
  }

  /** An applied payment: served, kills applied, recorded by the guard and the rollout. */
  decide(input: unknown): ServedDecision {
    if (!fastPaymentCheck(input, this.checked)) {
      return { decision: invalidDecision(input), snapshot: undefined };
    }
    const payment = input as Payment;
    const { snapshot } = this.runner.servedSnapshot(payment);
    return { decision: this.gate(this.guarded.quote(payment), snapshot), snapshot };
  }

  /**
   * Guard mode's checked payment: what the check allowed of an external engine's proposals, as
   * external campaigns' grants (`decisionOfCheck`). Recorded by the guard the ticks check; kills
   * and staleness were the check's to apply.
   */
  recordExternal(payment: Payment, decision: Decision): void {
    this.guarded.recordExternal(payment, decision);
  }

  /** A quote: the same answer `decide` would give now, recorded nowhere. */
  preview(input: unknown): ServedDecision {
    if (!fastPaymentCheck(input, this.checked)) {
      return { decision: invalidDecision(input), snapshot: undefined };
    }
    const payment = input as Payment;
    const { snapshot } = this.runner.servedSnapshot(payment);
    return { decision: this.gate(this.guarded.preview(payment), snapshot), snapshot };
  }

  /**
   * What is due now: kills, the rollout's report, the monitors. Ticks never overlap: a tick asked
   * for while one runs gets that one's answer. A failed tick rejects and leaves the state to age
   * towards the staleness gate.
   */
  async tick(): Promise<GuardedTick> {
    if (this.ticking !== undefined) return this.ticking;
    const startedAtMs = this.options.nowMs();
    this.ticking = this.guarded.tick(startedAtMs).finally(() => {
      this.ticking = undefined;
    });
    const tick = await this.ticking;
    await this.fundServed();
    // Whatever was committed before the tick started is in what it read.
    this.confirmedAtMs = Math.max(this.confirmedAtMs, startedAtMs);
    return tick;
  }

  /** Whether decisions pass the staleness gate now (for readiness and metrics). */
  isStale(): boolean {
    return isKillStateStale(
      { confirmedAtMs: this.confirmedAtMs, allowedStalenessMs: this.allowedStalenessMs },
      this.options.nowMs(),
    );
  }

  /** The snapshots served now, to fund before payments reserve against them. */
  snapshots(): Snapshot[] {
    const { stable, rollout } = this.runner.snapshots();
    return [
      ...(stable === undefined ? [] : [stable]),
      ...(rollout === undefined ? [] : [rollout.snapshot]),
    ];
  }

  /** The change rolling out and the share it reaches, if any. */
  get rollout(): { changeId: string; shareBps: number } | undefined {
    return this.runner.rollout;
  }

  /** The share of the traffic this process's guard scales the fleet's limits by, in bps. */
  get trafficShareBps(): number {
    return this.guarded.trafficShareBps;
  }

  breakerStates(): BreakerView[] {
    return this.guarded.breakerStates();
  }

  /** Acknowledges or resets one of this process's breakers (a breaker lives in one process). */
  moveBreaker(
    breakerId: string,
    action: "acknowledge" | "reset",
  ): ReturnType<GuardedRunner["moveBreaker"]> {
    return this.guarded.moveBreaker(breakerId, action);
  }

  private async fundServed(): Promise<void> {
    for (const snapshot of this.snapshots()) {
      if (this.funded.has(snapshot)) continue;
      await this.options.fund(snapshot);
      this.funded.add(snapshot);
    }
  }

  private gate(decision: Decision, snapshot: Snapshot | undefined): Decision {
    const unfunded = snapshot !== undefined && !this.funded.has(snapshot);
    return unfunded || this.isStale() ? refuseStale(decision) : decision;
  }
}

/** The serving's kill state as guard mode reads it: what the ticks last read and confirmed. */
class ServedKills implements GuardCheckKills {
  constructor(
    private readonly guarded: GuardedRunner,
    private readonly confirmed: () => number,
    readonly allowedStalenessMs: number,
  ) {}

  get state(): KillState {
    return this.guarded.killState;
  }

  get confirmedAtMs(): number {
    return this.confirmed();
  }
}
