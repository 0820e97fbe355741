/**
 * The report of a simulation: one sample of payments evaluated under the current and the proposed
 * snapshot (docs/reference/simulate.md). Money is minor units of the report's one currency, as
 * bigint because a sum over a sample has no bound a number could keep exact; rates and shares are
 * basis points. Every division rounds down (towards zero), so a derived figure never overstates.
 */
import type { Currency } from "../money.ts";
import type { SimulationFlag } from "./simulation-flags.ts";

/** One side (current or proposed) of the whole sample. */
export interface SimulationSide {
  readonly subsidisedPayments: number;
  /** subsidisedPayments × 10,000 / payments, rounded down; 0 without payments. */
  readonly subsidisedShareBps: number;
  readonly subsidyMinor: bigint;
  /** subsidyMinor scaled to one hour of full traffic (see `windowMs` and `sampleRateBps`). */
  readonly subsidyPerHourMinor: bigint;
  /** subsidyMinor × 1,000 / payments, rounded down: a mean below one minor unit is common. */
  readonly subsidyPerPaymentMilliMinor: number;
}

/** One side of one group (a scenario, region, campaign or funding source). */
export interface SimulationGroupSide {
  readonly subsidisedPayments: number;
  /** subsidisedPayments × 10,000 / the row's `payments`, rounded down. */
  readonly subsidisedShareBps: number;
  readonly subsidyMinor: bigint;
  readonly subsidyPerHourMinor: bigint;
}

export interface SimulationGroupRow {
  readonly key: string;
  /**
   * Payments the row's shares divide by: the payments in the scenario or region; for campaigns and
   * funding sources, every payment of the sample (any of them could have been reached).
   */
  readonly payments: number;
  readonly current: SimulationGroupSide;
  readonly proposed: SimulationGroupSide;
  /** proposed − current subsidy per hour. */
  readonly deltaSubsidyPerHourMinor: bigint;
}

/** The largest subsidy one payment got. Ties go to the smaller payment id. */
export interface SimulationWorstPayment {
  readonly paymentId: string;
  readonly subsidyMinor: number;
  readonly paymentAmountMinor: number;
  readonly scenario: string;
  readonly region: string;
}

/** The largest total subsidy to one identity over the sample. Ties go to the smaller identity. */
export interface SimulationWorstIdentity {
  readonly identity: string;
  readonly subsidyMinor: bigint;
  readonly subsidisedPayments: number;
}

export interface SimulationSidePair<T> {
  readonly current: T;
  readonly proposed: T;
}

export const IDENTITY_KINDS = ["user", "device", "card"] as const;
export type IdentityKind = (typeof IDENTITY_KINDS)[number];

/** What a staged rollout compares observed spend with: the proposed side, per payment seen. */
export interface SimulationForecast {
  readonly subsidyPerPaymentMilliMinor: number;
  readonly subsidisedShareBps: number;
  readonly byCampaign: readonly {
    readonly campaignId: string;
    readonly subsidyPerPaymentMilliMinor: number;
    readonly subsidisedShareBps: number;
  }[];
}

export interface SimulationReport {
  readonly currency: Currency;
  /** The share of all traffic the sample holds; subsidy per hour is divided by it. */
  readonly sampleRateBps: number;
  /** Payments evaluated: valid and in the report's currency. */
  readonly payments: number;
  /** Payments the evaluator refused as invalid (`payment.invalid`); in no other figure. */
  readonly paymentsInvalid: number;
  /** Valid payments in another currency; in no other figure. */
  readonly paymentsOtherCurrency: number;
  readonly firstAtMs: number | null;
  readonly lastAtMs: number | null;
  /** The time the sample covers, which subsidy per hour scales by (see simulate.md). */
  readonly windowMs: number;
  readonly current: SimulationSide;
  readonly proposed: SimulationSide;
  /** proposed − current. */
  readonly delta: {
    readonly subsidisedPayments: number;
    readonly subsidisedShareBps: number;
    readonly subsidyMinor: bigint;
    readonly subsidyPerHourMinor: bigint;
  };
  /** proposed × 10,000 / current, rounded down; null when current is zero. */
  readonly ratio: {
    readonly subsidyBps: number | null;
    readonly subsidisedPaymentsBps: number | null;
  };
  /** Sorted by key. */
  readonly byScenario: readonly SimulationGroupRow[];
  readonly byRegion: readonly SimulationGroupRow[];
  readonly byCampaign: readonly SimulationGroupRow[];
  readonly byFunding: readonly SimulationGroupRow[];
  readonly worstPayment: SimulationSidePair<SimulationWorstPayment | null>;
  readonly worstIdentity: Readonly<
    Record<IdentityKind, SimulationSidePair<SimulationWorstIdentity | null>>
  >;
  readonly forecast: SimulationForecast;
  readonly flags: readonly SimulationFlag[];
}

/** JSON has no bigint: money becomes a number while it is exact, else its decimal digits. */
export type Jsonified<T> = T extends bigint
  ? number | string
  : T extends readonly (infer Item)[]
    ? Jsonified<Item>[]
    : T extends object
      ? { [Key in keyof T]: Jsonified<T[Key]> }
      : T;

export function simulationReportToJson(report: SimulationReport): Jsonified<SimulationReport> {
  return jsonified(report) as Jsonified<SimulationReport>;
}

function jsonified(value: unknown): unknown {
  if (typeof value === "bigint") {
    const safe =
      value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= -BigInt(Number.MAX_SAFE_INTEGER);
    return safe ? Number(value) : value.toString();
  }
  if (Array.isArray(value)) return value.map(jsonified);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, jsonified(item)]));
  }
  return value;
}
