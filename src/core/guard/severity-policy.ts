/**
 * An incident's severity, P0 (worst) to P4, from a documented and configurable policy that
 * weighs money (at risk per minute, and cumulative) with breadth (share of payments subsidised
 * wrongly, scenarios, regions) and core flows. Each measure maps to a severity through its own
 * thresholds; the incident takes the worst of them, so no single dimension can hide another —
 * the 2025-01-16 incident was P0 on breadth and on core flows before its cost was known.
 */

export const SEVERITIES = ["P0", "P1", "P2", "P3", "P4"] as const;
export type Severity = (typeof SEVERITIES)[number];

/** What is known about an incident when its severity is decided (and again as it grows). */
export interface IncidentImpact {
  /** Subsidy the anomaly granted in the last minute. */
  readonly atRiskPerMinuteMinor: number;
  /** Subsidy the anomaly granted since it began. */
  readonly cumulativeMinor: number;
  /** Share of all payments in the window that got an anomalous subsidy, in bps. */
  readonly paymentShareBps: number;
  readonly scenarios: number;
  readonly regions: number;
  /** Whether a core flow was touched: a protected scenario, or payments to individuals. */
  readonly coreFlows: boolean;
}

/** Nothing measured yet: where a breaker's trip opens an incident before the ledger says more. */
export const NO_IMPACT: IncidentImpact = Object.freeze({
  atRiskPerMinuteMinor: 0,
  cumulativeMinor: 0,
  paymentShareBps: 0,
  scenarios: 0,
  regions: 0,
  coreFlows: false,
});

/** Per measure, the lowest value reaching P0, P1, P2 and P3 (below the last: P4). */
export type Thresholds = readonly [p0: number, p1: number, p2: number, p3: number];

export interface SeverityPolicy {
  readonly atRiskPerMinuteMinor: Thresholds;
  readonly cumulativeMinor: Thresholds;
  readonly paymentShareBps: Thresholds;
  readonly scenarios: Thresholds;
  readonly regions: Thresholds;
  /** The severity a touched core flow reaches at least. */
  readonly coreFlows: Severity;
}

/** The documented defaults (docs/reference/guard.md), in CNY minor units. */
export const DEFAULT_SEVERITY_POLICY: SeverityPolicy = {
  atRiskPerMinuteMinor: [100_000_000, 10_000_000, 1_000_000, 100_000],
  cumulativeMinor: [1_000_000_000, 100_000_000, 10_000_000, 1_000_000],
  paymentShareBps: [2_000, 500, 100, 10],
  scenarios: [5, 3, 2, 1],
  regions: [10, 5, 2, 1],
  coreFlows: "P0",
};

export interface SeverityDecision {
  readonly severity: Severity;
  /** The measures that set it, each with the severity it alone reaches. */
  readonly because: readonly { readonly measure: string; readonly severity: Severity }[];
}

export function severityOf(
  impact: IncidentImpact,
  policy: SeverityPolicy = DEFAULT_SEVERITY_POLICY,
): SeverityDecision {
  const levels: { measure: string; severity: Severity }[] = [
    {
      measure: "atRiskPerMinuteMinor",
      severity: level(impact.atRiskPerMinuteMinor, policy.atRiskPerMinuteMinor),
    },
    { measure: "cumulativeMinor", severity: level(impact.cumulativeMinor, policy.cumulativeMinor) },
    { measure: "paymentShareBps", severity: level(impact.paymentShareBps, policy.paymentShareBps) },
    { measure: "scenarios", severity: level(impact.scenarios, policy.scenarios) },
    { measure: "regions", severity: level(impact.regions, policy.regions) },
    { measure: "coreFlows", severity: impact.coreFlows ? policy.coreFlows : "P4" },
  ];
  const worst = levels.reduce(
    (best, item) => (rank(item.severity) < rank(best) ? item.severity : best),
    "P4" as Severity,
  );
  return {
    severity: worst,
    because: worst === "P4" ? [] : levels.filter((item) => item.severity === worst),
  };
}

function level(value: number, thresholds: Thresholds): Severity {
  for (let index = 0; index < thresholds.length; index += 1) {
    if (value >= thresholds[index]!) return SEVERITIES[index]!;
  }
  return "P4";
}

function rank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}
