/**
 * Every lint rule after the size check (which runs first, alone), in the order findings are
 * reported. A new rule is added here.
 */
import type { LintRule } from "./lint-rule.ts";
import { audienceRule } from "./rules/audience-rules.ts";
import { displayRule } from "./rules/display-rules.ts";
import { limitRule } from "./rules/limit-rules.ts";
import {
  bandRule,
  emptyValueRule,
  percentCapRule,
  subsidyReachesPaymentRule,
} from "./rules/offer-bound-rules.ts";
import { amountMagnitudeRule, idLikeAmountRule, rateUnitRule } from "./rules/offer-unit-rules.ts";
import { governmentWordingRule, programScopeRule } from "./rules/program-rules.ts";
import { scheduleRule } from "./rules/schedule-rules.ts";
import { protectedScopeRule, templateScopeRule } from "./rules/scope-rules.ts";
import { stackingRule } from "./rules/stacking-rules.ts";
import { templateEditRule } from "./rules/template-edit-rules.ts";

export const LINT_RULES: readonly LintRule[] = [
  templateEditRule,
  protectedScopeRule,
  templateScopeRule,
  governmentWordingRule,
  programScopeRule,
  percentCapRule,
  subsidyReachesPaymentRule,
  bandRule,
  rateUnitRule,
  amountMagnitudeRule,
  idLikeAmountRule,
  emptyValueRule,
  limitRule,
  displayRule,
  scheduleRule,
  stackingRule,
  audienceRule,
];
