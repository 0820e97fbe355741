/** Limits every campaign needs: a per-identity limit, a velocity ceiling, a real budget. */
import { type Currency, currencyExponent } from "../../money.ts";
import { campaignTarget, type LintRule } from "../lint-rule.ts";

/** A campaign budget of a billion major units (yuan, dollars) bounds nothing. */
const TOTAL_BUDGET_MAJOR_MAX = 1_000_000_000;

export function totalBudgetUnboundedMinor(currency: Currency): number {
  return TOTAL_BUDGET_MAJOR_MAX * 10 ** currencyExponent(currency);
}

export const limitRule: LintRule = {
  name: "limits",
  codes: [
    "lint.per_identity_limit_missing",
    "lint.velocity_ceiling_missing",
    "lint.total_budget_unbounded",
    "lint.daily_budget_above_total",
  ],
  check: (input, report) => {
    for (const effective of input.proposed.campaigns) {
      const { limits, currency } = effective.campaign;
      const target = campaignTarget(effective);
      const perUser = limits.perUser ?? {};
      if (Object.values(perUser).every((value) => value === undefined)) {
        report({
          code: "lint.per_identity_limit_missing",
          target,
          path: ["limits", "perUser"],
          message: "no per-user limit: one identity can take this subsidy on every payment",
        });
      }
      if (limits.spendPerMinuteMaxMinor === undefined) {
        report({
          code: "lint.velocity_ceiling_missing",
          target,
          path: ["limits", "spendPerMinuteMaxMinor"],
          message: "no spend-velocity ceiling: the guard has no declared rate to trip on",
        });
      }
      if (limits.totalBudgetMinor >= totalBudgetUnboundedMinor(currency)) {
        report({
          code: "lint.total_budget_unbounded",
          target,
          path: ["limits", "totalBudgetMinor"],
          message: `totalBudgetMinor ${limits.totalBudgetMinor} is at least ${TOTAL_BUDGET_MAJOR_MAX} ${currency}: a budget that bounds nothing`,
        });
      }
      if (
        limits.dailyBudgetMinor !== undefined &&
        limits.dailyBudgetMinor > limits.totalBudgetMinor
      ) {
        report({
          code: "lint.daily_budget_above_total",
          target,
          path: ["limits", "dailyBudgetMinor"],
          message: `dailyBudgetMinor ${limits.dailyBudgetMinor} is above totalBudgetMinor ${limits.totalBudgetMinor}`,
        });
      }
    }
  },
};
