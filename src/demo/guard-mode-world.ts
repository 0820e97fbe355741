/**
 * One guarded run of guard mode's replay: Bursar as an independent check in front of an external
 * promotion engine on 2025-01-16 (DESIGN §4.7, docs/reference/guard-mode.md). The external engine
 * (the replay's `NaiveEngine`, the incident platform's engine) proposes its subsidy for every
 * payment; one of several guard processes (`GuardCheckService`, as `bursar serve` runs it behind
 * `POST /v1/guard/check`) checks it against the examples' envelope and programs, the kills it
 * knows and the external campaigns' registrations, and records what it allowed into the one
 * runtime guard; trips go to the same responder and incident machinery as Bursar's own replay
 * (`ReplayContainment`). Bursar serves no campaign of its own here: the edit of 14:40 happens in
 * the external engine, so no change request, lint or approval of Bursar's sees it.
 *
 * From 14:40:00 each check is `checkAndRecord`: what it allows is recorded in the ledger of checked
 * subsidies (docs/reference/guard-mode-ledger.md) on the memory store — the book every store runs —
 * within the programmes' budgets and the per-user ceiling, before the answer; the run counts what
 * the recorded answer allows (the caller grants that and no more), and the incident's impact
 * report is the ledger's. The warm-up minute before it only trains the guard's baselines: it is
 * checked (`check`) and recorded by the runtime guard, not in the ledger, whose figures it could
 * not change (the report starts at 14:40:00).
 */
import { ChangeService } from "../control/change-service.ts";
import { MemoryAuditLogStore } from "../control/memory-audit-log-store.ts";
import { MemoryChangeStore } from "../control/memory-change-store.ts";
import type { Subsidy } from "../core/evaluator/decision.ts";
import { isExternalCampaignId } from "../core/guard/external-watch.ts";
import type { GuardTrip } from "../core/guard/guard-monitors.ts";
import type { Incident } from "../core/guard/incident.ts";
import { EMPTY_KILL_STATE, KillMatcher, type KillState } from "../core/guard/kill.ts";
import type { ProposalCheck } from "../core/guard/proposal-check.ts";
import {
  EXTERNAL_CAMPAIGN_PREFIX,
  EXTERNAL_CAMPAIGN_VERSION,
  EXTERNAL_TEMPLATE_ID,
  type ExternalCampaign,
  type Proposal,
} from "../core/guard/proposal-input.ts";
import type { RecordedCheck } from "../core/ledger/checked-subsidies.ts";
import type { ImpactReport } from "../core/ledger/impact-report.ts";
import type { Campaign } from "../core/model/campaign.ts";
import type { ConfigDocument } from "../core/model/document.ts";
import type { Envelope } from "../core/model/envelope.ts";
import type { Payment } from "../core/model/payment.ts";
import type { Program } from "../core/model/program.ts";
import type { Template } from "../core/model/template.ts";
import { type GuardCheckServed, GuardCheckService } from "../guard/guard-check.ts";
import type { GuardResponse } from "../guard/guard-responder.ts";
import { RuntimeGuard } from "../guard/runtime-guard.ts";
import { CheckedSubsidyLedger } from "../ledger/checked-subsidy-ledger.ts";
import { MemoryLedgerStore } from "../ledger/memory-ledger-store.ts";
import { SeededRandom } from "../traffic/seeded-random.ts";
import type { NaiveEngine, NaiveGrant } from "./naive-engine.ts";
import { ReplayContainment } from "./replay-containment.ts";
import { ReplayRunTally } from "./replay-run.ts";

export interface GuardModeWorldOptions {
  readonly seed: number;
  /** The configuration in force: its envelope and programs are what the guard checks against. */
  readonly examples: readonly ConfigDocument[];
  /** The external campaigns registered with the guard (none: judged by the envelope only). */
  readonly registrations: readonly ExternalCampaign[];
  /** 14:40:00: the external engine's edit; what it proposes from then on is the bad change's. */
  readonly changeAtMs: number;
  /** Guard processes checking the traffic (a payment goes to one of them). */
  readonly evaluators: number;
  readonly killDelayMs: { readonly min: number; readonly max: number };
  readonly protectedScenarios: ReadonlySet<string>;
  /** How long a guard process's kill state stays current (it is confirmed on every check). */
  readonly allowedStalenessMs?: number;
  /** Told every check with its proposals and answer (tests read the answers one by one). */
  readonly onChecked?: CheckObserver;
}

/** Sees a checked payment: the proposals are reused afterwards, so copy what is kept. */
export type CheckObserver = (
  payment: Payment,
  proposals: readonly Proposal[],
  check: ProposalCheck | RecordedCheck,
) => void;

/** How the guard answered the external engine's proposals from the edit on. */
export interface GuardModeChecks {
  /** Payments checked, with a proposal or none. */
  readonly payments: number;
  readonly proposals: number;
  readonly allowed: number;
  readonly clamped: number;
  readonly refused: number;
  /** Refused proposals by reason code, most frequent first. */
  readonly refusedBy: readonly { readonly code: string; readonly count: number }[];
  /** Clamped proposals by bound, most frequent first. */
  readonly clampedBy: readonly { readonly bound: string; readonly count: number }[];
  readonly proposedMinor: number;
  readonly allowedMinor: number;
}

/** What a guard-mode run reports beyond CONTRACTS.md's RUN. */
export interface GuardModeOutcome {
  readonly checks: GuardModeChecks;
  readonly firstAllowedAtMs: number | null;
  /** The trip that stopped the external engine's edit (killed a campaign it proposed for). */
  readonly trip: GuardTrip | null;
  readonly response: GuardResponse | null;
  readonly otherTrips: readonly { readonly trip: GuardTrip; readonly response: GuardResponse }[];
  readonly killConfirmedAtMs: readonly number[];
  readonly leakedUntilLastEvaluatorStopsMinor: number;
  readonly incident: Incident | null;
  /** The ledger's impact report of the external campaigns from the edit on. */
  readonly impact: ImpactReport | null;
  /** Trips before the edit: none is expected (a false trip). */
  readonly tripsBeforeChange: number;
  /** When and why the replay stopped checking this run, if it did (see `stopIfSettled`). */
  readonly settled: GuardModeSettled | null;
}

/**
 * Why nothing more can be allowed: every campaign the engine proposes for is killed in every
 * guard process, or every proposal the edited engine can make contradicts its campaign's
 * registration (funding or label), which refuses it whatever the payment.
 */
export interface GuardModeSettled {
  readonly atMs: number;
  readonly reason: "killed_everywhere" | "refused_by_registration";
}

/** The proposal's fields as the external engine shows them (its template's funding and label). */
export interface ProposalShape {
  readonly funding: Template["funding"];
  readonly label: Template["label"];
}

export class GuardModeWorld {
  readonly tally: ReplayRunTally;
  private readonly clock = { nowMs: 0 };
  private readonly guard: RuntimeGuard;
  private readonly containment: ReplayContainment;
  private readonly services: GuardCheckService[] = [];
  /** Each guard process's kill state: what it learned last. */
  private readonly evaluatorKills: { state: KillState; confirmedAtMs: number }[] = [];
  private readonly served: GuardCheckServed;
  private readonly registered: ReadonlyMap<string, ExternalCampaign>;
  /** The ledger of checked subsidies, on the memory store. */
  private readonly ledger = new MemoryLedgerStore();
  /** The external campaigns the ledger recorded a subsidy of, as `ext:<campaignRef>`. */
  private readonly recordedCampaignIds = new Set<string>();
  private readonly counts = {
    payments: 0,
    proposals: 0,
    allowed: 0,
    clamped: 0,
    refused: 0,
    proposedMinor: 0,
    allowedMinor: 0,
  };
  private readonly refusedBy = new Map<string, number>();
  private readonly clampedBy = new Map<string, number>();
  /** The external campaigns the engine can propose for, as `ext:<campaignRef>`. */
  private engineCampaignIds: readonly string[] = [];
  private tripsBeforeChange = 0;
  private settled: GuardModeSettled | null = null;
  /** True when every proposal of the edited engine contradicts its campaign's registration. */
  private refusedByRegistration = false;
  /** How the edited engine's proposals are funded and labelled. */
  private editedShape: ProposalShape = {
    funding: { source: "platform" },
    label: "instant_discount",
  };
  /** One proposal list reused for every payment: the check keeps none of it. */
  private readonly proposal: { -readonly [K in keyof Proposal]: Proposal[K] } = {
    proposalId: "1",
    campaignRef: "",
    amountMinor: 1,
    funding: "platform",
    label: "instant_discount",
  };

  constructor(private readonly options: GuardModeWorldOptions) {
    this.tally = new ReplayRunTally(options.protectedScenarios);
    this.served = servedOf(options.examples);
    this.registered = new Map(
      options.registrations.map((campaign) => [campaign.campaignRef, campaign]),
    );
    this.guard = new RuntimeGuard({ externalCampaigns: options.registrations });
    const audit = new MemoryAuditLogStore();
    // The responder's change pipeline: empty, since the edit is not Bursar's (nothing to roll
    // back; the responder leaves the pipeline alone for trips about external campaigns).
    const changes = new ChangeService({
      store: new MemoryChangeStore(audit),
      assess: async () => {
        throw new Error("guard mode's replay submits no change to Bursar");
      },
      now: () => new Date(this.clock.nowMs).toISOString(),
    });
    this.containment = new ReplayContainment({
      clock: this.clock,
      audit,
      changes,
      random: new SeededRandom(options.seed, 0x9a2d),
      evaluators: options.evaluators,
      killDelayMs: options.killDelayMs,
      protectedScenarios: options.protectedScenarios,
      evaluatorIdPrefix: "guard",
    });
    // The replay's clock is virtual: a store deadline in wall time would mean nothing here.
    const checkedLedger = new CheckedSubsidyLedger({
      store: this.ledger,
      nowMs: () => this.clock.nowMs,
      storeDeadlineMs: null,
    });
    for (let evaluator = 0; evaluator < options.evaluators; evaluator += 1) {
      const kills = { state: EMPTY_KILL_STATE, confirmedAtMs: 0 };
      this.evaluatorKills.push(kills);
      this.services.push(
        new GuardCheckService({
          served: () => this.served,
          kills: {
            get state() {
              return kills.state;
            },
            // The replay models how late each process learns of a kill, not a store that stops
            // answering: every process confirms its kill state as it checks.
            get confirmedAtMs() {
              return kills.confirmedAtMs;
            },
            allowedStalenessMs: options.allowedStalenessMs ?? 1_000,
          },
          guard: this.guard,
          nowMs: () => this.clock.nowMs,
          whenUnhealthy: "refuse",
          externalCampaigns: options.registrations,
          ledger: checkedLedger,
        }),
      );
    }
  }

  /**
   * Before the first payment, with the engine before and after the edit: the guard watches no
   * campaign of Bursar's, only external ones.
   */
  async start(atMs: number, before: NaiveEngine, after: NaiveEngine): Promise<void> {
    this.clock.nowMs = atMs;
    // The programmes' budgets, as `LedgerService.fund` funds a snapshot's (registered external
    // campaigns here declare no budget of their own).
    await this.ledger.fundUpTo(
      [...this.served.programs.values()].map((program) => ({
        account: `program/${program.id}`,
        targetMinor: program.budgetMinor,
      })),
      "the replay's configured programmes",
      atMs,
    );
    this.guard.configure({ stable: [] }, atMs);
    const reachable = [
      ...new Set([...before.reachableCampaignIds(), ...after.reachableCampaignIds()]),
    ];
    this.engineCampaignIds = reachable.map((campaignId) => EXTERNAL_CAMPAIGN_PREFIX + campaignId);
    this.editedShape = { funding: after.funding, label: after.label };
    this.refusedByRegistration = after.reachableCampaignIds().every((campaignId) => {
      const registered = this.registered.get(campaignId);
      return (
        registered !== undefined &&
        (registered.funding !== after.funding.source || registered.label !== after.label)
      );
    });
  }

  /**
   * One payment: the external engine's grant (if any) proposed to the guard process receiving
   * it. Synchronous before the edit; from the edit on, the check is recorded in the ledger and
   * the promise must be awaited before the next payment.
   */
  check(
    payment: Payment,
    grant: NaiveGrant | undefined,
    shape: ProposalShape,
    index: number,
  ): Promise<void> | undefined {
    this.containment.countPayment(payment.atMs);
    const evaluator = index % this.services.length;
    this.evaluatorKills[evaluator]!.confirmedAtMs = payment.atMs;
    this.clock.nowMs = payment.atMs;
    const proposals: Proposal[] = [];
    if (grant !== undefined) {
      const proposal = this.proposal;
      proposal.campaignRef = grant.campaignId;
      proposal.amountMinor = grant.amountMinor;
      proposal.funding = shape.funding.source;
      proposal.label = shape.label;
      if (shape.funding.programId === undefined) delete proposal.programId;
      else proposal.programId = shape.funding.programId;
      proposals.push(proposal);
    }
    const service = this.services[evaluator]!;
    if (payment.atMs < this.options.changeAtMs) {
      const check = service.check({ payment, proposals });
      this.options.onChecked?.(payment, proposals, check);
      return undefined;
    }
    return service
      .checkAndRecord({ payment, proposals })
      .then((recorded) => this.recorded(payment, proposals, recorded));
  }

  private recorded(payment: Payment, proposals: readonly Proposal[], check: RecordedCheck): void {
    this.options.onChecked?.(payment, proposals, check);
    this.count(check, proposals);
    if (check.allowedTotalMinor === 0) return;
    this.tally.add(payment, check.allowedTotalMinor);
    this.containment.recordBad(payment, check.allowedTotalMinor);
    for (const answer of check.answers) {
      if (answer.amountMinor > 0) {
        this.recordedCampaignIds.add(EXTERNAL_CAMPAIGN_PREFIX + answer.campaignRef);
      }
    }
  }

  /** Every 100 ms of payment time: kills learned by the processes whose delay passed, the monitors. */
  async tick(atMs: number): Promise<void> {
    this.clock.nowMs = atMs;
    await this.confirmKillsDue(atMs);
    for (const trip of this.guard.check(atMs)) {
      if (trip.atMs < this.options.changeAtMs) this.tripsBeforeChange += 1;
      await this.containment.answer(trip, atMs, {
        templateOf: (campaignId) =>
          isExternalCampaignId(campaignId) ? EXTERNAL_TEMPLATE_ID : undefined,
        fundingOf: (campaignId) =>
          this.registered.get(campaignId.slice(EXTERNAL_CAMPAIGN_PREFIX.length))?.funding,
        // The edit is stopped by a kill of a campaign the external engine proposes for.
        stopsBadChange: (tripped, response) =>
          tripped.atMs >= this.options.changeAtMs &&
          response.killedCampaignIds.some((campaignId) =>
            this.engineCampaignIds.includes(campaignId),
          ),
      });
    }
  }

  /**
   * True once nothing the external engine proposes can be allowed any more, after the edit:
   * - a trip stopped the edit, and every campaign the engine can propose for is killed in every
   *   guard process; or
   * - nothing tripped or is propagating, and every proposal the edited engine can make
   *   contradicts its campaign's registration (`registration.funding_mismatch` or
   *   `registration.label_mismatch`, if nothing earlier refuses it): nothing is allowed, so
   *   nothing can trip either.
   * The rest of the five minutes cannot change the run's figures, so the replay stops checking;
   * the first time it is true, `atMs` is kept as when checking stopped.
   */
  stopIfSettled(atMs: number): boolean {
    if (this.settled !== null) return true;
    if (atMs < this.options.changeAtMs || this.containment.killsPending) return false;
    if (this.refusedByRegistration && !this.containment.tripped) {
      this.settled = { atMs, reason: "refused_by_registration" };
      return true;
    }
    if (!this.containment.obeyedEverywhere) return false;
    // What a kill matcher reads of each campaign's proposals (as the check probes them).
    const probes: Subsidy[] = this.engineCampaignIds.map((campaignId) => ({
      campaignId,
      campaignVersion: EXTERNAL_CAMPAIGN_VERSION,
      templateId: EXTERNAL_TEMPLATE_ID,
      amountMinor: 0,
      offerMinor: 0,
      funding: this.editedShape.funding.source,
      label: this.editedShape.label,
    }));
    const killedEverywhere = this.evaluatorKills.every(({ state }) => {
      const matcher = new KillMatcher(state);
      return probes.every((probe) => matcher.kills(probe));
    });
    if (killedEverywhere) this.settled = { atMs, reason: "killed_everywhere" };
    return killedEverywhere;
  }

  /** At the end: kills still propagating arrive, and the outcome is read. */
  async finish(endMs: number): Promise<GuardModeOutcome> {
    await this.confirmKillsDue(Number.POSITIVE_INFINITY);
    this.clock.nowMs = endMs;
    const contained = await this.containment.outcome();
    const versions = [...this.recordedCampaignIds].sort().map((campaignId) => ({
      campaignId,
      version: EXTERNAL_CAMPAIGN_VERSION,
    }));
    const impact =
      versions.length === 0
        ? null
        : await this.ledger.impactReport({ versions, fromMs: this.options.changeAtMs });
    return {
      checks: {
        ...this.counts,
        refusedBy: [...this.refusedBy]
          .map(([code, count]) => ({ code, count }))
          .sort((left, right) => right.count - left.count || (left.code < right.code ? -1 : 1)),
        clampedBy: [...this.clampedBy]
          .map(([bound, count]) => ({ bound, count }))
          .sort((left, right) => right.count - left.count || (left.bound < right.bound ? -1 : 1)),
      },
      firstAllowedAtMs: contained.firstBadAtMs,
      trip: contained.trip,
      response: contained.response,
      otherTrips: contained.otherTrips,
      killConfirmedAtMs: contained.killConfirmedAtMs,
      leakedUntilLastEvaluatorStopsMinor: contained.leakedUntilLastEvaluatorStopsMinor,
      incident: contained.incident,
      impact,
      tripsBeforeChange: this.tripsBeforeChange,
      settled: this.settled,
    };
  }

  private count(check: RecordedCheck, proposals: readonly Proposal[]): void {
    const counts = this.counts;
    counts.payments += 1;
    for (let position = 0; position < check.answers.length; position += 1) {
      const answer = check.answers[position]!;
      counts.proposals += 1;
      counts.proposedMinor += proposals[position]!.amountMinor;
      counts.allowedMinor += answer.amountMinor;
      if (answer.outcome === "allowed") counts.allowed += 1;
      else if (answer.outcome === "clamped") {
        counts.clamped += 1;
        const bound = answer.clampedBy ?? "";
        this.clampedBy.set(bound, (this.clampedBy.get(bound) ?? 0) + 1);
      } else {
        counts.refused += 1;
        const code = answer.reason ?? "";
        this.refusedBy.set(code, (this.refusedBy.get(code) ?? 0) + 1);
      }
    }
  }

  /**
   * Whether a guard process learns of a kill by `atMs`: the replay then calls `obeyKillsDue`
   * before the payment, so each process obeys at its own delay, not at the next tick.
   */
  killDueBy(atMs: number): boolean {
    return this.containment.killsPending && this.containment.killDueBy(atMs);
  }

  async obeyKillsDue(atMs: number): Promise<void> {
    await this.confirmKillsDue(atMs);
  }

  private async confirmKillsDue(atMs: number): Promise<void> {
    await this.containment.confirmDue(
      atMs,
      async (evaluator, _obeyedAtMs, state) => {
        this.evaluatorKills[evaluator]!.state = state;
      },
      (evaluatorId, killSequence) =>
        `${evaluatorId} applies kill ${killSequence}: the killed external campaigns' proposals are refused (guard.killed)`,
      (response) => this.remediate(response),
    );
  }

  /**
   * Every guard process obeys the kill: the decision is recorded. What the external engine
   * granted with Bursar's allowance is the platform's cost; nobody is asked to pay it back. The
   * ledger of checked subsidies commits each allowed subsidy at once (ADR 0023): nothing is held,
   * so nothing is released.
   */
  private async remediate(response: GuardResponse): Promise<void> {
    if (response.incidentId === null) return;
    await this.containment.incidents.recordRemediation("ops.oncall", response.incidentId, {
      reason:
        "the subsidies the external engine granted within Bursar's allowance are the platform's cost; nobody is asked to pay back",
      costAbsorbedMinor: this.tally.result().subsidyMinor,
      reservationsReleased: { count: 0, amountMinor: 0 },
    });
  }
}

/** The envelope and programs of the configuration in force, as a guard process serves them. */
function servedOf(documents: readonly ConfigDocument[]): GuardCheckServed {
  const envelope = documents.find((document): document is Envelope => document.kind === "envelope");
  if (envelope === undefined) throw new Error("the configuration has no envelope");
  const programs = new Map<string, Program>();
  for (const document of documents) {
    if (document.kind === "program") programs.set(document.id, document);
  }
  return { version: 1, envelope, programs };
}

/**
 * The external engine's campaigns of `templateId` registered with the guard as the engine
 * declared them before the edit: the template's funding and label, its allowed scenarios, each
 * campaign's regions, and at most the template's amount band's maximum on one payment (what any
 * campaign of the template could give). No spend ceiling: the examples' ceilings are declared for
 * Bursar's own campaigns, whose scope (categories, hours) is narrower than what the naive engine
 * reaches; an external campaign's own baseline stands in for it (docs/reference/guard-mode.md).
 */
export function registrationsOf(
  documents: readonly ConfigDocument[],
  templateId: string,
): ExternalCampaign[] {
  const template = documents.find(
    (document): document is Template => document.kind === "template" && document.id === templateId,
  );
  if (template === undefined) throw new Error(`no template ${templateId}`);
  const perPaymentMaxMinor = template.bands?.amountMinor?.max;
  return documents
    .filter(
      (document): document is Campaign =>
        document.kind === "campaign" && document.template === templateId,
    )
    .map((campaign) => ({
      campaignRef: campaign.id,
      funding: template.funding.source,
      label: template.label,
      scope: { scenarios: template.allowedScenarios, regions: campaign.scope.regions },
      ...(perPaymentMaxMinor === undefined || perPaymentMaxMinor < 1 ? {} : { perPaymentMaxMinor }),
    }));
}
