/**
 * The lint catalog: policy rules over a whole configuration, beyond what validation checks.
 * Codes are stable and never renamed (the change pipeline keys acknowledgements on them); each
 * has one severity and a reference page, docs/reference/lint/<code>.md, which a test keeps
 * complete. An error blocks a change; a warning needs an acknowledgement with a reason.
 */

export type LintSeverity = "error" | "warning";

export interface LintCodeDefinition {
  readonly severity: LintSeverity;
  readonly description: string;
}

export const LINT_CODES = {
  // Offers and their units.
  "lint.offer_kind_confused": {
    severity: "error",
    description:
      "The display describes a fixed amount off and the offer is a percentage, or the other way round.",
  },
  "lint.rate_percent_as_bps": {
    severity: "error",
    description:
      "A rate in basis points holds the percentage itself (20 for 20 %), so it gives 100 times less.",
  },
  "lint.rate_below_one_percent": {
    severity: "warning",
    description:
      "A rate below 100 basis points (1 %); usually a percentage written where basis points belong.",
  },
  "lint.amount_fen_yuan_confused": {
    severity: "error",
    description:
      "An amount is 100 times away from its template band or from typical payments: yuan written as fen or fen as yuan.",
  },
  "lint.amount_looks_like_id": {
    severity: "error",
    description: "An amount field holds a number shaped like an account, phone or card number.",
  },
  "lint.percent_without_cap": {
    severity: "error",
    description:
      "A percent offer's per-payment cap is above the envelope's maximum, so it caps nothing.",
  },
  "lint.subsidy_reaches_payment": {
    severity: "error",
    description:
      "The subsidy can reach the whole payment amount: the smallest payment in scope becomes free.",
  },
  "lint.param_outside_band": {
    severity: "error",
    description: "A campaign's offer parameter lies outside the band its template allows.",
  },
  "lint.zero_value": {
    severity: "warning",
    description:
      "A value that validates but gives or allows nothing, such as an envelope bound or a band of 0.",
  },
  "lint.blank_text": {
    severity: "error",
    description: "A name or display text is only white space.",
  },
  // Limits.
  "lint.per_identity_limit_missing": {
    severity: "error",
    description: "A campaign has no per-user limit: one identity can take any number of subsidies.",
  },
  "lint.velocity_ceiling_missing": {
    severity: "error",
    description:
      "A campaign declares no spend-velocity ceiling (spendPerMinuteMaxMinor) for the guard.",
  },
  "lint.total_budget_unbounded": {
    severity: "error",
    description: "A total budget so large that it bounds nothing.",
  },
  "lint.daily_budget_above_total": {
    severity: "error",
    description: "The daily budget is above the total budget.",
  },
  // Scope.
  "lint.protected_scenario_in_scope": {
    severity: "error",
    description: "A template or campaign names a protected (cash-equivalent) scenario.",
  },
  "lint.individual_payee_category": {
    severity: "error",
    description:
      "A scope names merchant categories that mean payments to people or cash (transfers, quasi-cash).",
  },
  "lint.scope_region_not_allowed": {
    severity: "error",
    description: "A campaign names a region its template does not allow.",
  },
  "lint.scope_everything": {
    severity: "warning",
    description:
      "A campaign reaches every mainland region and every merchant and user of its scenarios.",
  },
  "lint.segment_template_to_everyone": {
    severity: "error",
    description:
      "A campaign of a segment-restricted template names no user segment: it reaches everyone.",
  },
  "lint.scope_segment_not_allowed": {
    severity: "error",
    description:
      "A campaign targets a user segment its segment-restricted template does not allow.",
  },
  // Government funding and programs.
  "lint.government_wording_without_program": {
    severity: "error",
    description:
      "Display text speaks of a government subsidy but the campaign is not government-funded through a program.",
  },
  "lint.program_region_exceeded": {
    severity: "error",
    description: "A government-funded campaign reaches regions its program does not cover.",
  },
  "lint.program_category_exceeded": {
    severity: "error",
    description:
      "A government-funded campaign reaches merchant categories its program does not cover.",
  },
  "lint.program_validity_exceeded": {
    severity: "error",
    description: "A government-funded campaign runs outside its program's validity.",
  },
  "lint.program_expired": {
    severity: "error",
    description: "A campaign is funded by a program whose validity has ended.",
  },
  "lint.program_budget_exceeded": {
    severity: "error",
    description: "A campaign's total budget is above what its program has left.",
  },
  "lint.program_oversubscribed": {
    severity: "warning",
    description: "A program's campaigns together budget more than the program has left.",
  },
  // Display.
  "lint.display_overpromises": {
    severity: "error",
    description: "Display text promises more (amount or percentage off) than the offer can give.",
  },
  // Schedule.
  "lint.schedule_without_end": {
    severity: "warning",
    description: "A schedule runs so long that it has in effect no end.",
  },
  "lint.schedule_longer_than_template": {
    severity: "error",
    description: "A campaign's schedule is longer than its template's campaignDaysMax.",
  },
  // Stacking.
  "lint.stacking_compounds": {
    severity: "warning",
    description:
      "Two campaigns outside a shared exclusive group can stack on one payment and compound.",
  },
  // Audience.
  "lint.test_campaign_public": {
    severity: "error",
    description:
      "A test or internal campaign is not restricted to an allowlist of merchants: real users reach it.",
  },
  "lint.test_campaign_unmarked": {
    severity: "warning",
    description: "A campaign named like a test or internal one is not marked with its audience.",
  },
  // Template edits (run only with the configuration active now).
  "lint.template_edit_changes_offer_kind": {
    severity: "error",
    description: "A template edit changes the offer kind of the active campaigns that use it.",
  },
  "lint.template_edit_changes_amount": {
    severity: "warning",
    description: "A template edit changes the offer amounts of the active campaigns that use it.",
  },
  "lint.template_edit_changes_funding": {
    severity: "error",
    description: "A template edit changes who funds the active campaigns that use it.",
  },
  // Size.
  "lint.config_too_large": {
    severity: "error",
    description: "The configuration is over a size limit (campaigns, or scope entries in all).",
  },
} as const satisfies Readonly<Record<string, LintCodeDefinition>>;

export type LintCode = keyof typeof LINT_CODES;

export const LINT_CODE_LIST = Object.keys(LINT_CODES) as readonly LintCode[];

export function lintSeverityOf(code: LintCode): LintSeverity {
  return LINT_CODES[code].severity;
}
