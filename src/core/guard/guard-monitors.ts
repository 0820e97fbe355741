/**
 * The runtime guard's monitors over the stream of decided payments (DESIGN §4.5), in the 1 s,
 * 10 s and 60 s windows of the caller's clock. Pure: `record` every payment, subsidised or not,
 * and `check` with the time it is; trips come back as values. Per campaign version: spend
 * against its ceiling and forecast, share of payments against the forecast share, grants
 * outside the declared scope, mean subsidy per payment against the forecast's or the previous
 * version's. Per template: spend against its ceiling and forecast (an edit fans out to every
 * campaign using it). Per funding source of an external engine's grants (guard mode): spend
 * against its baseline and the ceilings its registered campaigns declare. Platform-wide: subsidy
 * over payment volume against the baseline.
 *
 * A change forced past approval has no forecast: it is judged by its ceiling, its scope, the
 * previous version's mean subsidy per payment and the platform baseline.
 *
 * The monitors see one process's decisions. Declared ceilings are the whole fleet's and are
 * scaled by the policy's traffic share; forecasts of spend per minute and baselines are given as
 * this process's own (see each field) and are not.
 */
import type { FundingSource } from "../funding.ts";
import type { PayeeKind } from "../model/payment.ts";
import type { Region } from "../region.ts";
import type { Scenario } from "../scenario.ts";
import type { GuardGrant, GuardPaymentEvent } from "./guard-event.ts";
import {
  CampaignMonitor,
  campaignKey,
  checkWatchedScope,
  LONGEST_WINDOW_MS,
} from "./monitors/campaign-monitor.ts";
import {
  checkGuardPolicy,
  DEFAULT_GUARD_POLICY,
  type GuardPolicy,
  limitAbove,
} from "./monitors/guard-policy.ts";
import { GUARD_WINDOWS, type GuardBlame, type GuardTrip } from "./monitors/guard-trip.ts";
import { EXTERNAL_TEMPLATE_ID } from "./proposal-input.ts";
import { GuardWindows } from "./sliding-window.ts";
import { SpendVelocityMonitor, type VelocityTrip } from "./spend-velocity-monitor.ts";

export {
  checkGuardPolicy,
  DEFAULT_GUARD_POLICY,
  GUARD_POLICY_LIMITS,
  type GuardPolicy,
  withTrafficShare,
} from "./monitors/guard-policy.ts";
export {
  GUARD_TRIP_CODES,
  GUARD_WINDOWS,
  type GuardBlame,
  type GuardTrip,
  type GuardTripCode,
  type GuardWindowName,
  type OutsideScope,
} from "./monitors/guard-trip.ts";
export { WHOLE_TRAFFIC_BPS } from "./spend-velocity-monitor.ts";

/** One campaign version the guard watches, with what it was approved (or forced) to do. */
export interface WatchedCampaign {
  readonly campaignId: string;
  readonly campaignVersion: number;
  readonly templateId: string;
  /**
   * The effective scope it is declared to reach. A grant outside it trips. Payee kinds default
   * to merchants only: payments to individuals are transfers, never in scope unless declared.
   */
  readonly scope: {
    readonly scenarios: readonly Scenario[];
    readonly regions: readonly Region[];
    readonly payeeKinds?: readonly PayeeKind[];
  };
  /** The declared `limits.spendPerMinuteMaxMinor`: the whole fleet's, scaled by the traffic share. */
  readonly ceilingPerMinuteMinor?: number;
  /**
   * The approved forecast for this version at its current rollout share: mean spend per minute
   * over the day, share of all payments it subsidises, mean subsidy per subsidised payment.
   * Absent for a change forced past approval. Its spend per minute is this process's: the
   * runtime guard makes it from the forecast's subsidy per payment and the payments this process
   * sees, so the traffic share does not scale it again.
   */
  readonly forecast?: {
    readonly spendPerMinuteMinor: number;
    readonly subsidisedShareBps: number;
    readonly meanSubsidyMinor: number;
  };
  /**
   * The previous version's mean subsidy per subsidised payment, when there was one; for an
   * external campaign (guard mode), its own over the baseline window, and the share of all
   * payments it subsidised there, once it has them.
   */
  readonly previous?: { readonly meanSubsidyMinor?: number; readonly subsidisedShareBps?: number };
}

export interface WatchedTemplate {
  readonly templateId: string;
  /** A declared ceiling: the whole fleet's, scaled by the traffic share. */
  readonly ceilingPerMinuteMinor?: number;
  /** Spend per minute expected of this process (what it spent itself): not scaled. */
  readonly forecastPerMinuteMinor?: number;
}

/**
 * What an external engine (guard mode, template `ext:*`) may spend per minute of one funder's
 * money: what it spent over the baseline window (0 when nothing: a funder it never paid with is
 * watched against the floor alone) plus the ceilings its registered campaigns of that funding
 * declare. Native grants are not counted: their funding was approved with their forecasts.
 * The two parts are apart because only the second is the whole fleet's.
 */
export interface WatchedFunder {
  readonly funding: FundingSource;
  /** What this process saw the engine spend of it per minute: its own, never scaled. */
  readonly baselinePerMinuteMinor: number;
  /** The registered campaigns' declared ceilings, summed: the fleet's, scaled by the share. */
  readonly declaredPerMinuteMinor: number;
}

export interface GuardWatch {
  /** Every version that may grant: a staged rollout lists the stable and the rolling one. */
  readonly campaigns: readonly WatchedCampaign[];
  readonly templates?: readonly WatchedTemplate[];
  /** The external engine's spend per funder, once it has a baseline: none before. */
  readonly externalFunders?: readonly WatchedFunder[];
  readonly platform?: { readonly baselineSubsidyOverVolumeBps: number };
}

export const GUARD_MONITOR_LIMITS = {
  /** Campaign versions watched at once (about 2 KB of windows each). */
  campaignsMax: 20_000,
  templatesMax: 5_000,
  /** Versions of one campaign watched at once: a rollout runs two. */
  versionsPerCampaignMax: 8,
  /** Values in one scope list: more than any closed vocabulary holds. */
  scopeValuesMax: 64,
  /**
   * External campaigns remembered per funder as having granted its money lately, for the blame
   * of a funder trip. Past it, stale ones are forgotten first; a new one beyond still counts for
   * the funder's spend but cannot be blamed.
   */
  grantersPerFunderMax: 20_000,
} as const;

interface TemplateActivity {
  readonly templateId: string;
  readonly windows: GuardWindows;
  lastGrantAtMs: number;
}

/** One funder's external spend: its windows, and who granted its money when, for the blame. */
interface FunderActivity {
  readonly funding: FundingSource;
  readonly windows: GuardWindows;
  lastGrantAtMs: number;
  /** External campaign id → its latest grant of this funder's money. */
  readonly granters: Map<string, number>;
}

export class GuardMonitors {
  private readonly policy: GuardPolicy;
  private readonly campaigns: CampaignMonitor[] = [];
  private readonly campaignsById = new Map<string, CampaignMonitor[]>();
  private readonly campaignVelocity: SpendVelocityMonitor;
  private readonly templateVelocity: SpendVelocityMonitor;
  private readonly templates = new Map<string, TemplateActivity>();
  private readonly funderVelocity: SpendVelocityMonitor;
  private readonly funders = new Map<string, FunderActivity>();
  /** Every payment: amount is payment volume, count is payments. */
  private readonly payments: GuardWindows;
  /** Every subsidised payment: amount is all its subsidies, count is payments. */
  private readonly subsidies: GuardWindows;
  private unwatched = 0;

  /**
   * `carryFrom` (see `withWatch`) hands over the windows of the platform, of every campaign
   * version and of every template both watches list; anything new starts empty.
   */
  constructor(
    private readonly watch: GuardWatch,
    policy: GuardPolicy = DEFAULT_GUARD_POLICY,
    carryFrom?: GuardMonitors,
  ) {
    checkGuardPolicy(policy);
    checkWatch(watch);
    this.policy = policy;
    this.payments = carryFrom?.payments ?? new GuardWindows();
    this.subsidies = carryFrom?.subsidies ?? new GuardWindows();
    this.unwatched = carryFrom?.unwatched ?? 0;
    this.campaignVelocity = new SpendVelocityMonitor(
      watch.campaigns.map((campaign) => ({
        key: campaignKey(campaign.campaignId, campaign.campaignVersion),
        ceilingPerMinuteMinor: campaign.ceilingPerMinuteMinor,
        forecastPerMinuteMinor: campaign.forecast?.spendPerMinuteMinor,
      })),
      policy.velocity,
      (key) => carryFrom?.campaignVelocity.windowsOf(key),
    );
    for (const watched of watch.campaigns) this.addCampaign(watched, carryFrom);
    const templates = watch.templates ?? [];
    this.templateVelocity = new SpendVelocityMonitor(
      templates.map((template) => ({ ...template, key: template.templateId })),
      policy.velocity,
      (key) => carryFrom?.templateVelocity.windowsOf(key),
    );
    for (const { templateId } of templates) {
      this.templates.set(templateId, {
        templateId,
        windows: this.templateVelocity.windowsOf(templateId)!,
        lastGrantAtMs:
          carryFrom?.templates.get(templateId)?.lastGrantAtMs ?? Number.NEGATIVE_INFINITY,
      });
    }
    const funders = watch.externalFunders ?? [];
    this.funderVelocity = new SpendVelocityMonitor(
      funders.map((funder) => ({
        key: funder.funding,
        forecastPerMinuteMinor: funder.baselinePerMinuteMinor,
        fleetForecastPerMinuteMinor: funder.declaredPerMinuteMinor,
      })),
      policy.velocity,
      (key) => carryFrom?.funderVelocity.windowsOf(key),
    );
    for (const { funding } of funders) {
      const carried = carryFrom?.funders.get(funding);
      this.funders.set(funding, {
        funding,
        windows: this.funderVelocity.windowsOf(funding)!,
        lastGrantAtMs: carried?.lastGrantAtMs ?? Number.NEGATIVE_INFINITY,
        granters: carried?.granters ?? new Map(),
      });
    }
  }

  /**
   * The monitors for a rebuilt watch (the configuration changed), keeping what this one has
   * observed for the platform and for every campaign version and template both list. This one
   * shares those windows afterwards: stop recording into it.
   */
  withWatch(watch: GuardWatch): GuardMonitors {
    return new GuardMonitors(watch, this.policy, this);
  }

  /** Grants by campaign versions the watch does not list: counted for the platform only. */
  get unwatchedGrants(): number {
    return this.unwatched;
  }

  /** Every decided payment, subsidised or not: O(grants), allocation-free unless out of scope. */
  record(event: GuardPaymentEvent): void {
    const { atMs, grants } = event;
    this.payments.add(atMs, event.amountMinor, 1);
    if (grants.length === 0) return;
    let subsidyMinor = 0;
    for (let index = 0; index < grants.length; index += 1) {
      const grant = grants[index]!;
      subsidyMinor += grant.amountMinor;
      const template = this.templates.get(grant.templateId);
      if (template !== undefined) {
        template.windows.add(atMs, grant.amountMinor, 1);
        if (atMs > template.lastGrantAtMs) template.lastGrantAtMs = atMs;
      }
      if (grant.templateId === EXTERNAL_TEMPLATE_ID) {
        const funder = this.funders.get(grant.funding);
        if (funder !== undefined) recordFunderGrant(funder, atMs, grant);
      }
      const campaign = this.campaignOf(grant.campaignId, grant.campaignVersion);
      if (campaign === undefined) this.unwatched += 1;
      else campaign.record(atMs, grant.amountMinor, event.scenario, event.region, event.payeeKind);
    }
    this.subsidies.add(atMs, subsidyMinor, 1);
  }

  /**
   * Every limit broken at `nowMs`: per campaign version (in watch order: scope, velocity,
   * share, per payment), then per template, then the platform; each on its shortest breaking
   * window. An anomaly is reported on every check while it lasts: breakers keep their own state.
   */
  check(nowMs: number): GuardTrip[] {
    const trips: GuardTrip[] = [];
    const paymentCounts = GUARD_WINDOWS.map(
      (window) => window.pick(this.payments).sum(nowMs).count,
    );
    for (const campaign of this.campaigns) {
      if (campaign.isIdle(nowMs)) continue;
      // In this order: scope, velocity, share, per payment (no array per campaign and check).
      const scope = campaign.checkScope(nowMs, this.policy);
      if (scope !== undefined) trips.push(scope);
      const velocity = this.campaignVelocity.checkKey(campaign.key, nowMs);
      if (velocity !== undefined) trips.push(campaignVelocityTrip(velocity, campaign));
      const share = campaign.checkShare(nowMs, paymentCounts, this.policy);
      if (share !== undefined) trips.push(share);
      const perPayment = campaign.checkPerPayment(nowMs, this.policy);
      if (perPayment !== undefined) trips.push(perPayment);
    }
    for (const template of this.templates.values()) {
      if (nowMs - template.lastGrantAtMs > LONGEST_WINDOW_MS) continue;
      const velocity = this.templateVelocity.checkKey(template.templateId, nowMs);
      if (velocity !== undefined) trips.push(this.templateVelocityTrip(velocity, template));
    }
    for (const funder of this.funders.values()) {
      if (nowMs - funder.lastGrantAtMs > LONGEST_WINDOW_MS) continue;
      const velocity = this.funderVelocity.checkKey(funder.funding, nowMs);
      if (velocity !== undefined) trips.push(this.funderVelocityTrip(velocity, funder));
    }
    const platform = this.checkPlatform(nowMs);
    if (platform !== undefined) trips.push(platform);
    return trips;
  }

  private addCampaign(watched: WatchedCampaign, carryFrom: GuardMonitors | undefined): void {
    const versions = this.campaignsById.get(watched.campaignId) ?? [];
    if (versions.some((campaign) => campaign.campaignVersion === watched.campaignVersion)) {
      throw new RangeError(
        `campaign ${watched.campaignId} version ${watched.campaignVersion} is watched twice`,
      );
    }
    if (versions.length >= GUARD_MONITOR_LIMITS.versionsPerCampaignMax) {
      throw new RangeError(
        `campaign ${watched.campaignId} has more than ${GUARD_MONITOR_LIMITS.versionsPerCampaignMax} versions watched`,
      );
    }
    const key = campaignKey(watched.campaignId, watched.campaignVersion);
    const campaign = new CampaignMonitor(
      watched,
      this.campaignVelocity.windowsOf(key)!,
      carryFrom?.campaignOf(watched.campaignId, watched.campaignVersion),
    );
    versions.push(campaign);
    this.campaignsById.set(watched.campaignId, versions);
    this.campaigns.push(campaign);
  }

  private campaignOf(campaignId: string, campaignVersion: number): CampaignMonitor | undefined {
    const versions = this.campaignsById.get(campaignId);
    if (versions === undefined) return undefined;
    for (let index = 0; index < versions.length; index += 1) {
      if (versions[index]!.campaignVersion === campaignVersion) return versions[index];
    }
    return undefined;
  }

  private templateVelocityTrip(velocity: VelocityTrip, template: TemplateActivity): GuardTrip {
    return velocityTripOf(
      velocity,
      { kind: "template", id: template.templateId },
      this.blame(
        velocity.atMs,
        velocity.window,
        (campaign) => campaign.watched.templateId === template.templateId,
      ),
    );
  }

  /**
   * A funder's external spend ran away: blamed are the external campaigns that granted its money
   * within the window, the largest spenders first (their spend in the window, whatever its
   * funding: a campaign whose funding the engine switched spends mostly the new funder's).
   */
  private funderVelocityTrip(velocity: VelocityTrip, funder: FunderActivity): GuardTrip {
    return velocityTripOf(
      velocity,
      { kind: "funder", id: funder.funding },
      this.blame(
        velocity.atMs,
        velocity.window,
        (campaign, sinceMs) =>
          (funder.granters.get(campaign.campaignId) ?? Number.NEGATIVE_INFINITY) > sinceMs,
      ),
    );
  }

  /** Subsidy over payment volume against the baseline, once a window has enough payments. */
  private checkPlatform(nowMs: number): GuardTrip | undefined {
    const baseline = this.watch.platform?.baselineSubsidyOverVolumeBps;
    if (baseline === undefined) return undefined;
    const limit = limitAbove(
      baseline,
      this.policy.platformToleranceBps,
      this.policy.platformFloorBps,
    );
    for (const window of GUARD_WINDOWS) {
      const payments = window.pick(this.payments).sum(nowMs);
      if (payments.count < this.policy.platformMinPayments || payments.amountMinor <= 0) continue;
      const subsidyMinor = window.pick(this.subsidies).sum(nowMs).amountMinor;
      const observed = Math.floor((subsidyMinor * 10_000) / payments.amountMinor);
      if (observed > limit) {
        return {
          code: "platform.above_baseline",
          subject: { kind: "platform", id: "platform" },
          window: window.name,
          observed,
          limit,
          atMs: nowMs,
          ...this.blame(nowMs, window.name, () => true),
        };
      }
    }
    return undefined;
  }

  /**
   * The campaign versions that spent most in the window among those `eligible`, largest first
   * (ties in watch order), at most the policy's number: the likeliest culprits, for a breaker
   * that pauses the most recent changes first.
   */
  private blame(
    nowMs: number,
    windowName: GuardTrip["window"],
    /** Whether a campaign may be blamed; `sinceMs` is where the window starts. */
    eligible: (campaign: CampaignMonitor, sinceMs: number) => boolean,
  ): Pick<GuardTrip, "campaignIds" | "blamedVersions"> {
    const window = GUARD_WINDOWS.find((candidate) => candidate.name === windowName)!;
    const sinceMs = nowMs - window.ms;
    const spenders = this.campaigns
      .filter((campaign) => !campaign.isIdle(nowMs) && eligible(campaign, sinceMs))
      .map((campaign) => ({ campaign, spentMinor: campaign.spentMinor(nowMs, window) }))
      .filter(({ spentMinor }) => spentMinor > 0)
      .sort((left, right) => right.spentMinor - left.spentMinor)
      .slice(0, this.policy.blameCampaignsMax);
    const blamedVersions: GuardBlame[] = spenders.map(({ campaign }) => ({
      campaignId: campaign.campaignId,
      campaignVersion: campaign.campaignVersion,
    }));
    return {
      campaignIds: [...new Set(blamedVersions.map((version) => version.campaignId))],
      blamedVersions,
    };
  }
}

/** One external grant of a funder's money: its spend, and the campaign as a recent granter. */
function recordFunderGrant(funder: FunderActivity, atMs: number, grant: GuardGrant): void {
  funder.windows.add(atMs, grant.amountMinor, 1);
  if (atMs > funder.lastGrantAtMs) funder.lastGrantAtMs = atMs;
  const { granters } = funder;
  if (
    granters.size >= GUARD_MONITOR_LIMITS.grantersPerFunderMax &&
    !granters.has(grant.campaignId)
  ) {
    for (const [campaignId, lastAtMs] of granters) {
      if (atMs - lastAtMs > LONGEST_WINDOW_MS) granters.delete(campaignId);
    }
    if (granters.size >= GUARD_MONITOR_LIMITS.grantersPerFunderMax) return;
  }
  const last = granters.get(grant.campaignId);
  if (last === undefined || atMs > last) granters.set(grant.campaignId, atMs);
}

function campaignVelocityTrip(velocity: VelocityTrip, campaign: CampaignMonitor): GuardTrip {
  const { campaignId, campaignVersion } = campaign;
  return velocityTripOf(
    velocity,
    { kind: "campaign", id: campaignId, campaignVersion },
    { campaignIds: [campaignId], blamedVersions: [{ campaignId, campaignVersion }] },
  );
}

/** A velocity monitor's verdict as the guard's trip about `subject`, blaming `blamed`. */
function velocityTripOf(
  velocity: VelocityTrip,
  subject: GuardTrip["subject"],
  blamed: Pick<GuardTrip, "campaignIds" | "blamedVersions">,
): GuardTrip {
  return {
    code: velocity.code,
    subject,
    window: velocity.window,
    observed: velocity.observedMinor,
    limit: velocity.limitMinor,
    atMs: velocity.atMs,
    ...blamed,
  };
}

/** A watch that cannot mean anything is the caller's bug: RangeError, like every limit. */
function checkWatch(watch: GuardWatch): void {
  const templates = watch.templates ?? [];
  if (watch.campaigns.length > GUARD_MONITOR_LIMITS.campaignsMax) {
    throw new RangeError(
      `${watch.campaigns.length} campaigns watched; at most ${GUARD_MONITOR_LIMITS.campaignsMax}`,
    );
  }
  if (templates.length > GUARD_MONITOR_LIMITS.templatesMax) {
    throw new RangeError(
      `${templates.length} templates watched; at most ${GUARD_MONITOR_LIMITS.templatesMax}`,
    );
  }
  for (const campaign of watch.campaigns) {
    checkWatchedScope(campaign, GUARD_MONITOR_LIMITS.scopeValuesMax);
    checkAmounts(`campaign ${campaign.campaignId}`, {
      campaignVersion: campaign.campaignVersion,
      ceilingPerMinuteMinor: campaign.ceilingPerMinuteMinor,
      ...campaign.forecast,
      previousMeanSubsidyMinor: campaign.previous?.meanSubsidyMinor,
      previousSubsidisedShareBps: campaign.previous?.subsidisedShareBps,
    });
  }
  const templateIds = new Set<string>();
  for (const template of templates) {
    if (templateIds.has(template.templateId)) {
      throw new RangeError(`template ${template.templateId} is watched twice`);
    }
    templateIds.add(template.templateId);
    checkAmounts(`template ${template.templateId}`, {
      ceilingPerMinuteMinor: template.ceilingPerMinuteMinor,
      forecastPerMinuteMinor: template.forecastPerMinuteMinor,
    });
  }
  const fundings = new Set<string>();
  for (const funder of watch.externalFunders ?? []) {
    if (fundings.has(funder.funding)) {
      throw new RangeError(`funder ${funder.funding} is watched twice`);
    }
    fundings.add(funder.funding);
    checkAmounts(`funder ${funder.funding}`, {
      baselinePerMinuteMinor: funder.baselinePerMinuteMinor,
      declaredPerMinuteMinor: funder.declaredPerMinuteMinor,
    });
  }
  checkAmounts("platform", {
    baselineSubsidyOverVolumeBps: watch.platform?.baselineSubsidyOverVolumeBps,
  });
}

function checkAmounts(owner: string, values: Readonly<Record<string, number | undefined>>): void {
  for (const [name, value] of Object.entries(values)) {
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) {
      throw new RangeError(`${owner}: ${name} ${value} is not a non-negative safe integer`);
    }
  }
}
