/**
 * What evaluates payments while a change rolls out: the stable configuration for most
 * identities, the rolling-out change for those in its stage's buckets. It counts what the stage
 * grants, reports it to the change service at a fixed interval of payment time, has the stage
 * judged (hold, advance, complete, or abort and roll back), and reloads the configuration when
 * the verdict moved the change — so a mismatch is stopped by the same loop that served it.
 */

import { type DocumentKey, effectiveCampaignVersions } from "../core/change/document-versions.ts";
import type { RolloutVerdict, StageObservation } from "../core/change/rollout.ts";
import { isInRollout } from "../core/change/rollout.ts";
import type { Decision } from "../core/evaluator/decision.ts";
import { createFastEvaluator, type FastEvaluator } from "../core/evaluator/fast-evaluator.ts";
import { buildSnapshot, type Snapshot } from "../core/evaluator/snapshot.ts";
import { type ConfigSet, resolveConfig } from "../core/model/config-set.ts";
import type { ConfigDocument } from "../core/model/document.ts";
import type { Payment } from "../core/model/payment.ts";
import type { ChangeService } from "./change-service.ts";

export interface RolloutRunnerOptions {
  /** Seeds random offers, as in the snapshots evaluators build everywhere else. */
  readonly randomSeed: number;
  /** Payment time between two reports and verdicts. */
  readonly judgeEveryMs: number;
}

export const ROLLOUT_RUNNER_DEFAULTS = { judgeEveryMs: 10_000 } as const;

/** What happened at one report: the verdict and the share served afterwards. */
export interface RolloutEvent {
  readonly atMs: number;
  readonly changeId: string;
  readonly verdict: RolloutVerdict;
  /** Share of identities the change reaches after the verdict; 0 when it was rolled back. */
  readonly shareBpsAfter: number;
}

interface Serving {
  readonly stable: Pick<FastEvaluator, "quote">;
  /** Absent when nothing is active (NOTHING_SERVED answers). */
  readonly stableSnapshot?: Snapshot;
  readonly rollout?: {
    readonly changeId: string;
    readonly shareBps: number;
    readonly evaluator: FastEvaluator;
    readonly snapshot: Snapshot;
    readonly watchedCampaignIds: readonly string[];
  };
}

/** What answers when no envelope is active: no subsidy for anyone, with the reason. */
const NOTHING_SERVED: Pick<FastEvaluator, "quote"> = {
  quote: (input) => ({
    paymentId: (input as Payment).paymentId ?? null,
    snapshotVersion: 0,
    reason: "payment.currency_without_envelope",
    subsidies: [],
    totalSubsidyMinor: 0,
    rejected: [],
    excludedByIndex: 0,
    subjectToBudget: false,
  }),
};

interface Counts {
  payments: number;
  subsidisedPayments: number;
  subsidyMinor: number;
  byCampaign: Record<string, { subsidisedPayments: number; subsidyMinor: number }>;
}

/** Nothing seen yet, with a place for each campaign the stage reports one by one. */
function emptyObservation(watchedCampaignIds: readonly string[]): Counts {
  const byCampaign: Counts["byCampaign"] = {};
  for (const campaignId of watchedCampaignIds)
    byCampaign[campaignId] = { subsidisedPayments: 0, subsidyMinor: 0 };
  return { payments: 0, subsidisedPayments: 0, subsidyMinor: 0, byCampaign };
}

export class RolloutRunner {
  private serving: Serving;
  private observation: Counts;
  private nextReportAtMs: number | undefined;
  /** The instant of the first payment counted since the last report. */
  private firstSeenAtMs: number | undefined;
  readonly events: RolloutEvent[] = [];

  private constructor(
    private readonly service: ChangeService,
    private readonly options: RolloutRunnerOptions,
    serving: Serving,
  ) {
    this.serving = serving;
    this.observation = emptyObservation(serving.rollout?.watchedCampaignIds ?? []);
  }

  /** Loads what the service serves now; refuses a configuration that does not build. */
  static async open(service: ChangeService, options: RolloutRunnerOptions): Promise<RolloutRunner> {
    if (!Number.isSafeInteger(options.judgeEveryMs) || options.judgeEveryMs < 1) {
      throw new RangeError(`judgeEveryMs ${options.judgeEveryMs} is not a positive whole number`);
    }
    return new RolloutRunner(service, options, await loadServing(service, options.randomSeed));
  }

  /** The change rolling out and the share it reaches, if any. */
  get rollout(): { changeId: string; shareBps: number } | undefined {
    const rollout = this.serving.rollout;
    return rollout === undefined
      ? undefined
      : { changeId: rollout.changeId, shareBps: rollout.shareBps };
  }

  /**
   * The snapshot `payment`'s payer is served, and whether it is the rolling-out change's: what a
   * caller reserving the decision's subsidies plans against, and what a guard watches.
   */
  servedSnapshot(payment: Pick<Payment, "userId">): { snapshot?: Snapshot; rollout: boolean } {
    const rollout = this.serving.rollout;
    if (rollout !== undefined && isInRollout(payment.userId, rollout.shareBps)) {
      return { snapshot: rollout.snapshot, rollout: true };
    }
    return this.serving.stableSnapshot === undefined
      ? { rollout: false }
      : { snapshot: this.serving.stableSnapshot, rollout: false };
  }

  /** The snapshots served now: the stable one and the rolling-out change's, when there are. */
  snapshots(): { stable?: Snapshot; rollout?: { changeId: string; snapshot: Snapshot } } {
    const rollout = this.serving.rollout;
    return {
      ...(this.serving.stableSnapshot === undefined ? {} : { stable: this.serving.stableSnapshot }),
      ...(rollout === undefined
        ? {}
        : { rollout: { changeId: rollout.changeId, snapshot: rollout.snapshot } }),
    };
  }

  /** What `quote` would answer, without counting the payment towards the stage's observation. */
  preview(payment: Payment): Decision {
    const rollout = this.serving.rollout;
    return rollout === undefined || !isInRollout(payment.userId, rollout.shareBps)
      ? this.serving.stable.quote(payment)
      : rollout.evaluator.quote(payment);
  }

  /** Evaluates one payment with the configuration its payer is served. */
  quote(payment: Payment): Decision {
    const rollout = this.serving.rollout;
    if (rollout === undefined || !isInRollout(payment.userId, rollout.shareBps)) {
      return this.serving.stable.quote(payment);
    }
    const decision = rollout.evaluator.quote(payment);
    if (this.observation.payments === 0) this.firstSeenAtMs = payment.atMs;
    this.observation.payments += 1;
    if (decision.totalSubsidyMinor > 0) {
      this.observation.subsidisedPayments += 1;
      this.observation.subsidyMinor += decision.totalSubsidyMinor;
      for (const subsidy of decision.subsidies) {
        const watched = this.observation.byCampaign[subsidy.campaignId];
        if (watched === undefined || subsidy.amountMinor <= 0) continue;
        watched.subsidisedPayments += 1;
        watched.subsidyMinor += subsidy.amountMinor;
      }
    }
    return decision;
  }

  /** Whether a report is due at this payment time; call `report` then, before the next quote. */
  isReportDue(atMs: number): boolean {
    if (this.nextReportAtMs === undefined) this.nextReportAtMs = atMs + this.options.judgeEveryMs;
    return atMs >= this.nextReportAtMs;
  }

  /**
   * Reports the stage's observation, has it judged at `atMs` (the service's clock must read the
   * same time), and reloads what it serves when the change moved — or when someone else moved
   * it (a rollback, a pause, another runner's verdict), which it learns here too: without a
   * rollout, a report only reloads.
   */
  async report(atMs: number): Promise<RolloutEvent | undefined> {
    const rollout = this.serving.rollout;
    this.nextReportAtMs = atMs + this.options.judgeEveryMs;
    if (rollout === undefined) {
      await this.reload(false);
      return undefined;
    }
    const seen: StageObservation = this.observation;
    const observed = await this.service.observe(
      rollout.changeId,
      seen,
      new Date(this.firstSeenAtMs ?? atMs).toISOString(),
    );
    if (!observed.ok) return this.afterRefusal(observed.code);
    // Counted once stored; a refused report keeps its counts for the next one.
    this.observation = emptyObservation(rollout.watchedCampaignIds);
    this.firstSeenAtMs = undefined;
    const judged = await this.service.judge(rollout.changeId);
    if (!judged.ok) return this.afterRefusal(judged.code);
    if (judged.verdict.verdict === "hold") return undefined;
    await this.reload(false);
    const event: RolloutEvent = {
      atMs,
      changeId: rollout.changeId,
      verdict: judged.verdict,
      shareBpsAfter:
        judged.change.state === "active"
          ? 10_000
          : this.serving.rollout?.changeId === rollout.changeId
            ? this.serving.rollout.shareBps
            : 0,
    };
    this.events.push(event);
    return event;
  }

  /**
   * The change is no longer rolling out (someone rolled it back) or another writer got there
   * first: serve what the store says now; the counts of a change that stopped are dropped.
   */
  private async afterRefusal(code: string): Promise<undefined> {
    await this.reload(code === "concurrent_update");
    return undefined;
  }

  /** Serves what the store says now; counts go on only for the same change at the same share. */
  private async reload(keepCounts: boolean): Promise<void> {
    const before = this.serving.rollout;
    this.serving = await loadServing(this.service, this.options.randomSeed);
    const after = this.serving.rollout;
    const same = before?.changeId === after?.changeId && before?.shareBps === after?.shareBps;
    if (!keepCounts || !same) {
      this.observation = emptyObservation(after?.watchedCampaignIds ?? []);
      this.firstSeenAtMs = undefined;
    }
  }
}

async function loadServing(service: ChangeService, randomSeed: number): Promise<Serving> {
  const configuration = await service.servingConfiguration();
  const rolloutConfig =
    configuration.rollout === undefined
      ? undefined
      : resolved(
          configuration.rollout.documents,
          `the configuration of ${configuration.rollout.changeId}`,
        );
  let stableConfig = resolved(configuration.stable, "the stable configuration");
  if (stableConfig.envelope === undefined && rolloutConfig?.envelope !== undefined) {
    // Before the first change is active nothing is granted: the rollout's envelope, no campaigns.
    stableConfig = { ...stableConfig, envelope: rolloutConfig.envelope, campaigns: [] };
  }
  // Nothing active at all (the first change was rolled back): nothing is granted, fail closed.
  const stable =
    stableConfig.envelope === undefined
      ? undefined
      : evaluatorOf(
          stableConfig,
          configuration.stableVersions,
          randomSeed,
          "the stable configuration",
        );
  const stableServing =
    stable === undefined
      ? { stable: NOTHING_SERVED }
      : { stable: stable.evaluator, stableSnapshot: stable.snapshot };
  if (configuration.rollout === undefined || rolloutConfig === undefined) return stableServing;
  const rollout = evaluatorOf(
    rolloutConfig,
    configuration.rollout.versions,
    randomSeed,
    `the configuration of ${configuration.rollout.changeId}`,
  );
  return {
    ...stableServing,
    rollout: {
      changeId: configuration.rollout.changeId,
      shareBps: configuration.rollout.shareBps,
      watchedCampaignIds: configuration.rollout.watchedCampaignIds,
      evaluator: rollout.evaluator,
      snapshot: rollout.snapshot,
    },
  };
}

/**
 * Active configurations passed validation and lint when they were approved; one that no longer
 * resolves or builds (a bug, or a forced change) stops the run rather than serving a guess.
 */
function resolved(documents: readonly ConfigDocument[], what: string): ConfigSet {
  const { config, issues } = resolveConfig(
    documents.map((document) => ({ source: `${document.kind}/${document.id}`, document })),
  );
  if (issues.length > 0) throw new Error(`${what} does not resolve: ${issues[0]!.issue.message}`);
  return config;
}

function evaluatorOf(
  config: ConfigSet,
  versions: ReadonlyMap<DocumentKey, number>,
  randomSeed: number,
  what: string,
): { evaluator: FastEvaluator; snapshot: Snapshot } {
  const campaignVersions = effectiveCampaignVersions(
    config.campaigns.map((effective) => effective.campaign),
    (key) => versions.get(key),
  );
  const built = buildSnapshot(config, { version: 1, randomSeed, campaignVersions });
  if (!built.ok) throw new Error(`${what} does not build: ${built.message}`);
  return { evaluator: createFastEvaluator(built.snapshot), snapshot: built.snapshot };
}
