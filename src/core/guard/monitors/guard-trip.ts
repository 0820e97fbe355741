/**
 * What a monitor reports when a window breaks a limit: a closed catalog of trip codes (STYLE
 * rule 3, documented in docs/reference/guard.md), the window, what was observed against what was
 * allowed, and the campaigns it blames, so a breaker knows what to pause or roll back.
 */
import type { PayeeKind } from "../../model/payment.ts";
import type { Region } from "../../region.ts";
import type { Scenario } from "../../scenario.ts";
import type { GuardWindows, SlidingWindow } from "../sliding-window.ts";
import { VELOCITY_TRIP_CODES } from "../spend-velocity-monitor.ts";

export const GUARD_TRIP_CODES = {
  ...VELOCITY_TRIP_CODES,
  "share.above_forecast":
    "A campaign subsidised a larger share of all payments than its forecast share, beyond the tolerance.",
  "share.above_previous":
    "An external campaign subsidised a larger share of all payments than it did over its baseline window, beyond the tolerance.",
  "mix.outside_scope":
    "A campaign granted on a payment outside its declared scenarios, regions or payee kinds.",
  "per_payment.above_forecast":
    "A campaign's mean subsidy per subsidised payment ran above its forecast mean, beyond the tolerance.",
  "per_payment.above_previous":
    "A campaign without a forecast granted more per subsidised payment than its previous version, beyond the tolerance.",
  "platform.above_baseline":
    "Subsidy over payment volume, platform-wide, ran above its baseline, beyond the tolerance.",
} as const;

export type GuardTripCode = keyof typeof GUARD_TRIP_CODES;

export type GuardWindowName = "1s" | "10s" | "60s";

/** The windows every monitor reads, shortest first: a trip names the shortest that breaks. */
export const GUARD_WINDOWS: readonly {
  readonly name: GuardWindowName;
  readonly ms: number;
  readonly pick: (windows: GuardWindows) => SlidingWindow;
}[] = [
  { name: "1s", ms: 1_000, pick: (windows) => windows.oneSecond },
  { name: "10s", ms: 10_000, pick: (windows) => windows.tenSeconds },
  { name: "60s", ms: 60_000, pick: (windows) => windows.oneMinute },
];

/** One campaign version a trip holds responsible. */
export interface GuardBlame {
  readonly campaignId: string;
  readonly campaignVersion: number;
}

/** The values of the latest grant outside a campaign's scope that were outside it. */
export interface OutsideScope {
  readonly scenario?: Scenario;
  readonly region?: Region;
  readonly payeeKind?: PayeeKind;
}

export interface GuardTrip {
  readonly code: GuardTripCode;
  readonly subject: {
    readonly kind: "campaign" | "template" | "funder" | "platform";
    /** The campaign id, the template id, the funding source (guard mode's funders), or `platform`. */
    readonly id: string;
    /** For a campaign: the version the trip is about. */
    readonly campaignVersion?: number;
  };
  readonly window: GuardWindowName;
  /**
   * In the code's unit: minor units for velocity (spend in the window) and per-payment (mean
   * subsidy), bps for share and platform, grants for mix.
   */
  readonly observed: number;
  /** The most the window was allowed, in the same unit: a trip is `observed > limit`. */
  readonly limit: number;
  readonly atMs: number;
  /** The campaigns it blames, without repeats. */
  readonly campaignIds: readonly string[];
  /** The same, by version (a staged rollout runs two versions of a campaign at once). */
  readonly blamedVersions?: readonly GuardBlame[];
  /** For `mix.outside_scope`: what the latest grant outside the scope had outside it. */
  readonly outside?: OutsideScope;
}
