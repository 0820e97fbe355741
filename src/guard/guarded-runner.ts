/**
 * A rollout runner with the runtime guard around it, for a process that evaluates payments on
 * its own clock (`bursar run --control --guard`; a server later): every decision passes the kills
 * the kill store holds, the guard records what was granted, and every `checkEveryMs` of the
 * clock the kills are read again, the rollout reported when due, the guard's watch rebuilt when
 * the served configuration changed, and the monitors checked — a trip goes to the responder, and
 * the kill it publishes is obeyed here before the next payment (in the same process at once).
 * Guard mode's checks of an external engine's proposals are recorded into the same guard
 * (`recordExternal`), so the same checks and the same responder watch both streams.
 */
import type { ChangeService } from "../control/change-service.ts";
import type { RolloutEvent, RolloutRunner } from "../control/rollout-runner.ts";
import type { Decision } from "../core/evaluator/decision.ts";
import type { SnapshotCampaign } from "../core/evaluator/snapshot.ts";
import { isExternalCampaignId } from "../core/guard/external-watch.ts";
import type { GuardTrip } from "../core/guard/guard-monitors.ts";
import {
  applyKills,
  EMPTY_KILL_STATE,
  type Kill,
  KillMatcher,
  type KillState,
  killsNotIn,
} from "../core/guard/kill.ts";
import { EXTERNAL_TEMPLATE_ID } from "../core/guard/proposal-input.ts";
import { NO_IMPACT } from "../core/guard/severity-policy.ts";
import type { Payment } from "../core/model/payment.ts";
import { GuardResponder, type GuardResponse } from "./guard-responder.ts";
import type { IncidentService } from "./incident-service.ts";
import type { KillStore } from "./kill-store.ts";
import { type BreakerView, RuntimeGuard, type RuntimeGuardOptions } from "./runtime-guard.ts";

export interface GuardedRunnerOptions {
  readonly runner: RolloutRunner;
  readonly changes: ChangeService;
  readonly kills: KillStore;
  readonly incidents: IncidentService;
  readonly nowMs: () => number;
  /** Clock time between two checks (and reads of the kill store). Default 100 ms. */
  readonly checkEveryMs?: number;
  readonly guard?: RuntimeGuardOptions;
  /** How this process is named on an incident's timeline when it confirms a kill. */
  readonly evaluatorId?: string;
  /**
   * Told of the kills this process obeys for the first time, at the tick that reads them (`atMs`):
   * those active at `open` on the first tick (a run's clock is its payments', unknown before),
   * then each kill a tick's read brings, once — except a kill this runner's responder published
   * for an incident, which the runner confirms itself. Never called with an empty list; for a
   * `KillConfirmer`, so kills published by other processes are confirmed too. Must not throw.
   */
  readonly onKillsObeyed?: (kills: readonly Kill[], atMs: number) => void;
}

export interface GuardedTick {
  readonly rollout?: RolloutEvent;
  readonly trips: readonly { readonly trip: GuardTrip; readonly response: GuardResponse }[];
}

export class GuardedRunner {
  private readonly guard: RuntimeGuard;
  private readonly responder: GuardResponder;
  private readonly checkEveryMs: number;
  private matcher: KillMatcher;
  private killStateRead: KillState;
  /** The kill state `onKillsObeyed` was last told about. */
  private killStateTold: KillState = EMPTY_KILL_STATE;
  private nextCheckAtMs: number | undefined;
  /** The served configuration the guard's watch was built for, by rollout and share. */
  private configuredFor: string | undefined;
  private readonly campaignsById = new Map<string, SnapshotCampaign>();

  private constructor(
    private readonly options: GuardedRunnerOptions,
    killState: KillState,
  ) {
    this.guard = new RuntimeGuard(options.guard);
    this.responder = new GuardResponder({
      changes: options.changes,
      kills: options.kills,
      incidents: options.incidents,
      nowMs: options.nowMs,
      actor: { id: "guard", roles: ["operator"] },
    });
    this.checkEveryMs = options.checkEveryMs ?? 100;
    this.killStateRead = killState;
    this.matcher = new KillMatcher(killState);
  }

  static async open(options: GuardedRunnerOptions): Promise<GuardedRunner> {
    const guarded = new GuardedRunner(options, await options.kills.readState());
    await guarded.reconfigure(options.nowMs());
    return guarded;
  }

  /** One payment: served, the kills applied, recorded by the guard. */
  quote(payment: Payment): Decision {
    const decision = applyKills(this.options.runner.quote(payment), this.matcher);
    this.guard.record(payment, decision);
    return decision;
  }

  /**
   * An external engine's checked payment (guard mode): what the check allowed, as external
   * campaigns' grants, already refused where a kill names them.
   */
  recordExternal(payment: Payment, decision: Decision): void {
    this.guard.record(payment, decision);
  }

  /** The kill state this process obeys: as last read from the kill store. */
  get killState(): KillState {
    return this.killStateRead;
  }

  /** What `quote` would answer, with the kills applied; not recorded by the guard or the rollout. */
  preview(payment: Payment): Decision {
    return applyKills(this.options.runner.preview(payment), this.matcher);
  }

  /** The share of the traffic this process's guard scales the fleet's limits by, in bps. */
  get trafficShareBps(): number {
    return this.guard.trafficShareBps;
  }

  /** Every breaker this process's guard holds, with its state and the trip that opened it. */
  breakerStates(): BreakerView[] {
    return this.guard.breakerStates();
  }

  /** An on-call engineer acknowledges, then resets, a tripped breaker. */
  moveBreaker(
    breakerId: string,
    action: "acknowledge" | "reset",
  ): ReturnType<RuntimeGuard["moveBreaker"]> {
    return this.guard.moveBreaker(breakerId, action);
  }

  isDue(atMs: number): boolean {
    this.nextCheckAtMs ??= atMs + this.checkEveryMs;
    return atMs >= this.nextCheckAtMs || this.options.runner.isReportDue(atMs);
  }

  /** What is due at `atMs` (the clock must read the same): kills, rollout report, checks. */
  async tick(atMs: number): Promise<GuardedTick> {
    const { runner, kills } = this.options;
    let rollout: RolloutEvent | undefined;
    if (runner.isReportDue(atMs)) rollout = await runner.report(atMs);
    const trips: { trip: GuardTrip; response: GuardResponse }[] = [];
    if (this.nextCheckAtMs === undefined || atMs >= this.nextCheckAtMs) {
      this.nextCheckAtMs = atMs + this.checkEveryMs;
      // Kills published elsewhere (a person, another process) are obeyed from here on.
      this.obey(await kills.readState(), atMs);
      await this.reconfigure(atMs);
      for (const trip of this.guard.check(atMs)) {
        // The incident opens on the trip; what it cost is the ledger's to say (`bursar impact
        // INCIDENT`), and its severity rises with it (`bursar incident raise`). A grant outside
        // the declared scope is a core flow touched. Its window starts at the blamed versions'
        // first grant when that is recent (a rollout, a forced edit), else at the trip.
        const firstAnomaly = this.guard.firstAnomalyOf(trip);
        const response = await this.responder.respond(trip, {
          ...(firstAnomaly === undefined ? {} : { firstAnomaly }),
          impact: { ...NO_IMPACT, coreFlows: trip.code === "mix.outside_scope" },
          templateOf: (campaignId) =>
            isExternalCampaignId(campaignId)
              ? EXTERNAL_TEMPLATE_ID
              : this.campaignsById.get(campaignId)?.template.id,
          fundingOf: (campaignId) =>
            isExternalCampaignId(campaignId)
              ? this.guard.externalCampaign(campaignId)?.funding
              : this.campaignsById.get(campaignId)?.funding.source,
        });
        trips.push({ trip, response });
        // Its own kill, obeyed at once and confirmed here (not told to `onKillsObeyed`: the
        // runner knows its incident); the rollback it made, served from the next payment.
        const confirmsOwn = response.incidentId !== null ? response.killSequence : null;
        this.obey(await kills.readState(), atMs, confirmsOwn);
        if (response.incidentId !== null && confirmsOwn !== null) {
          // At most once per kill and evaluator id, whoever else confirms it (confirmKill).
          await this.options.incidents.confirmKill(response.incidentId, {
            evaluatorId: this.options.evaluatorId ?? "this-process",
            killSequence: confirmsOwn,
            atMs,
          });
        }
        if (response.rolledBack.length > 0 || response.paused.length > 0) {
          await runner.report(atMs);
          await this.reconfigure(atMs);
        }
      }
    }
    return { ...(rollout === undefined ? {} : { rollout }), trips };
  }

  private obey(state: KillState, atMs: number, confirmedHere: number | null = null): void {
    if (state.sequence !== this.killStateRead.sequence) this.matcher = new KillMatcher(state);
    this.killStateRead = state;
    this.tellObeyed(state, atMs, confirmedHere);
  }

  /** Tells `onKillsObeyed` the kills of `state` it was not told about yet. */
  private tellObeyed(state: KillState, atMs: number, confirmedHere: number | null): void {
    const told = this.killStateTold;
    if (this.options.onKillsObeyed === undefined || state.sequence === told.sequence) return;
    this.killStateTold = state;
    const obeyed = killsNotIn(state.active, told.active).filter(
      (kill) => kill.sequence !== confirmedHere,
    );
    if (obeyed.length > 0) this.options.onKillsObeyed(obeyed, atMs);
  }

  /** Rebuilds the guard's watch when the runner serves another configuration. */
  private async reconfigure(atMs: number): Promise<void> {
    const { stable, rollout } = this.options.runner.snapshots();
    const shareBps = this.options.runner.rollout?.shareBps ?? 0;
    const key = `${rollout?.changeId ?? "-"}@${shareBps}:${stable?.version ?? 0}:${stable?.campaigns.length ?? 0}`;
    if (key === this.configuredFor) return;
    this.configuredFor = key;
    const stableCampaigns = stable?.campaigns ?? [];
    // Registrations are served with the stable configuration (a new one is a new version).
    const externalCampaigns = [...(stable?.externalCampaigns?.values() ?? [])];
    for (const effective of [...stableCampaigns, ...(rollout?.snapshot.campaigns ?? [])]) {
      this.campaignsById.set(effective.campaign.id, effective);
    }
    if (rollout === undefined) {
      this.guard.configure({ stable: stableCampaigns, externalCampaigns }, atMs);
      return;
    }
    const change = await this.options.changes.show(rollout.changeId);
    // A change forced past approval has no approved forecast: it is judged against baselines.
    const forced = change?.forced.some((force) => force.gate === "approval") ?? true;
    const forecast = forced ? undefined : change?.assessment?.forecast;
    this.guard.configure(
      {
        stable: stableCampaigns,
        externalCampaigns,
        rollout: {
          changeId: rollout.changeId,
          // Versions the stable configuration serves too are watched once, as stable.
          campaigns: rollout.snapshot.campaigns,
          shareBps,
          ...(forecast === undefined ? {} : { forecast }),
        },
      },
      atMs,
    );
  }
}
