/**
 * One watched campaign version: its grants in the 1 s / 10 s / 60 s windows (spend, and the
 * count of payments it subsidised), its grants outside its declared scope, and the checks that
 * need nothing but these and the platform's payment counts — share of payments against the
 * forecast share, mean subsidy per payment against the forecast mean or, for a change forced
 * past approval (no forecast), the previous version's mean. Spend velocity reads the same
 * windows through the `SpendVelocityMonitor` that owns them.
 */
import type { PayeeKind } from "../../model/payment.ts";
import type { Region } from "../../region.ts";
import type { Scenario } from "../../scenario.ts";
import type { WatchedCampaign } from "../guard-monitors.ts";
import { GuardWindows } from "../sliding-window.ts";
import { type GuardPolicy, limitAbove } from "./guard-policy.ts";
import { GUARD_WINDOWS, type GuardTrip, type OutsideScope } from "./guard-trip.ts";

/** A window's grants are gone once its newest bucket is older than this. */
export const LONGEST_WINDOW_MS = 61_000;

/** Payee kinds a campaign reaches when its scope does not say: individuals are protected. */
const DEFAULT_PAYEE_KINDS: readonly PayeeKind[] = ["merchant"];

/** The key a campaign version's spend is kept under in the velocity monitor. */
export function campaignKey(campaignId: string, campaignVersion: number): string {
  return `${campaignId}@${campaignVersion}`;
}

export class CampaignMonitor {
  readonly campaignId: string;
  readonly campaignVersion: number;
  readonly key: string;
  private readonly scenarios: ReadonlySet<Scenario>;
  private readonly regions: ReadonlySet<Region>;
  private readonly payeeKinds: ReadonlySet<PayeeKind>;
  /** Created on the first grant outside the scope: most campaigns never need it. */
  private outsideWindows: GuardWindows | undefined;
  private outsideLatest: OutsideScope = {};
  /** The newest grant's instant: a campaign idle for a minute has nothing to check. */
  lastGrantAtMs = Number.NEGATIVE_INFINITY;

  /**
   * `windows` are the spend windows the velocity monitor holds for this campaign; `carried` is
   * the same campaign version's monitor under the previous watch, whose outside-scope windows
   * go on counting.
   */
  constructor(
    readonly watched: WatchedCampaign,
    readonly windows: GuardWindows,
    carried: CampaignMonitor | undefined,
  ) {
    this.campaignId = watched.campaignId;
    this.campaignVersion = watched.campaignVersion;
    this.key = campaignKey(watched.campaignId, watched.campaignVersion);
    this.scenarios = new Set(watched.scope.scenarios);
    this.regions = new Set(watched.scope.regions);
    this.payeeKinds = new Set(watched.scope.payeeKinds ?? DEFAULT_PAYEE_KINDS);
    if (carried !== undefined) {
      this.outsideWindows = carried.outsideWindows;
      this.outsideLatest = carried.outsideLatest;
      this.lastGrantAtMs = carried.lastGrantAtMs;
    }
  }

  /** One grant by this version on a payment: O(1), and allocates only on a scope breach. */
  record(
    atMs: number,
    amountMinor: number,
    scenario: Scenario,
    region: Region,
    payeeKind: PayeeKind,
  ): void {
    this.windows.add(atMs, amountMinor, 1);
    if (atMs > this.lastGrantAtMs) this.lastGrantAtMs = atMs;
    const scenarioIn = this.scenarios.has(scenario);
    const regionIn = this.regions.has(region);
    const payeeIn = this.payeeKinds.has(payeeKind);
    if (scenarioIn && regionIn && payeeIn) return;
    this.outsideWindows ??= new GuardWindows();
    this.outsideWindows.add(atMs, amountMinor, 1);
    this.outsideLatest = {
      ...(scenarioIn ? {} : { scenario }),
      ...(regionIn ? {} : { region }),
      ...(payeeIn ? {} : { payeeKind }),
    };
  }

  isIdle(nowMs: number): boolean {
    return nowMs - this.lastGrantAtMs > LONGEST_WINDOW_MS;
  }

  /** The shortest window holding more grants outside the scope than the policy tolerates. */
  checkScope(nowMs: number, policy: GuardPolicy): GuardTrip | undefined {
    if (this.outsideWindows === undefined) return undefined;
    for (const window of GUARD_WINDOWS) {
      const { count } = window.pick(this.outsideWindows).sum(nowMs);
      if (count > policy.outsideScopeGrantsMax) {
        return {
          ...this.tripBase("mix.outside_scope", window.name, count, policy.outsideScopeGrantsMax),
          atMs: nowMs,
          outside: this.outsideLatest,
        };
      }
    }
    return undefined;
  }

  /**
   * Share of all payments this version subsidised, against its forecast share, or without one
   * (an external campaign) against its share over the baseline window, with a wider tolerance
   * (volume does not move a share, so the daily curve does not either). `paymentCounts` are the
   * platform's payments in the 1 s, 10 s and 60 s windows, in that order.
   */
  checkShare(
    nowMs: number,
    paymentCounts: readonly number[],
    policy: GuardPolicy,
  ): GuardTrip | undefined {
    const { forecast, previous } = this.watched;
    const previousShare = previous?.subsidisedShareBps;
    if (forecast === undefined && previousShare === undefined) return undefined;
    const code = forecast !== undefined ? "share.above_forecast" : "share.above_previous";
    const limit =
      forecast !== undefined
        ? limitAbove(forecast.subsidisedShareBps, policy.shareToleranceBps, policy.shareFloorBps)
        : limitAbove(previousShare!, policy.shareAbovePreviousToleranceBps, policy.shareFloorBps);
    for (const [index, window] of GUARD_WINDOWS.entries()) {
      const { count } = window.pick(this.windows).sum(nowMs);
      const payments = paymentCounts[index]!;
      if (count < policy.shareMinSubsidisedPayments || payments === 0) continue;
      const observed = Math.floor((count * 10_000) / payments);
      if (observed > limit) {
        return {
          ...this.tripBase(code, window.name, observed, limit),
          atMs: nowMs,
        };
      }
    }
    return undefined;
  }

  /**
   * Mean subsidy per subsidised payment, against the forecast's mean when the change was
   * approved with one, else against the previous version's (a change forced past approval has
   * no forecast; an approved raise must not trip on the old mean).
   */
  checkPerPayment(nowMs: number, policy: GuardPolicy): GuardTrip | undefined {
    const { forecast, previous } = this.watched;
    const baseline = forecast?.meanSubsidyMinor ?? previous?.meanSubsidyMinor;
    if (baseline === undefined) return undefined;
    const code =
      forecast !== undefined ? "per_payment.above_forecast" : "per_payment.above_previous";
    const limit = limitAbove(baseline, policy.perPaymentToleranceBps, policy.perPaymentFloorMinor);
    const strongLimit = limitAbove(
      baseline,
      policy.perPaymentStrongToleranceBps,
      policy.perPaymentFloorMinor,
    );
    for (const window of GUARD_WINDOWS) {
      const { amountMinor, count } = window.pick(this.windows).sum(nowMs);
      if (count < policy.perPaymentStrongMinSamples) continue;
      const observed = Math.floor(amountMinor / count);
      // Fewer payments than the ordinary sample: only a mean far beyond the baseline counts.
      const judged = count >= policy.perPaymentMinSamples ? limit : strongLimit;
      if (observed > judged)
        return { ...this.tripBase(code, window.name, observed, judged), atMs: nowMs };
    }
    return undefined;
  }

  /** Spend in a window, for ordering the blame of template and platform trips. */
  spentMinor(nowMs: number, window: (typeof GUARD_WINDOWS)[number]): number {
    return window.pick(this.windows).sum(nowMs).amountMinor;
  }

  private tripBase(
    code: GuardTrip["code"],
    window: GuardTrip["window"],
    observed: number,
    limit: number,
  ): Omit<GuardTrip, "atMs"> {
    return {
      code,
      subject: { kind: "campaign", id: this.campaignId, campaignVersion: this.campaignVersion },
      window,
      observed,
      limit,
      campaignIds: [this.campaignId],
      blamedVersions: [{ campaignId: this.campaignId, campaignVersion: this.campaignVersion }],
    };
  }
}

/** Scope lists longer than their closed vocabularies can only be a caller's mistake. */
export function checkWatchedScope(watched: WatchedCampaign, scopeValuesMax: number): void {
  const { scenarios, regions, payeeKinds } = watched.scope;
  for (const [name, list] of [
    ["scenarios", scenarios],
    ["regions", regions],
    ["payeeKinds", payeeKinds ?? []],
  ] as const) {
    if (list.length > scopeValuesMax) {
      throw new RangeError(
        `campaign ${watched.campaignId} scope.${name} has ${list.length} values; at most ${scopeValuesMax}`,
      );
    }
  }
}
