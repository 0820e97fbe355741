/**
 * The runtime guard as one object an evaluating process holds: it feeds every decided payment to
 * the monitors, keeps the baselines a forced change is judged against (each campaign version's
 * mean subsidy per subsidised payment, each template's spend, the platform's subsidy over
 * volume, over the last ten minutes), rebuilds what the monitors watch when the configuration
 * changes, and keeps one breaker per subject: a trip comes back once, when its breaker goes from
 * armed to tripped; it stays tripped, reporting nothing new, until a person acknowledges and
 * resets it. What a trip does (kill, rollback, incident) is `GuardResponder`'s.
 *
 * External campaigns (guard mode, `ext:<campaignRef>` under the template `ext:*`) are watched
 * beside the native ones: each registered one with its declared scope and ceiling and its own
 * baseline mean (`core/guard/external-watch.ts`), each unregistered one from its first grant (so a
 * trip can name it), the `ext:*` template against its own spend over the baseline window, and
 * the external spend of each funder against its own over the baseline window plus the ceilings
 * its registered campaigns declare (a switch of funding, as on 2025-01-16, trips it).
 *
 * Every baseline and every forecast's spend per minute is made from this process's own payments,
 * so with several processes each is already this process's part; only declared ceilings (and the
 * forecast floor) are the whole fleet's, and the policy's traffic share scales them
 * (docs/adr/0025-declared-traffic-share.md).
 *
 * Time is the caller's: the same object runs in a server and in the replay.
 */
import type { RolloutForecast } from "../core/change/rollout.ts";
import type { Decision } from "../core/evaluator/decision.ts";
import type { SnapshotCampaign } from "../core/evaluator/snapshot.ts";
import { FUNDING_SOURCES, type FundingSource } from "../core/funding.ts";
import {
  type BreakerAction,
  type BreakerState,
  nextBreakerState,
} from "../core/guard/breaker-lifecycle.ts";
import {
  type ExternalBaseline,
  isExternalCampaignId,
  watchedExternalCampaign,
  watchedUnregisteredExternal,
} from "../core/guard/external-watch.ts";
import type { GuardPaymentEvent } from "../core/guard/guard-event.ts";
import {
  DEFAULT_GUARD_POLICY,
  GuardMonitors,
  type GuardPolicy,
  type GuardTrip,
  type GuardWatch,
  type WatchedCampaign,
  type WatchedFunder,
  type WatchedTemplate,
} from "../core/guard/guard-monitors.ts";
import { externalCampaignId } from "../core/guard/proposal-check.ts";
import {
  EXTERNAL_CAMPAIGN_VERSION,
  EXTERNAL_TEMPLATE_ID,
  type ExternalCampaign,
} from "../core/guard/proposal-input.ts";
import { SlidingWindow } from "../core/guard/sliding-window.ts";
import type { Payment } from "../core/model/payment.ts";

/** What the evaluators serve, as the guard needs it. */
export interface GuardServing {
  /** The stable configuration's campaigns, with their effective versions. */
  readonly stable: readonly SnapshotCampaign[];
  readonly rollout?: {
    readonly changeId: string;
    /** The rolling-out configuration's campaigns, with their effective versions (those the stable
     * configuration serves at the same version are watched once, as stable). */
    readonly campaigns: readonly SnapshotCampaign[];
    /** Share of identities it reaches, in bps. */
    readonly shareBps: number;
    /**
     * The approved forecast (per payment of all payments, at full share). Absent for a change
     * forced past approval: nobody approved a forecast, so its campaigns are judged against
     * their previous versions and the platform baseline.
     */
    readonly forecast?: RolloutForecast;
  };
  /**
   * External campaigns the served configuration registers (guard mode's registration documents,
   * `Snapshot.externalCampaigns`): watched as the options' are, and in their place for the same
   * `campaignRef` — the served one went through review.
   */
  readonly externalCampaigns?: readonly ExternalCampaign[];
}

export interface RuntimeGuardOptions {
  /**
   * The monitors' tolerances; `velocity.trafficShareBps` is this process's declared share of the
   * traffic, which scales the declared ceilings and the forecast floor (the fleet's), never the
   * baselines and forecasts the guard makes from this process's own payments
   * (`withTrafficShare`, guard.md).
   */
  readonly policy?: GuardPolicy;
  /** How far back the baselines look. Default ten minutes. */
  readonly baselineWindowMs?: number;
  /** How often `check` takes the baselines afresh (default a minute). */
  readonly rebaselineEveryMs?: number;
  /** Subsidised payments a campaign version needs in the baseline before it is a baseline. */
  readonly baselineSamplesMin?: number;
  /** Payments the platform needs in the baseline before its rate is a baseline. */
  readonly platformBaselinePaymentsMin?: number;
  /**
   * External campaigns registered with guard mode (already checked, as `GuardCheckService` checks
   * them): each is watched from the start with its declared scope and ceiling.
   */
  readonly externalCampaigns?: readonly ExternalCampaign[];
}

export const RUNTIME_GUARD_DEFAULTS = {
  baselineWindowMs: 600_000,
  /** How often `check` rebuilds the watch with the baselines as they stand. */
  rebaselineEveryMs: 60_000,
  baselineSamplesMin: 30,
  platformBaselinePaymentsMin: 10_000,
} as const;

export const RUNTIME_GUARD_LIMITS = {
  /** Campaign versions and templates with a baseline at once (a window of 60 buckets each). */
  baselineKeysMax: 50_000,
  /**
   * Unregistered external campaigns watched at once. Each new one rebuilds the watch, so a caller
   * inventing references cannot make every check do it; past the limit a new one counts for the
   * `ext:*` template and the platform only.
   */
  unregisteredExternalMax: 1_000,
} as const;

/**
 * The `ext:*` template's and the external funders' spend is a baseline once it spans a minute
 * (else a start looks slow).
 */
const EXTERNAL_TEMPLATE_BASELINE_MIN_MS = 60_000;

/** A campaign version's first grant this guard recorded. */
export interface FirstGrant {
  readonly paymentId: string;
  readonly atMs: number;
  readonly subsidyMinor: number;
}

/** A breaker per subject: `campaign:ID@VERSION`, `template:ID`, `funder:FUNDING`, `platform`. */
export interface BreakerView {
  readonly breakerId: string;
  readonly state: BreakerState;
  /** The trip that moved it to tripped, while it is tripped or acknowledged. */
  readonly trip?: GuardTrip;
}

const BASELINE_BUCKETS = 60;

export class RuntimeGuard {
  private readonly policy: GuardPolicy;
  private readonly baselineWindowMs: number;
  private readonly rebaselineEveryMs: number;
  /** What `configure` was last told, and when: `check` re-takes the baselines from it. */
  private serving: GuardServing | undefined;
  private configuredAtMs = Number.NEGATIVE_INFINITY;
  private readonly baselineSamplesMin: number;
  private readonly platformBaselinePaymentsMin: number;
  private monitors: GuardMonitors;
  /** Per campaign, each version's grants over the baseline window and its first grant. */
  private readonly campaignBaselines = new Map<
    string,
    { readonly version: number; readonly window: SlidingWindow; readonly first: FirstGrant }[]
  >();
  private baselineKeys = 0;
  private readonly templateBaselines = new Map<string, SlidingWindow>();
  /** External grants' spend per funding source over the baseline window (guard mode). */
  private readonly externalFunderBaselines = new Map<FundingSource, SlidingWindow>();
  private readonly platformVolume: SlidingWindow;
  private readonly platformSubsidy: SlidingWindow;
  private readonly breakers = new Map<string, { state: BreakerState; trip?: GuardTrip }>();
  /** The first payment recorded: how much of the baseline window holds anything. */
  private firstPaymentAtMs: number | undefined;
  /** Registered external campaigns by their id (`ext:<campaignRef>`). */
  /** Registered at construction (`RuntimeGuardOptions.externalCampaigns`). */
  private readonly optionExternal = new Map<string, ExternalCampaign>();
  /** Registered now: the options', with the served configuration's over them. */
  private registeredExternal = new Map<string, ExternalCampaign>();
  /** Unregistered external campaigns watched, in the order they first granted. */
  private readonly unregisteredExternal = new Set<string>();
  /** The first external grant: how much of the baseline window the `ext:*` spend covers. */
  private firstExternalGrantAtMs: number | undefined;
  /** Reused for every payment: the monitors read it and keep nothing of it. */
  private readonly event: {
    atMs: number;
    amountMinor: number;
    scenario: Payment["scenario"];
    region: Payment["region"];
    payeeKind: Payment["payeeKind"];
    grants: GuardPaymentEvent["grants"];
  } = {
    atMs: 0,
    amountMinor: 0,
    scenario: "merchant_qr",
    region: "CN-SH",
    payeeKind: "merchant",
    grants: [],
  };

  constructor(options: RuntimeGuardOptions = {}) {
    this.policy = options.policy ?? DEFAULT_GUARD_POLICY;
    this.baselineWindowMs = options.baselineWindowMs ?? RUNTIME_GUARD_DEFAULTS.baselineWindowMs;
    this.rebaselineEveryMs = options.rebaselineEveryMs ?? RUNTIME_GUARD_DEFAULTS.rebaselineEveryMs;
    this.baselineSamplesMin =
      options.baselineSamplesMin ?? RUNTIME_GUARD_DEFAULTS.baselineSamplesMin;
    this.platformBaselinePaymentsMin =
      options.platformBaselinePaymentsMin ?? RUNTIME_GUARD_DEFAULTS.platformBaselinePaymentsMin;
    this.platformVolume = new SlidingWindow(this.baselineWindowMs, BASELINE_BUCKETS);
    this.platformSubsidy = new SlidingWindow(this.baselineWindowMs, BASELINE_BUCKETS);
    for (const campaign of options.externalCampaigns ?? []) {
      this.optionExternal.set(externalCampaignId(campaign.campaignRef), campaign);
    }
    this.registeredExternal = new Map(this.optionExternal);
    this.monitors = new GuardMonitors(this.watchOf(NOTHING_SERVED, 0), this.policy);
  }

  /** The registration of an external campaign (`ext:<campaignRef>`), if it is registered. */
  externalCampaign(campaignId: string): ExternalCampaign | undefined {
    return this.registeredExternal.get(campaignId);
  }

  /**
   * What the monitors watch from now on: every version served, each rolling-out version with its
   * forecast, or — forced — with its previous version's baseline, and the platform baseline as
   * it stands at `nowMs`. Windows of versions watched before and after carry over.
   */
  configure(serving: GuardServing, nowMs: number): void {
    if (serving !== this.serving) this.register(serving.externalCampaigns ?? []);
    this.monitors = this.monitors.withWatch(this.watchOf(serving, nowMs));
    this.serving = serving;
    this.configuredAtMs = nowMs;
  }

  /** One decided payment (after kills and the staleness gate: what was actually granted). */
  record(payment: Payment, decision: Decision): void {
    this.firstPaymentAtMs ??= payment.atMs;
    const subsidies = decision.subsidies;
    for (let index = 0; index < subsidies.length; index += 1) {
      const subsidy = subsidies[index]!;
      if (subsidy.templateId !== EXTERNAL_TEMPLATE_ID) continue;
      this.firstExternalGrantAtMs ??= payment.atMs;
      this.externalFunderBaselineOf(subsidy.funding).add(payment.atMs, subsidy.amountMinor, 1);
      if (
        !this.registeredExternal.has(subsidy.campaignId) &&
        !this.unregisteredExternal.has(subsidy.campaignId)
      ) {
        this.watchUnregistered(subsidy.campaignId, payment.atMs);
      }
    }
    const event = this.event;
    event.atMs = payment.atMs;
    event.amountMinor = payment.amountMinor;
    event.scenario = payment.scenario;
    event.region = payment.region;
    event.payeeKind = payment.payeeKind;
    // A subsidy is a grant with more fields; nothing is copied.
    event.grants = decision.subsidies;
    this.monitors.record(event);
    this.platformVolume.add(payment.atMs, payment.amountMinor, 1);
    if (decision.totalSubsidyMinor > 0) {
      this.platformSubsidy.add(payment.atMs, decision.totalSubsidyMinor, 1);
    }
    for (const subsidy of decision.subsidies) {
      this.campaignBaselineOf(subsidy.campaignId, subsidy.campaignVersion, payment, subsidy)?.add(
        payment.atMs,
        subsidy.amountMinor,
        1,
      );
      this.templateBaselineOf(subsidy.templateId)?.add(payment.atMs, subsidy.amountMinor, 1);
    }
  }

  /** The trips that tripped an armed breaker at `nowMs`; anomalies already tripped stay quiet. */
  check(nowMs: number): GuardTrip[] {
    // Baselines move with the traffic: the watch takes them afresh every so often, so a guard
    // configured before its first payment gets a platform baseline without being told again.
    // The external baselines exist from a minute after the first external grant: taken then, not
    // up to a minute later at the next regular turn.
    const externalDueAtMs =
      this.firstExternalGrantAtMs === undefined
        ? Number.POSITIVE_INFINITY
        : this.firstExternalGrantAtMs + EXTERNAL_TEMPLATE_BASELINE_MIN_MS;
    if (
      this.serving !== undefined &&
      (nowMs - this.configuredAtMs >= this.rebaselineEveryMs ||
        (this.configuredAtMs < externalDueAtMs && nowMs >= externalDueAtMs))
    ) {
      this.configure(this.serving, nowMs);
    }
    const tripped: GuardTrip[] = [];
    for (const trip of this.monitors.check(nowMs)) {
      const breakerId = breakerIdOf(trip);
      const breaker = this.breakers.get(breakerId) ?? { state: "armed" as BreakerState };
      const move = nextBreakerState(breaker.state, "trip");
      if (!move.ok) continue;
      this.breakers.set(breakerId, { state: move.state, trip });
      tripped.push(trip);
    }
    return tripped;
  }

  /**
   * The first subsidy the trip's blamed native versions granted, when it falls within the baseline
   * window before the trip: a version a recent change made (a rollout, a forced edit) is suspect
   * from its first grant, which is where an incident's window starts. A version granting for
   * longer than that, and an external campaign (its one version is no change's), have no first
   * anomaly the guard can name.
   */
  firstAnomalyOf(trip: GuardTrip): FirstGrant | undefined {
    let earliest: FirstGrant | undefined;
    for (const blamed of trip.blamedVersions ?? []) {
      if (isExternalCampaignId(blamed.campaignId)) continue;
      const first = this.campaignBaselines
        .get(blamed.campaignId)
        ?.find((entry) => entry.version === blamed.campaignVersion)?.first;
      if (first === undefined || trip.atMs - first.atMs > this.baselineWindowMs) continue;
      if (earliest === undefined || first.atMs < earliest.atMs) earliest = first;
    }
    return earliest;
  }

  /** Acknowledging, then resetting, re-arms a breaker: an on-call engineer's moves. */
  moveBreaker(
    breakerId: string,
    action: Exclude<BreakerAction, "trip">,
  ): ReturnType<typeof nextBreakerState> {
    const breaker = this.breakers.get(breakerId) ?? { state: "armed" as BreakerState };
    const move = nextBreakerState(breaker.state, action);
    if (move.ok) {
      this.breakers.set(
        breakerId,
        move.state === "armed" ? { state: "armed" } : { state: move.state, trip: breaker.trip },
      );
    }
    return move;
  }

  /** This process's declared share of the traffic, in bps, as its policy says (reports, metrics). */
  get trafficShareBps(): number {
    return this.policy.velocity.trafficShareBps;
  }

  breakerStates(): BreakerView[] {
    return [...this.breakers].map(([breakerId, breaker]) => ({
      breakerId,
      state: breaker.state,
      ...(breaker.trip === undefined ? {} : { trip: breaker.trip }),
    }));
  }

  /**
   * The registrations from now on: the options', with `served` over them. A campaign registered
   * now is no longer watched as unregistered; one whose registration was retired is watched as
   * unregistered from its next grant.
   */
  private register(served: readonly ExternalCampaign[]): void {
    const registered = new Map(this.optionExternal);
    for (const campaign of served) {
      registered.set(externalCampaignId(campaign.campaignRef), campaign);
    }
    for (const campaignId of registered.keys()) this.unregisteredExternal.delete(campaignId);
    this.registeredExternal = registered;
  }

  /**
   * An unregistered external campaign's first grant: watched from this grant on (the watch is
   * rebuilt before the grant is recorded), so that a template or platform trip can blame it.
   */
  private watchUnregistered(campaignId: string, atMs: number): void {
    if (this.unregisteredExternal.size >= RUNTIME_GUARD_LIMITS.unregisteredExternalMax) return;
    if (!isExternalCampaignId(campaignId)) return;
    this.unregisteredExternal.add(campaignId);
    this.monitors = this.monitors.withWatch(this.watchOf(this.serving ?? NOTHING_SERVED, atMs));
  }

  /** Per campaign, its versions' windows: a key string per grant would cost more than the add. */
  private campaignBaselineOf(
    campaignId: string,
    version: number,
    payment: Payment,
    subsidy: { readonly amountMinor: number },
  ): SlidingWindow | undefined {
    let versions = this.campaignBaselines.get(campaignId);
    if (versions === undefined) {
      if (this.baselineKeys >= RUNTIME_GUARD_LIMITS.baselineKeysMax) return undefined;
      versions = [];
      this.campaignBaselines.set(campaignId, versions);
    }
    for (const entry of versions) if (entry.version === version) return entry.window;
    // Past the limit a new version has no baseline: it is judged by its ceiling and scope only.
    if (this.baselineKeys >= RUNTIME_GUARD_LIMITS.baselineKeysMax) return undefined;
    this.baselineKeys += 1;
    const window = new SlidingWindow(this.baselineWindowMs, BASELINE_BUCKETS);
    versions.push({
      version,
      window,
      first: {
        paymentId: payment.paymentId,
        atMs: payment.atMs,
        subsidyMinor: subsidy.amountMinor,
      },
    });
    return window;
  }

  /** One window per funding source: a closed list of four, so no limit is needed. */
  private externalFunderBaselineOf(funding: FundingSource): SlidingWindow {
    let window = this.externalFunderBaselines.get(funding);
    if (window === undefined) {
      window = new SlidingWindow(this.baselineWindowMs, BASELINE_BUCKETS);
      this.externalFunderBaselines.set(funding, window);
    }
    return window;
  }

  private templateBaselineOf(templateId: string): SlidingWindow | undefined {
    let window = this.templateBaselines.get(templateId);
    if (window === undefined) {
      if (this.baselineKeys >= RUNTIME_GUARD_LIMITS.baselineKeysMax) return undefined;
      this.baselineKeys += 1;
      window = new SlidingWindow(this.baselineWindowMs, BASELINE_BUCKETS);
      this.templateBaselines.set(templateId, window);
    }
    return window;
  }

  private watchOf(serving: GuardServing, nowMs: number): GuardWatch {
    const campaigns = new Map<string, WatchedCampaign>();
    for (const effective of serving.stable) {
      campaigns.set(keyOf(effective), watchedOf(effective));
    }
    const templates = new Map<string, WatchedTemplate>();
    const rollout = serving.rollout;
    if (rollout !== undefined) {
      const stableVersions = new Map(
        serving.stable.map((effective) => [effective.campaign.id, effective.version]),
      );
      const paymentsPerMinute = this.platformPaymentsPerMinute(nowMs);
      for (const effective of rollout.campaigns) {
        const key = keyOf(effective);
        if (campaigns.has(key)) continue;
        const previousVersion = stableVersions.get(effective.campaign.id);
        const previous =
          previousVersion === undefined
            ? undefined
            : this.meanSubsidyOf(effective.campaign.id, previousVersion, nowMs);
        const forecast = rollout.forecast?.byCampaign?.find(
          (campaign) => campaign.campaignId === effective.campaign.id,
        );
        campaigns.set(key, {
          ...watchedOf(effective),
          ...(previous === undefined ? {} : { previous: { meanSubsidyMinor: previous } }),
          ...(forecast === undefined || forecast.subsidisedShareBps === 0
            ? {}
            : {
                forecast: {
                  spendPerMinuteMinor: Math.ceil(
                    (forecast.subsidyPerPaymentMilliMinor / 1_000) *
                      paymentsPerMinute *
                      (rollout.shareBps / 10_000),
                  ),
                  subsidisedShareBps: Math.ceil(
                    (forecast.subsidisedShareBps * rollout.shareBps) / 10_000,
                  ),
                  // Per payment of all payments ÷ the share subsidised = per subsidised payment.
                  meanSubsidyMinor: Math.ceil(
                    (forecast.subsidyPerPaymentMilliMinor * 10) / forecast.subsidisedShareBps,
                  ),
                },
              }),
        });
        // A forced template edit fans out with no forecast: the template's whole spend is
        // watched against what it spent before. An approved change's forecast already covers
        // each campaign it touches.
        const templateId = effective.template.id;
        if (rollout.forecast === undefined && !templates.has(templateId)) {
          const spent = this.templateBaselines.get(templateId)?.sum(nowMs).amountMinor ?? 0;
          templates.set(templateId, {
            templateId,
            ...(spent > 0
              ? {
                  forecastPerMinuteMinor: Math.ceil(
                    (spent * 60_000) / Math.min(this.baselineWindowMs, this.observedMs(nowMs)),
                  ),
                }
              : {}),
          });
        }
      }
    }
    const externalFunders = this.watchExternal(campaigns, templates, nowMs);
    const platformBps = this.platformBaselineBps(nowMs);
    return {
      campaigns: [...campaigns.values()],
      templates: [...templates.values()],
      ...(externalFunders.length === 0 ? {} : { externalFunders }),
      ...(platformBps === undefined
        ? {}
        : { platform: { baselineSubsidyOverVolumeBps: platformBps } }),
    };
  }

  /**
   * External campaigns: the registered ones with their declaration and own baseline mean, the
   * unregistered ones seen so far, and the `ext:*` template against its spend per minute over the
   * baseline window (from its first external grant, once that is a minute ago); returns the
   * funders to watch, from the same moment: every funding source, each expected to spend what it
   * spent per minute over the window plus its registered campaigns' declared ceilings.
   */
  private watchExternal(
    campaigns: Map<string, WatchedCampaign>,
    templates: Map<string, WatchedTemplate>,
    nowMs: number,
  ): WatchedFunder[] {
    if (this.registeredExternal.size === 0 && this.unregisteredExternal.size === 0) return [];
    for (const [campaignId, campaign] of this.registeredExternal) {
      const baseline = this.externalBaselineOf(campaignId, nowMs);
      campaigns.set(
        `${campaignId}@${EXTERNAL_CAMPAIGN_VERSION}`,
        watchedExternalCampaign(campaign, baseline),
      );
    }
    for (const campaignId of this.unregisteredExternal) {
      const baseline = this.externalBaselineOf(campaignId, nowMs);
      campaigns.set(
        `${campaignId}@${EXTERNAL_CAMPAIGN_VERSION}`,
        watchedUnregisteredExternal(campaignId, baseline),
      );
    }
    const first = this.firstExternalGrantAtMs;
    const spanMs = first === undefined ? 0 : Math.min(this.baselineWindowMs, nowMs - first);
    const spent = this.templateBaselines.get(EXTERNAL_TEMPLATE_ID)?.sum(nowMs).amountMinor ?? 0;
    templates.set(EXTERNAL_TEMPLATE_ID, {
      templateId: EXTERNAL_TEMPLATE_ID,
      ...(spanMs >= EXTERNAL_TEMPLATE_BASELINE_MIN_MS && spent > 0
        ? { forecastPerMinuteMinor: Math.ceil((spent * 60_000) / spanMs) }
        : {}),
    });
    if (spanMs < EXTERNAL_TEMPLATE_BASELINE_MIN_MS) return [];
    const declared = new Map<FundingSource, number>();
    for (const campaign of this.registeredExternal.values()) {
      const ceiling = campaign.spendPerMinuteMaxMinor ?? 0;
      declared.set(campaign.funding, (declared.get(campaign.funding) ?? 0) + ceiling);
    }
    // Apart: what this process spent is its own, the declared ceilings are the fleet's (only
    // they are scaled by the traffic share).
    return FUNDING_SOURCES.map((funding) => {
      const spentMinor = this.externalFunderBaselines.get(funding)?.sum(nowMs).amountMinor ?? 0;
      return {
        funding,
        baselinePerMinuteMinor: Math.ceil((spentMinor * 60_000) / spanMs),
        declaredPerMinuteMinor: Math.min(Number.MAX_SAFE_INTEGER, declared.get(funding) ?? 0),
      };
    });
  }

  /**
   * An external campaign's baseline, once it has granted enough: its mean subsidy per subsidised
   * payment and, once it has granted for a minute, its share of the platform's payments since its
   * first grant (the platform's payments over the window scaled to that span, so a campaign that
   * started lately is not judged against payments it could not have subsidised).
   */
  private externalBaselineOf(campaignId: string, nowMs: number): ExternalBaseline | undefined {
    const entry = this.campaignBaselines
      .get(campaignId)
      ?.find((candidate) => candidate.version === EXTERNAL_CAMPAIGN_VERSION);
    if (entry === undefined) return undefined;
    const sum = entry.window.sum(nowMs);
    if (sum.count < this.baselineSamplesMin) return undefined;
    const meanSubsidyMinor = Math.ceil(sum.amountMinor / sum.count);
    const spanMs = Math.min(this.baselineWindowMs, nowMs - entry.first.atMs);
    const observedMs = this.observedMs(nowMs);
    const platformPayments = (this.platformVolume.sum(nowMs).count * spanMs) / observedMs;
    if (spanMs < EXTERNAL_TEMPLATE_BASELINE_MIN_MS || platformPayments < 1) {
      return { meanSubsidyMinor };
    }
    return {
      meanSubsidyMinor,
      subsidisedShareBps: Math.min(10_000, Math.ceil((sum.count * 10_000) / platformPayments)),
    };
  }

  /** Mean subsidy per subsidised payment of one version over the baseline, if it has enough. */
  private meanSubsidyOf(campaignId: string, version: number, nowMs: number): number | undefined {
    const sum = this.campaignBaselines
      .get(campaignId)
      ?.find((entry) => entry.version === version)
      ?.window.sum(nowMs);
    if (sum === undefined || sum.count < this.baselineSamplesMin) return undefined;
    return Math.ceil(sum.amountMinor / sum.count);
  }

  private platformBaselineBps(nowMs: number): number | undefined {
    const volume = this.platformVolume.sum(nowMs);
    if (volume.count < this.platformBaselinePaymentsMin || volume.amountMinor === 0)
      return undefined;
    return Math.ceil((this.platformSubsidy.sum(nowMs).amountMinor * 10_000) / volume.amountMinor);
  }

  private platformPaymentsPerMinute(nowMs: number): number {
    const observedMs = this.observedMs(nowMs);
    return observedMs === 0 ? 0 : (this.platformVolume.sum(nowMs).count * 60_000) / observedMs;
  }

  /** How much of the baseline window has payments in it (a guard started a minute ago has one). */
  private observedMs(nowMs: number): number {
    const first = this.firstPaymentAtMs;
    return first === undefined ? 0 : Math.max(1, Math.min(this.baselineWindowMs, nowMs - first));
  }
}

const NOTHING_SERVED: GuardServing = { stable: [] };

function keyOf(effective: SnapshotCampaign): string {
  return `${effective.campaign.id}@${effective.version}`;
}

function watchedOf(effective: SnapshotCampaign): WatchedCampaign {
  const ceiling = effective.campaign.limits.spendPerMinuteMaxMinor;
  return {
    campaignId: effective.campaign.id,
    campaignVersion: effective.version,
    templateId: effective.template.id,
    scope: { scenarios: effective.scenarios, regions: effective.campaign.scope.regions },
    ...(ceiling === undefined ? {} : { ceilingPerMinuteMinor: ceiling }),
  };
}

export function breakerIdOf(trip: GuardTrip): string {
  const { subject } = trip;
  if (subject.kind === "campaign") return `campaign:${subject.id}@${subject.campaignVersion ?? 0}`;
  if (subject.kind === "template") return `template:${subject.id}`;
  return subject.kind === "funder" ? `funder:${subject.id}` : "platform";
}
