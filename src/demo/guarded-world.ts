/**
 * One guarded run of the replay: Bursar as it would run on 2025-01-16. The examples are the
 * configuration in force (imported through the change pipeline like any change); the bad change
 * is written by an operator, blocked at lint, forced past lint and approval by two
 * administrators, and rolled out by the default staged plan from 14:40:00. Several evaluator
 * processes serve the traffic (a payment goes to one of them, as a load balancer would send it),
 * each obeying kills once it has learned of them; the guard watches every decision, and its
 * responder kills, rolls back and opens the incident. What a rolling-out configuration serves
 * is reserved in the ledger (the memory store, the same book every store runs) and committed
 * when the payment completes; the run counts what the bad versions had committed.
 *
 * Everything here is the production code (the change service, the rollout runner, the guard,
 * the kill matcher, the ledger's book, incidents) on memory stores and a virtual clock; only
 * the traffic, the propagation delays and the payment completion times are modelled.
 */
import { lintAndSimulate } from "../control/assess-proposal.ts";
import {
  type AssessProposal,
  ChangeService,
  type ProposalFindings,
} from "../control/change-service.ts";
import { MemoryAuditLogStore } from "../control/memory-audit-log-store.ts";
import { MemoryChangeStore } from "../control/memory-change-store.ts";
import { RolloutRunner } from "../control/rollout-runner.ts";
import type { Principal } from "../core/change/change-request.ts";
import type { ChangeEdit } from "../core/change/document-versions.ts";
import { observationAsForecast, type RolloutPlan } from "../core/change/rollout.ts";
import type { Decision } from "../core/evaluator/decision.ts";
import type { Snapshot, SnapshotCampaign } from "../core/evaluator/snapshot.ts";
import type { GuardTrip } from "../core/guard/guard-monitors.ts";
import type { Incident } from "../core/guard/incident.ts";
import { applyKills, EMPTY_KILL_STATE, KillMatcher } from "../core/guard/kill.ts";
import type { ImpactReport } from "../core/ledger/impact-report.ts";
import { planReservation } from "../core/ledger/plan-reservation.ts";
import type { ConfigDocument } from "../core/model/document.ts";
import type { Payment } from "../core/model/payment.ts";
import type { GuardResponse } from "../guard/guard-responder.ts";
import type { IncidentService } from "../guard/incident-service.ts";
import { RuntimeGuard } from "../guard/runtime-guard.ts";
import { MemoryLedgerStore } from "../ledger/memory-ledger-store.ts";
import { SeededRandom } from "../traffic/seeded-random.ts";
import { TrafficGenerator } from "../traffic/traffic-generator.ts";
import { ReplayContainment } from "./replay-containment.ts";
import { ReplayRunTally } from "./replay-run.ts";

const AUTHOR: Principal = { id: "ops.li", roles: ["author"] };
const REVIEWERS: readonly Principal[] = [
  { id: "risk.wang", roles: ["reviewer"] },
  { id: "finance.zhao", roles: ["reviewer"] },
];
const ADMINS: readonly Principal[] = [
  { id: "admin.chen", roles: ["admin"] },
  { id: "admin.liu", roles: ["admin"] },
];
const OPERATOR: Principal = { id: "ops.oncall", roles: ["operator"] };

/** The import of the examples rolls out in two stages, like any change, before the replay. */
const IMPORT_PLAN: RolloutPlan = {
  stages: [
    { shareBps: 1_000, moneyAtRiskMaxMinor: 1_000_000_000_000, dwellMinMs: 60_000 },
    { shareBps: 10_000, moneyAtRiskMaxMinor: 1_000_000_000_000, dwellMinMs: 0 },
  ],
  toleranceBps: 5_000,
  paymentsMin: 100,
};

export interface GuardedWorldOptions {
  readonly seed: number;
  readonly examples: readonly ConfigDocument[];
  readonly edits: readonly ChangeEdit[];
  /** 14:40:00: the rollout starts. */
  readonly changeAtMs: number;
  readonly evaluators: number;
  /** Each evaluator learns of a kill this long after it is published (drawn per evaluator). */
  readonly killDelayMs: { readonly min: number; readonly max: number };
  /** A payment completes (its reservation is committed) this long after it was reserved. */
  readonly completionMs: { readonly min: number; readonly max: number };
  readonly protectedScenarios: ReadonlySet<string>;
}

/** What the guarded run reports beyond CONTRACTS.md's RUN. */
export interface GuardedOutcome {
  readonly changeId: string;
  readonly lintCodes: readonly string[];
  readonly blockedAtLint: boolean;
  readonly firstBadReservationAtMs: number | null;
  /** The trip that stopped the bad change (rolled it back or killed a version it made). */
  readonly trip: GuardTrip | null;
  readonly response: GuardResponse | null;
  /** Every other trip, with what the responder did. */
  readonly otherTrips: readonly { readonly trip: GuardTrip; readonly response: GuardResponse }[];
  /** When each evaluator obeyed the kill. */
  readonly killConfirmedAtMs: readonly number[];
  readonly leakedUntilLastEvaluatorStopsMinor: number;
  readonly releasedMinor: number;
  readonly incident: Incident | null;
  /** The ledger's impact report of every version the bad change introduced, over the run. */
  readonly impact: ImpactReport | null;
}

interface PendingCommit {
  readonly dueAtMs: number;
  readonly payment: Payment;
  readonly badMinor: number;
}

export class GuardedWorld {
  readonly tally: ReplayRunTally;
  private readonly clock = { nowMs: 0 };
  private readonly audit = new MemoryAuditLogStore();
  private readonly service: ChangeService;
  private readonly containment: ReplayContainment;
  private readonly incidents: IncidentService;
  private readonly ledger = new MemoryLedgerStore();
  private readonly guard = new RuntimeGuard();
  private readonly random: SeededRandom;
  private runners: RolloutRunner[] = [];
  private matchers: KillMatcher[] = [];
  private readonly assessments: ProposalFindings[] = [];
  private changeId = "";
  private blockedAtLint = false;
  private badCampaignIds = new Set<string>();
  /** Every version the bad change introduced, by `campaignId@version`. */
  private readonly badVersions = new Map<string, { campaignId: string; version: number }>();
  /** The lint errors that blocked the change's first submission. */
  private lintCodes: string[] = [];
  private pendingCommits: PendingCommit[] = [];
  private releasedMinor = 0;
  private campaignsById = new Map<string, SnapshotCampaign>();
  /** The version the stable configuration serves of each campaign (the last seen). */
  private readonly stableVersions = new Map<string, number>();

  constructor(private readonly options: GuardedWorldOptions) {
    this.tally = new ReplayRunTally(options.protectedScenarios);
    this.random = new SeededRandom(options.seed, 0x6a11ed);
    const assess = lintAndSimulate({
      // The assessment replays the hour before: what a reviewer would have had on screen.
      payments: () => sampleTraffic(options.seed, options.changeAtMs - 3_600_000),
      currency: "CNY",
      sample: "synthetic traffic of 13:40 to 13:50",
      randomSeed: options.seed,
      nowMs: () => this.clock.nowMs,
    });
    const recording: AssessProposal = async (proposal) => {
      const found = await assess(proposal);
      this.assessments.push(found);
      return found;
    };
    this.service = new ChangeService({
      store: new MemoryChangeStore(this.audit),
      assess: recording,
      now: () => new Date(this.clock.nowMs).toISOString(),
    });
    this.containment = new ReplayContainment({
      clock: this.clock,
      audit: this.audit,
      changes: this.service,
      random: this.random,
      evaluators: options.evaluators,
      killDelayMs: options.killDelayMs,
      protectedScenarios: options.protectedScenarios,
    });
    this.incidents = this.containment.incidents;
  }

  /**
   * Imports the examples (from 13:40), then the operator writes the bad change, lint blocks
   * it and two administrators force it past lint and approval (14:30–14:35).
   */
  async prepare(): Promise<void> {
    const { changeAtMs, examples, edits } = this.options;
    this.clock.nowMs = changeAtMs - 60 * 60_000;
    await this.importExamples(examples);
    this.clock.nowMs = changeAtMs - 10 * 60_000;
    const created = must(await this.service.create(AUTHOR, "instant discount: 20 % off", edits));
    this.changeId = created.change.id;
    const submitted = await this.service.submit(AUTHOR, this.changeId, []);
    this.blockedAtLint = !submitted.ok && submitted.code === "lint_errors";
    const blocking = this.assessments[this.assessments.length - 1]?.findings ?? [];
    this.lintCodes = [
      ...new Set(
        blocking.filter((finding) => finding.severity === "error").map((finding) => finding.code),
      ),
    ].sort();
    const reason = "campaign launch deadline; the template edit was checked by hand";
    for (const gate of ["lint", "approval"]) {
      for (const admin of ADMINS) {
        this.clock.nowMs += 60_000;
        must(await this.service.force(admin, this.changeId, gate, reason));
      }
    }
    must(await this.service.submit(AUTHOR, this.changeId, []));
    await this.openRunners();
  }

  /** 14:40:00: the operator starts the rollout by the default plan; every evaluator reloads. */
  async startRollout(atMs: number): Promise<void> {
    this.clock.nowMs = atMs;
    must(await this.service.startRollout(OPERATOR, this.changeId));
    for (const runner of this.runners) await runner.report(atMs);
    const rollout = this.runners[0]!.snapshots().rollout;
    if (rollout !== undefined) await this.fund(rollout.snapshot, atMs);
    this.reconfigure(atMs);
  }

  /**
   * One payment through the evaluator that receives it. Synchronous unless the payment is
   * reserved in the ledger; then the promise must be awaited before the next payment.
   */
  pay(payment: Payment, index: number): Promise<void> | undefined {
    this.containment.countPayment(payment.atMs);
    const evaluator = index % this.runners.length;
    const runner = this.runners[evaluator]!;
    const decision = applyKills(runner.quote(payment), this.matchers[evaluator]!);
    this.guard.record(payment, decision);
    if (decision.subsidies.length === 0) return undefined;
    const served = runner.servedSnapshot(payment);
    if (!served.rollout || served.snapshot === undefined) return undefined;
    return this.reserve(payment, decision, served.snapshot);
  }

  /** Every 100 ms of payment time: completions, kill confirmations, rollout reports, the guard. */
  async tick(atMs: number): Promise<void> {
    this.clock.nowMs = atMs;
    await this.completeDue(atMs);
    await this.confirmKillsDue(atMs);
    let reloaded = false;
    for (const runner of this.runners) {
      if (runner.isReportDue(atMs)) {
        await runner.report(atMs);
        reloaded = true;
      }
    }
    if (reloaded) this.reconfigure(atMs);
    for (const trip of this.guard.check(atMs)) await this.onTrip(trip, atMs);
  }

  /**
   * True once the bad change can grant nothing more: a trip stopped it, every evaluator obeys
   * the kill and serves the configuration without it (no rollout left), and what was reserved
   * before is committed or released. The rest of the five minutes cannot change the run's
   * figures, so the replay need not simulate it.
   */
  get settled(): boolean {
    return (
      this.containment.obeyedEverywhere &&
      this.pendingCommits.length === 0 &&
      this.runners.every((runner) => runner.rollout === undefined)
    );
  }

  /** At the end: payments still completing complete, and the outcome is read. */
  async finish(endMs: number): Promise<GuardedOutcome> {
    await this.completeDue(Number.POSITIVE_INFINITY);
    await this.confirmKillsDue(Number.POSITIVE_INFINITY);
    this.clock.nowMs = endMs;
    const contained = await this.containment.outcome();
    const versions = [...this.badVersions.values()];
    const impact = versions.length === 0 ? null : await this.ledger.impactReport({ versions });
    return {
      impact,
      changeId: this.changeId,
      lintCodes: this.lintCodes,
      blockedAtLint: this.blockedAtLint,
      firstBadReservationAtMs: contained.firstBadAtMs,
      trip: contained.trip,
      response: contained.response,
      otherTrips: contained.otherTrips,
      killConfirmedAtMs: contained.killConfirmedAtMs,
      leakedUntilLastEvaluatorStopsMinor: contained.leakedUntilLastEvaluatorStopsMinor,
      releasedMinor: this.releasedMinor,
      incident: contained.incident,
    };
  }

  /** Every campaign and program budget funded as configured, as `LedgerService.activate` does. */
  private async fund(snapshot: Snapshot, atMs: number): Promise<void> {
    await this.ledger.fundUpTo(
      [
        ...snapshot.campaigns.map(({ campaign }) => ({
          account: `campaign/${campaign.id}`,
          targetMinor: campaign.limits.totalBudgetMinor,
        })),
        ...[...snapshot.programs.values()].map((program) => ({
          account: `program/${program.id}`,
          targetMinor: program.budgetMinor,
        })),
      ],
      "the replay's configured budgets",
      atMs,
    );
  }

  private async reserve(payment: Payment, decision: Decision, snapshot: Snapshot): Promise<void> {
    const request = planReservation(snapshot, this.campaignsOf(snapshot), payment, decision, {
      reservationTtlMs: 600_000,
    });
    const [result] = await this.ledger.reserve([request]);
    if (result?.code !== "answered" || result.answer.code !== "reserved") return;
    let badMinor = 0;
    for (const subsidy of result.answer.subsidies) {
      if (subsidy.code === "reserved" && this.badCampaignIds.has(subsidy.campaignId)) {
        badMinor += subsidy.amountMinor;
      }
    }
    if (badMinor === 0) return;
    this.containment.recordBad(payment, badMinor);
    const { min, max } = this.options.completionMs;
    this.pendingCommits.push({
      dueAtMs: payment.atMs + min + Math.floor(this.random.nextFloat() * (max - min + 1)),
      payment,
      badMinor,
    });
  }

  private async completeDue(atMs: number): Promise<void> {
    if (this.pendingCommits.length === 0) return;
    const due = this.pendingCommits.filter((pending) => pending.dueAtMs <= atMs);
    if (due.length === 0) return;
    this.pendingCommits = this.pendingCommits.filter((pending) => pending.dueAtMs > atMs);
    const answers = await this.ledger.settle(
      due.map((pending) => ({
        kind: "commit" as const,
        paymentId: pending.payment.paymentId,
        atMs: Math.min(atMs, pending.dueAtMs),
      })),
    );
    due.forEach((pending, index) => {
      if (answers[index]?.code === "committed") this.tally.add(pending.payment, pending.badMinor);
    });
  }

  private async onTrip(trip: GuardTrip, atMs: number): Promise<void> {
    await this.containment.answer(trip, atMs, {
      templateOf: (campaignId) => this.campaignsById.get(campaignId)?.template.id,
      fundingOf: (campaignId) => this.campaignsById.get(campaignId)?.funding.source,
      // The trip that stops the bad change: it rolled the change back or killed one of its
      // versions. Others (a campaign the change displaced in an exclusive group) are kept too.
      stopsBadChange: (tripped, response) =>
        response.rolledBack.includes(this.changeId) ||
        (tripped.blamedVersions ?? []).some(
          (blame) =>
            this.badCampaignIds.has(blame.campaignId) &&
            blame.campaignVersion !== this.stableVersionOf(blame.campaignId),
        ),
    });
  }

  private async confirmKillsDue(atMs: number): Promise<void> {
    const obeyed = await this.containment.confirmDue(
      atMs,
      async (evaluator, obeyedAtMs, state) => {
        // The evaluator obeys the kills at once and reloads its configuration (the rollback).
        this.matchers[evaluator] = new KillMatcher(state);
        await this.runners[evaluator]!.report(obeyedAtMs);
      },
      (evaluatorId, killSequence) =>
        `${evaluatorId} applies kill ${killSequence} and serves the configuration after the rollback`,
      (response) => this.remediate(response),
    );
    if (obeyed) this.reconfigure(atMs);
  }

  /** Every evaluator stopped: what is still only reserved is released; the rest is absorbed. */
  private async remediate(response: GuardResponse): Promise<void> {
    const incidentId = response.incidentId;
    if (incidentId === null) return;
    const releasing = this.pendingCommits;
    this.pendingCommits = [];
    const answers = await this.ledger.settle(
      releasing.map((pending) => ({
        kind: "release" as const,
        paymentId: pending.payment.paymentId,
        atMs: this.clock.nowMs,
      })),
    );
    let count = 0;
    releasing.forEach((pending, index) => {
      if (answers[index]?.code === "released") {
        count += 1;
        this.releasedMinor += pending.badMinor;
      }
    });
    const committed = this.tally.result().subsidyMinor;
    await this.incidents.recordRemediation("ops.oncall", incidentId, {
      reason: "the subsidies users received are the platform's cost; nobody is asked to pay back",
      costAbsorbedMinor: committed,
      reservationsReleased: { count, amountMinor: this.releasedMinor },
    });
  }

  /** The guard watches what every evaluator now serves. */
  private reconfigure(atMs: number): void {
    const { stable, rollout } = this.runners[0]!.snapshots();
    const stableCampaigns = stable?.campaigns ?? [];
    for (const effective of stableCampaigns) {
      this.stableVersions.set(effective.campaign.id, effective.version);
    }
    const changed = this.changedCampaigns(stableCampaigns, rollout?.snapshot.campaigns ?? []);
    for (const effective of [...stableCampaigns, ...(rollout?.snapshot.campaigns ?? [])]) {
      this.campaignsById.set(effective.campaign.id, effective);
    }
    if (rollout !== undefined) {
      for (const campaign of changed) {
        this.badCampaignIds.add(campaign.campaign.id);
        this.badVersions.set(`${campaign.campaign.id}@${campaign.version}`, {
          campaignId: campaign.campaign.id,
          version: campaign.version,
        });
      }
    }
    this.guard.configure(
      {
        stable: stableCampaigns,
        ...(rollout === undefined
          ? {}
          : {
              rollout: {
                changeId: rollout.changeId,
                campaigns: changed,
                shareBps: this.rolloutShareBps(),
                // Forced past approval: nobody approved a forecast.
              },
            }),
      },
      atMs,
    );
  }

  private stableVersionOf(campaignId: string): number | undefined {
    return this.stableVersions.get(campaignId);
  }

  private rolloutShareBps(): number {
    return this.runners[0]!.rollout?.shareBps ?? 0;
  }

  /** The rolling-out campaigns whose effective version differs from the stable one. */
  private changedCampaigns(
    stable: readonly SnapshotCampaign[],
    rollout: readonly SnapshotCampaign[],
  ): SnapshotCampaign[] {
    const stableVersions = new Map(
      stable.map((effective) => [effective.campaign.id, effective.version]),
    );
    return rollout.filter(
      (effective) => stableVersions.get(effective.campaign.id) !== effective.version,
    );
  }

  private campaignsOf(snapshot: Snapshot): ReadonlyMap<string, SnapshotCampaign> {
    let byId = this.snapshotCampaigns.get(snapshot);
    if (byId === undefined) {
      byId = new Map(snapshot.campaigns.map((effective) => [effective.campaign.id, effective]));
      this.snapshotCampaigns.set(snapshot, byId);
    }
    return byId;
  }

  private readonly snapshotCampaigns = new WeakMap<Snapshot, Map<string, SnapshotCampaign>>();

  private async openRunners(): Promise<void> {
    this.runners = [];
    this.matchers = [];
    for (let evaluator = 0; evaluator < this.options.evaluators; evaluator += 1) {
      this.runners.push(
        await RolloutRunner.open(this.service, {
          randomSeed: this.options.seed,
          judgeEveryMs: 10_000,
        }),
      );
      this.matchers.push(new KillMatcher(EMPTY_KILL_STATE));
    }
  }

  /**
   * The examples become the configuration in force the way any configuration does: a change,
   * assessed, approved by two reviewers and rolled out in two stages, each reporting what its
   * forecast says.
   */
  private async importExamples(examples: readonly ConfigDocument[]): Promise<void> {
    const created = must(
      await this.service.create(
        AUTHOR,
        "configuration in force before 2025-01-16",
        examples.map((document) => ({ op: "put" as const, document })),
      ),
    );
    const id = created.change.id;
    const submitted = await this.service.submit(AUTHOR, id, []);
    if (!submitted.ok) {
      // The examples' standing warnings, acknowledged once at import.
      const warnings = (this.assessments[this.assessments.length - 1]?.findings ?? []).filter(
        (finding) => finding.severity === "warning",
      );
      must(
        await this.service.submit(
          AUTHOR,
          id,
          warnings.map((finding) => ({
            findingKey: finding.key,
            reason: "reviewed when the configuration was imported",
            byId: AUTHOR.id,
          })),
        ),
      );
    }
    const change = (await this.service.show(id))!;
    if (change.state === "in_review") {
      for (const reviewer of REVIEWERS) {
        const latest = (await this.service.show(id))!;
        if (latest.state !== "in_review") break;
        must(await this.service.approve(reviewer, id, latest.contentHash));
      }
    }
    must(await this.service.startRollout(OPERATOR, id, IMPORT_PLAN));
    // Setting up the platform, not what the replay measures: each stage reports what its
    // forecast says (a 10 % stage of ten minutes of light traffic strays from its forecast by
    // chance — a few heavy payers land in it — and would abort an import nobody is testing).
    const seen = observationAsForecast((await this.service.show(id))?.assessment?.forecast, 10_000);
    for (const stage of IMPORT_PLAN.stages) {
      must(await this.service.observe(id, seen, new Date(this.clock.nowMs).toISOString()));
      this.clock.nowMs += stage.dwellMinMs;
      const judged = must(await this.service.judge(id));
      if (judged.verdict.verdict === "hold") must(await this.service.judge(id));
    }
    const imported = await this.service.show(id);
    if (imported?.state !== "active") {
      throw new Error(`the examples did not become active (${imported?.state})`);
    }
  }
}

/** Synthetic traffic for assessments and the import: 200 payments/s, ten minutes by default. */
function sampleTraffic(seed: number, startMs: number, seconds = 600): Iterable<Payment> {
  const created = TrafficGenerator.create({ seed, tps: 200, seconds, startMs });
  if (!created.ok) throw new Error(created.errors.map((error) => error.message).join("; "));
  return created.generator;
}

function must<T extends { ok: boolean }>(result: T): Extract<T, { ok: true }> {
  if (!result.ok) {
    const refusal = result as unknown as { code: string; message: string };
    throw new Error(
      `the replay's change pipeline refused a step: ${refusal.code}: ${refusal.message}`,
    );
  }
  return result as Extract<T, { ok: true }>;
}
