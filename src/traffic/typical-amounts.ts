/**
 * What lint calls a typical payment in each scenario, read from the traffic model: rules that
 * catch yuan-vs-fen confusions compare amounts with these.
 */
import type { TypicalAmounts } from "../core/lint/lint-rule.ts";
import type { Scenario } from "../core/scenario.ts";
import { inverseStandardNormal } from "./amount-quantiles.ts";
import { SCENARIO_PROFILES } from "./traffic-model.ts";

/** Median and 99th percentile of each scenario's payment amounts in the traffic model. */
export function typicalAmountsFromTrafficModel(): Partial<Record<Scenario, TypicalAmounts>> {
  const z99 = inverseStandardNormal(0.99);
  const typical: Partial<Record<Scenario, TypicalAmounts>> = {};
  for (const profile of SCENARIO_PROFILES) {
    typical[profile.scenario] = {
      medianMinor: profile.amountMedianMinor,
      p99Minor: Math.min(
        profile.amountMinorMax,
        Math.round(profile.amountMedianMinor * Math.exp(profile.amountSigma * z99)),
      ),
    };
  }
  return typical;
}
