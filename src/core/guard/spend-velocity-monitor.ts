/**
 * Spend velocity per campaign (or template, or funder: any key) against its declared ceiling
 * and its approved forecast, over the 1 s, 10 s and 60 s windows. A per-minute limit is scaled
 * to each window, and the short windows allow a burst factor, so a runaway is seen within a
 * second or two while ordinary lumpy traffic is not: a 1 s window may hold 5× its share of a
 * minute, a 10 s window 2×, the minute itself 1×. Pure: the caller feeds the decisions and reads
 * the verdicts with the time it says it is.
 *
 * The monitor watches one process's decisions. Figures that are the whole fleet's (a declared
 * ceiling, the fleet's part of a forecast, the forecast floor) are scaled to the process's
 * declared share of the traffic before they are compared with its windows; figures the process
 * took from its own traffic are not (docs/adr/0025-declared-traffic-share.md).
 */
import { GuardWindows, type SlidingWindow } from "./sliding-window.ts";

export interface VelocityLimit {
  readonly key: string;
  /**
   * The declared ceiling (`spendPerMinuteMaxMinor`), when there is one: the whole fleet's, so
   * scaled by the traffic share.
   */
  readonly ceilingPerMinuteMinor?: number;
  /**
   * The spend per minute expected of the traffic this process sees, when there is one: an
   * approved forecast per payment times the payments this process saw, or what this process
   * spent over a baseline window. Already this process's: never scaled by the traffic share.
   */
  readonly forecastPerMinuteMinor?: number;
  /**
   * Spend per minute expected of the whole fleet (the ceilings a funder's registered external
   * campaigns declare): scaled by the traffic share, then added to `forecastPerMinuteMinor` and
   * judged with the same tolerance.
   */
  readonly fleetForecastPerMinuteMinor?: number;
}

export interface VelocityPolicy {
  /** How far above the forecast spend may run before it trips, in bps (10,000 = twice). */
  readonly forecastToleranceBps: number;
  /**
   * Spend below this in a window never trips on the forecast: noise on tiny forecasts. A fleet's
   * figure ("the fleet spending less than this is noise"), so scaled by the traffic share.
   */
  readonly forecastFloorMinor: number;
  /**
   * This process's declared share of the payment traffic, in bps: 10,000 when it sees all of it
   * (one process, the default), 5,000 for each of two processes behind an even balancer.
   */
  readonly trafficShareBps: number;
}

/** The share of a process that sees all the payment traffic: one process, the default. */
export const WHOLE_TRAFFIC_BPS = 10_000;

export const DEFAULT_VELOCITY_POLICY: VelocityPolicy = {
  forecastToleranceBps: 10_000,
  forecastFloorMinor: 10_000,
  trafficShareBps: WHOLE_TRAFFIC_BPS,
};

export const TRAFFIC_SHARE_LIMITS = {
  /** 1 bps: a process that sees one payment in 10,000. */
  trafficShareBpsMin: 1,
  /** The whole traffic: a share cannot raise a fleet's limit. */
  trafficShareBpsMax: WHOLE_TRAFFIC_BPS,
} as const;

/** A share that is not a whole number of bps within 1..10,000 means nothing: RangeError. */
export function checkTrafficShareBps(trafficShareBps: number, name = "trafficShareBps"): void {
  const { trafficShareBpsMin: min, trafficShareBpsMax: max } = TRAFFIC_SHARE_LIMITS;
  if (!Number.isSafeInteger(trafficShareBps) || trafficShareBps < min || trafficShareBps > max) {
    throw new RangeError(`${name} ${trafficShareBps} is not an integer within ${min}..${max}`);
  }
}

/**
 * This process's part of a fleet's amount: the amount times the share, rounded up to a whole
 * minor unit. Up, so that a limit the fleet has is never a zero limit in a process (one that
 * trips on its first grant), and so that the rounding errs by at most one minor unit towards not
 * tripping; the share of 10,000 bps gives the amount itself. Exact integer arithmetic for every
 * safe amount.
 */
export function shareOfFleetMinor(amountMinor: number, trafficShareBps: number): number {
  const whole = Math.floor(amountMinor / 10_000);
  const rest = amountMinor - whole * 10_000;
  return whole * trafficShareBps + Math.ceil((rest * trafficShareBps) / 10_000);
}

/** Each window, its share of a minute, and the burst it may hold over that share. */
const WINDOWS = [
  {
    name: "1s",
    shareOfMinute: 1 / 60,
    burst: 5,
    pick: (windows: GuardWindows) => windows.oneSecond,
  },
  {
    name: "10s",
    shareOfMinute: 1 / 6,
    burst: 2,
    pick: (windows: GuardWindows) => windows.tenSeconds,
  },
  { name: "60s", shareOfMinute: 1, burst: 1, pick: (windows: GuardWindows) => windows.oneMinute },
] as const satisfies readonly {
  name: string;
  shareOfMinute: number;
  burst: number;
  pick: (windows: GuardWindows) => SlidingWindow;
}[];

export type VelocityWindow = (typeof WINDOWS)[number]["name"];

export const VELOCITY_TRIP_CODES = {
  "velocity.above_ceiling":
    "Spend in a window ran above the declared per-minute ceiling scaled to it.",
  "velocity.above_forecast":
    "Spend in a window ran above the approved forecast scaled to it, beyond the tolerance.",
} as const;

export type VelocityTripCode = keyof typeof VELOCITY_TRIP_CODES;

export interface VelocityTrip {
  readonly code: VelocityTripCode;
  readonly key: string;
  readonly window: VelocityWindow;
  readonly observedMinor: number;
  readonly limitMinor: number;
  readonly atMs: number;
}

export const VELOCITY_LIMITS = { keysMax: 100_000 } as const;

export class SpendVelocityMonitor {
  /** Each key's limit and windows together: one lookup per key and check, on the hot path. */
  private readonly keys = new Map<
    string,
    { readonly limit: VelocityLimit; readonly windows: GuardWindows }
  >();
  /** The forecast floor, scaled to this process's share of the traffic. */
  private readonly forecastFloorMinor: number;
  /** The share as a fraction: exactly 1 for the whole traffic, so one process's maths is unchanged. */
  private readonly trafficShare: number;

  /**
   * `carried` hands over the windows of keys a previous monitor watched, so a rebuilt set of
   * limits (a new configuration) keeps what was already observed; other keys start empty.
   */
  constructor(
    limits: readonly VelocityLimit[],
    private readonly policy: VelocityPolicy = DEFAULT_VELOCITY_POLICY,
    carried?: (key: string) => GuardWindows | undefined,
  ) {
    if (limits.length > VELOCITY_LIMITS.keysMax) {
      throw new RangeError(`${limits.length} limits; at most ${VELOCITY_LIMITS.keysMax}`);
    }
    checkTrafficShareBps(policy.trafficShareBps, "velocity policy trafficShareBps");
    this.forecastFloorMinor = shareOfFleetMinor(policy.forecastFloorMinor, policy.trafficShareBps);
    this.trafficShare = policy.trafficShareBps / 10_000;
    for (const limit of limits) {
      this.keys.set(limit.key, {
        limit,
        windows: carried?.(limit.key) ?? new GuardWindows(),
      });
    }
  }

  /** One subsidy granted under `key` at `atMs`; keys without a limit are not watched here. */
  record(key: string, atMs: number, amountMinor: number): void {
    this.keys.get(key)?.windows.add(atMs, amountMinor);
  }

  /**
   * The windows a key's spend is summed in (amount: spend; count: grants), so a caller on the
   * hot path can hold them and skip the lookup, or read the counts as well.
   */
  windowsOf(key: string): GuardWindows | undefined {
    return this.keys.get(key)?.windows;
  }

  /** Every limit a window breaks at `nowMs`, the shortest window first for each key. */
  check(nowMs: number): VelocityTrip[] {
    const trips: VelocityTrip[] = [];
    for (const key of this.keys.keys()) {
      const trip = this.checkKey(key, nowMs);
      if (trip !== undefined) trips.push(trip);
    }
    return trips;
  }

  /** The first limit one key breaks at `nowMs`, on its shortest window; none for unknown keys. */
  checkKey(key: string, nowMs: number): VelocityTrip | undefined {
    const entry = this.keys.get(key);
    if (entry === undefined) return undefined;
    const { limit, windows } = entry;
    for (const window of WINDOWS) {
      const observedMinor = window.pick(windows).sum(nowMs).amountMinor;
      const trip = this.tripOf(limit, window, observedMinor, nowMs);
      if (trip !== undefined) return trip;
    }
    return undefined;
  }

  private tripOf(
    limit: VelocityLimit,
    window: (typeof WINDOWS)[number],
    observedMinor: number,
    atMs: number,
  ): VelocityTrip | undefined {
    const scale = window.shareOfMinute * window.burst;
    if (limit.ceilingPerMinuteMinor !== undefined) {
      // The fleet's limit for the window, then this process's share of it.
      const limitMinor = shareOfFleetMinor(
        Math.floor(limit.ceilingPerMinuteMinor * scale),
        this.policy.trafficShareBps,
      );
      if (observedMinor > limitMinor) {
        return {
          code: "velocity.above_ceiling",
          key: limit.key,
          window: window.name,
          observedMinor,
          limitMinor,
          atMs,
        };
      }
    }
    const own = limit.forecastPerMinuteMinor;
    const fleet = limit.fleetForecastPerMinuteMinor;
    if (own !== undefined || fleet !== undefined) {
      const tolerance = 1 + this.policy.forecastToleranceBps / 10_000;
      // This process's expectation: its own, plus its share of the fleet's. Never below the
      // (scaled) floor, so a small share of a small forecast does not trip on one grant.
      const expectedPerMinuteMinor = (own ?? 0) + (fleet ?? 0) * this.trafficShare;
      const limitMinor = Math.max(
        this.forecastFloorMinor,
        Math.floor(expectedPerMinuteMinor * scale * tolerance),
      );
      if (observedMinor > limitMinor) {
        return {
          code: "velocity.above_forecast",
          key: limit.key,
          window: window.name,
          observedMinor,
          limitMinor,
          atMs,
        };
      }
    }
    return undefined;
  }
}
