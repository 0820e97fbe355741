/**
 * What the replay's guarded runs share once a breaker trips, whoever proposed the subsidies —
 * Bursar's own campaigns (`GuardedWorld`) or an external engine in guard mode (`GuardModeWorld`):
 * the kill store, incidents and the responder on memory stores and the run's virtual clock; the
 * trip's impact from the bad subsidies of the last minute; the kill reaching each evaluator after
 * its own modelled delay, confirmed on the incident's timeline; and the figures CONTRACTS.md asks
 * of a guarded run (first bad subsidy, the trip that stopped the bad change, what leaked after
 * it until the last evaluator obeyed).
 *
 * Everything is the production code (`GuardResponder`, `IncidentService`, the kill store); only
 * the propagation delays are modelled. The delays are drawn from the run's own `SeededRandom`, so
 * the draws interleave with the run's other draws exactly as they happen.
 */
import type { ChangeService } from "../control/change-service.ts";
import type { MemoryAuditLogStore } from "../control/memory-audit-log-store.ts";
import type { Principal } from "../core/change/change-request.ts";
import type { GuardTrip } from "../core/guard/guard-monitors.ts";
import type { Incident } from "../core/guard/incident.ts";
import { EMPTY_KILL_STATE, type KillState } from "../core/guard/kill.ts";
import { SlidingWindow } from "../core/guard/sliding-window.ts";
import type { Payment } from "../core/model/payment.ts";
import { GuardResponder, type GuardResponse } from "../guard/guard-responder.ts";
import { IncidentService } from "../guard/incident-service.ts";
import { MemoryIncidentStore } from "../guard/memory-incident-store.ts";
import { MemoryKillStore } from "../guard/memory-kill-store.ts";
import type { SeededRandom } from "../traffic/seeded-random.ts";

/** Who the guard acts as in the change pipeline and the audit log. */
const GUARD: Principal = { id: "guard", roles: ["operator"] };

export interface ReplayContainmentOptions {
  /** The run's virtual clock: the stores and the responder read it. */
  readonly clock: { nowMs: number };
  readonly audit: MemoryAuditLogStore;
  /** The change pipeline the responder rolls back and pauses in. */
  readonly changes: ChangeService;
  readonly random: SeededRandom;
  readonly evaluators: number;
  /** Each evaluator learns of a kill this long after it is published (drawn per evaluator). */
  readonly killDelayMs: { readonly min: number; readonly max: number };
  readonly protectedScenarios: ReadonlySet<string>;
  /** How evaluators are named on the incident's timeline: `<prefix>-1`, … Default "evaluator". */
  readonly evaluatorIdPrefix?: string;
}

/** What the responder needs to know of the campaigns a trip blames. */
export interface TripNames {
  readonly templateOf: (campaignId: string) => string | undefined;
  readonly fundingOf: (campaignId: string) => string | undefined;
  /** Whether this trip (with what the responder did) stops the bad change. */
  readonly stopsBadChange: (trip: GuardTrip, response: GuardResponse) => boolean;
}

/** How one evaluator obeys the kill state it has just learned. */
export type ObeyKill = (evaluator: number, atMs: number, state: KillState) => Promise<void>;

export class ReplayContainment {
  readonly kills: MemoryKillStore;
  readonly incidents: IncidentService;
  private readonly responder: GuardResponder;
  private killState = EMPTY_KILL_STATE;
  private pendingKillConfirms: { evaluator: number; atMs: number; response: GuardResponse }[] = [];
  private readonly confirmedAtMs: number[] = [];
  private firstBad: { paymentId: string; atMs: number; subsidyMinor: number } | undefined;
  /** Every trip and what the responder did, in order. */
  private readonly responses: { trip: GuardTrip; response: GuardResponse }[] = [];
  /** The trip that stopped the bad change, and how many evaluators have yet to obey its kill. */
  private detection:
    | { trip: GuardTrip; response: GuardResponse; pendingConfirms: number }
    | undefined;
  /** Every payment of the last minute: the denominator of an incident's share of payments. */
  private readonly paymentsLastMinute = new SlidingWindow(60_000, 60);
  /** Subsidised payments of the bad change in the last minute, for the incident's impact. */
  private badInLastMinute: { atMs: number; minor: number; scenario: string; region: string }[] = [];
  private leakedMinor = 0;

  constructor(private readonly options: ReplayContainmentOptions) {
    const nowMs = () => options.clock.nowMs;
    this.kills = new MemoryKillStore(options.audit);
    this.incidents = new IncidentService({ store: new MemoryIncidentStore(options.audit), nowMs });
    this.responder = new GuardResponder({
      changes: options.changes,
      kills: this.kills,
      incidents: this.incidents,
      nowMs,
      actor: GUARD,
    });
  }

  /** Every payment, subsidised or not (the share of payments an incident reached). */
  countPayment(atMs: number): void {
    this.paymentsLastMinute.add(atMs, 0);
  }

  /** A payment the bad change subsidised with `subsidyMinor`, when the subsidy was granted. */
  recordBad(payment: Payment, subsidyMinor: number): void {
    this.firstBad ??= { paymentId: payment.paymentId, atMs: payment.atMs, subsidyMinor };
    if (this.detection !== undefined) this.leakedMinor += subsidyMinor;
    // Only the last minute is ever read (the impact a trip is judged on).
    if (this.badInLastMinute.length > 0 && this.badInLastMinute[0]!.atMs <= payment.atMs - 60_000) {
      this.badInLastMinute = this.badInLastMinute.filter(
        (entry) => entry.atMs > payment.atMs - 60_000,
      );
    }
    this.badInLastMinute.push({
      atMs: payment.atMs,
      minor: subsidyMinor,
      scenario: payment.scenario,
      region: payment.region,
    });
  }

  /**
   * A trip answered by the responder (kill, rollback, incident), judged on the last minute of
   * the bad change's subsidies; every evaluator will learn of the kill after its own delay.
   */
  async answer(trip: GuardTrip, atMs: number, names: TripNames): Promise<void> {
    const recent = this.badInLastMinute.filter((entry) => entry.atMs > atMs - 60_000);
    this.badInLastMinute = recent;
    const cumulativeMinor = recent.reduce((sum, entry) => sum + entry.minor, 0);
    const response = await this.responder.respond(trip, {
      impact: {
        atRiskPerMinuteMinor: cumulativeMinor,
        cumulativeMinor,
        paymentShareBps: Math.floor(
          (recent.length * 10_000) / Math.max(1, this.paymentsLastMinute.sum(atMs).count),
        ),
        scenarios: new Set(recent.map((entry) => entry.scenario)).size,
        regions: new Set(recent.map((entry) => entry.region)).size,
        coreFlows: recent.some((entry) => this.options.protectedScenarios.has(entry.scenario)),
      },
      templateOf: names.templateOf,
      fundingOf: names.fundingOf,
      ...(this.firstBad === undefined ? {} : { firstAnomaly: this.firstBad }),
    });
    this.responses.push({ trip, response });
    if (this.detection === undefined && names.stopsBadChange(trip, response)) {
      this.detection = { trip, response, pendingConfirms: this.options.evaluators };
    }
    this.killState = await this.kills.readState();
    const { min, max } = this.options.killDelayMs;
    for (let evaluator = 0; evaluator < this.options.evaluators; evaluator += 1) {
      this.pendingKillConfirms.push({
        evaluator,
        atMs: atMs + min + Math.floor(this.options.random.nextFloat() * (max - min + 1)),
        response,
      });
    }
  }

  /**
   * The evaluators whose kill delay has passed by `atMs` obey the kill state, in the order they
   * learn of it, each confirmed on the trip's incident (`summary` says what it did). When the
   * last evaluator obeys the kill that stopped the bad change, `onAllObeyed` runs (remediation).
   * True when any evaluator obeyed.
   */
  async confirmDue(
    atMs: number,
    obey: ObeyKill,
    summary: (evaluatorId: string, killSequence: number) => string,
    onAllObeyed: (response: GuardResponse) => Promise<void>,
  ): Promise<boolean> {
    const due = this.pendingKillConfirms.filter((pending) => pending.atMs <= atMs);
    if (due.length === 0) return false;
    this.pendingKillConfirms = this.pendingKillConfirms.filter((pending) => pending.atMs > atMs);
    due.sort((left, right) => left.atMs - right.atMs);
    for (const pending of due) {
      await obey(pending.evaluator, pending.atMs, this.killState);
      const evaluatorId = `${this.options.evaluatorIdPrefix ?? "evaluator"}-${pending.evaluator + 1}`;
      // Confirmed as every process confirms a kill (IncidentService.confirmKill): a response that
      // published no kill has none to confirm.
      const { incidentId, killSequence } = pending.response;
      if (incidentId !== null && killSequence !== null) {
        await this.incidents.confirmKill(incidentId, {
          evaluatorId,
          killSequence,
          atMs: pending.atMs,
          summary: summary(evaluatorId, killSequence),
        });
      }
      const detection = this.detection;
      if (detection !== undefined && pending.response === detection.response) {
        this.confirmedAtMs.push(pending.atMs);
        detection.pendingConfirms -= 1;
        if (detection.pendingConfirms === 0) {
          this.options.clock.nowMs = pending.atMs;
          await onAllObeyed(detection.response);
        }
      }
    }
    return true;
  }

  /** True once a trip stopped the bad change and every evaluator obeys its kill. */
  get obeyedEverywhere(): boolean {
    return this.detection !== undefined && this.detection.pendingConfirms === 0;
  }

  /** Whether any breaker has tripped. */
  get tripped(): boolean {
    return this.responses.length > 0;
  }

  /** Kills published but not yet learned by every evaluator. */
  get killsPending(): boolean {
    return this.pendingKillConfirms.length > 0;
  }

  /** Whether an evaluator's kill delay has passed by `atMs` (it should obey before deciding). */
  killDueBy(atMs: number): boolean {
    for (const pending of this.pendingKillConfirms) if (pending.atMs <= atMs) return true;
    return false;
  }

  /** The figures and the story of the containment, as the run ends. */
  async outcome(): Promise<ContainmentOutcome> {
    const incidentId = this.detection?.response.incidentId;
    const incident = incidentId == null ? null : ((await this.incidents.get(incidentId)) ?? null);
    return {
      firstBadAtMs: this.firstBad?.atMs ?? null,
      trip: this.detection?.trip ?? null,
      response: this.detection?.response ?? null,
      otherTrips: this.responses.filter((entry) => entry.response !== this.detection?.response),
      killConfirmedAtMs: this.confirmedAtMs,
      leakedUntilLastEvaluatorStopsMinor: this.leakedMinor,
      incident,
    };
  }
}

export interface ContainmentOutcome {
  /** When the bad change's first subsidy was granted (reserved, in Bursar's own runs). */
  readonly firstBadAtMs: number | null;
  /** The trip that stopped the bad change. */
  readonly trip: GuardTrip | null;
  readonly response: GuardResponse | null;
  /** Every other trip, with what the responder did. */
  readonly otherTrips: readonly { readonly trip: GuardTrip; readonly response: GuardResponse }[];
  /** When each evaluator obeyed the kill that stopped the bad change. */
  readonly killConfirmedAtMs: readonly number[];
  readonly leakedUntilLastEvaluatorStopsMinor: number;
  readonly incident: Incident | null;
}
