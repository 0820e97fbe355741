/**
 * Every tolerance the guard's monitors use, in one documented value (docs/reference/guard.md).
 * A limit is never tighter than its floor and never judged on fewer than its minimum sample:
 * small numbers are noisy, and a breaker that trips on noise gets switched off.
 */
import {
  checkTrafficShareBps,
  type VelocityPolicy,
  WHOLE_TRAFFIC_BPS,
} from "../spend-velocity-monitor.ts";

export interface GuardPolicy {
  /**
   * Spend against ceilings and forecasts (the velocity monitor's own policy). A forecast's spend
   * per minute is a day's mean, and traffic peaks at about 5× its mean, so the guard's default
   * tolerance is far wider than the velocity monitor's: the shape monitors (share, per payment)
   * are the tight ones, since they do not move with the daily curve.
   *
   * Its `trafficShareBps` is this process's declared share of the traffic: the money-per-minute
   * limits that are the whole fleet's are scaled by it. Nothing else is: ratios (share of
   * payments, mix, per payment, platform over volume) read the same in every process of an
   * evenly balanced fleet, and minimum samples are counts this process must see itself, reached
   * N times later in a fleet of N (docs/adr/0025-declared-traffic-share.md).
   */
  readonly velocity: VelocityPolicy;
  /** How far a campaign's share of payments may run above its forecast share, in bps. */
  readonly shareToleranceBps: number;
  /**
   * How far an external campaign's share may run above its own share over the baseline window
   * (guard mode: no forecast was approved), in bps. Wider than against a forecast: a partner's
   * share drifts through the day, and a share several times its recent one is what an edit that
   * widens a campaign's reach looks like.
   */
  readonly shareAbovePreviousToleranceBps: number;
  /** The share limit is at least the forecast (or previous) share plus this many bps. */
  readonly shareFloorBps: number;
  /** Subsidised payments a window needs before its share is judged. */
  readonly shareMinSubsidisedPayments: number;
  /** How far the mean subsidy per subsidised payment may run above its baseline, in bps. */
  readonly perPaymentToleranceBps: number;
  /** The per-payment limit is at least the baseline plus this much, in minor units. */
  readonly perPaymentFloorMinor: number;
  /** Subsidised payments a window needs before its mean is judged: one big payment is not a mean. */
  readonly perPaymentMinSamples: number;
  /**
   * A runaway far beyond the baseline needs fewer payments to be certain: a mean this far above
   * it (in bps) is judged from `perPaymentStrongMinSamples` payments. A fixed 0.50 yuan offer
   * turned into 20 % of every payment is 60× its mean on its first few grants; waiting for the
   * ordinary sample lets a small campaign's runaway run for seconds at a 1 % rollout stage.
   */
  readonly perPaymentStrongToleranceBps: number;
  readonly perPaymentStrongMinSamples: number;
  /** Grants outside a campaign's declared scope tolerated in a window. */
  readonly outsideScopeGrantsMax: number;
  /** How far platform subsidy over payment volume may run above its baseline, in bps of itself. */
  readonly platformToleranceBps: number;
  /** The platform limit is at least the baseline plus this many bps of payment volume. */
  readonly platformFloorBps: number;
  /** Payments a window needs before the platform rate is judged. */
  readonly platformMinPayments: number;
  /** Campaigns a template or platform trip names at most, the largest spenders first. */
  readonly blameCampaignsMax: number;
}

export const DEFAULT_GUARD_POLICY: GuardPolicy = {
  // Ten times the mean minute: twice a 5× peak. A 60× runaway still breaks the 1 s window.
  // One process sees all the traffic unless told otherwise (`--traffic-share`).
  velocity: {
    forecastToleranceBps: 90_000,
    forecastFloorMinor: 10_000,
    trafficShareBps: WHOLE_TRAFFIC_BPS,
  },
  shareToleranceBps: 10_000,
  shareAbovePreviousToleranceBps: 30_000,
  shareFloorBps: 10,
  shareMinSubsidisedPayments: 50,
  perPaymentToleranceBps: 20_000,
  perPaymentFloorMinor: 100,
  perPaymentMinSamples: 30,
  perPaymentStrongToleranceBps: 90_000,
  perPaymentStrongMinSamples: 8,
  outsideScopeGrantsMax: 0,
  platformToleranceBps: 10_000,
  platformFloorBps: 50,
  platformMinPayments: 1_000,
  blameCampaignsMax: 10,
};

export const GUARD_POLICY_LIMITS = {
  /** Tolerances above 1,000× their baseline watch nothing. */
  toleranceBpsMax: 10_000_000,
  blameCampaignsMax: 1_000,
} as const;

/** Refuses a policy that cannot mean anything: a caller's bug, so it throws RangeError. */
export function checkGuardPolicy(policy: GuardPolicy): void {
  const { velocity, blameCampaignsMax, ...counts } = policy;
  const numbers: [string, number][] = [
    ["velocity.forecastToleranceBps", velocity.forecastToleranceBps],
    ["velocity.forecastFloorMinor", velocity.forecastFloorMinor],
    ...Object.entries(counts),
  ];
  checkTrafficShareBps(velocity.trafficShareBps, "guard policy velocity.trafficShareBps");
  for (const [name, value] of numbers) {
    const max = name.endsWith("ToleranceBps")
      ? GUARD_POLICY_LIMITS.toleranceBpsMax
      : Number.MAX_SAFE_INTEGER;
    if (!Number.isSafeInteger(value) || value < 0 || value > max) {
      throw new RangeError(`guard policy ${name} ${value} is not an integer within 0..${max}`);
    }
  }
  if (
    policy.perPaymentStrongMinSamples > policy.perPaymentMinSamples ||
    policy.perPaymentStrongToleranceBps < policy.perPaymentToleranceBps
  ) {
    throw new RangeError(
      "guard policy: the strong per-payment rule must need no more payments and no less excess than the ordinary one",
    );
  }
  if (
    !Number.isSafeInteger(blameCampaignsMax) ||
    blameCampaignsMax < 1 ||
    blameCampaignsMax > GUARD_POLICY_LIMITS.blameCampaignsMax
  ) {
    throw new RangeError(
      `guard policy blameCampaignsMax ${blameCampaignsMax} is not within 1..${GUARD_POLICY_LIMITS.blameCampaignsMax}`,
    );
  }
}

/** `policy` for a process that sees `trafficShareBps` of the traffic (checked where it is used). */
export function withTrafficShare(policy: GuardPolicy, trafficShareBps: number): GuardPolicy {
  return { ...policy, velocity: { ...policy.velocity, trafficShareBps } };
}

/**
 * The most a window may hold against a baseline: the baseline times (1 + tolerance), and at
 * least the baseline plus the floor, so a tiny baseline does not trip on one unlucky grant.
 */
export function limitAbove(baseline: number, toleranceBps: number, floor: number): number {
  return Math.max(Math.floor((baseline * (10_000 + toleranceBps)) / 10_000), baseline + floor);
}
