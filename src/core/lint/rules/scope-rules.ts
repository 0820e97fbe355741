/**
 * Where campaigns reach: never cash-equivalent flows or payments to people, never beyond what
 * their template allows (regions, user segments), and rarely "everything".
 */
import { REGIONS } from "../../region.ts";
import { CASH_EQUIVALENT_SCENARIOS, type Scenario } from "../../scenario.ts";
import { campaignTarget, type LintInput, type LintRule } from "../lint-rule.ts";

/**
 * ISO 18245 categories whose payees are people or whose goods are cash: money transfers,
 * cash, quasi-cash, stored-value loads. A subsidy there is money that can be moved straight out.
 */
export const INDIVIDUAL_OR_CASH_CATEGORIES: readonly string[] = [
  "4829",
  "6010",
  "6011",
  "6012",
  "6050",
  "6051",
  "6529",
  "6530",
  "6540",
];

/** The 31 provincial-level divisions of mainland China. */
const MAINLAND_REGIONS = REGIONS.filter(
  (region) => region.startsWith("CN-") && region !== "CN-HK" && region !== "CN-MO",
);

function protectedScenarios(input: LintInput): ReadonlySet<Scenario> {
  return new Set<Scenario>([
    ...CASH_EQUIVALENT_SCENARIOS,
    ...(input.proposed.envelope?.protectedScenarios ?? []),
  ]);
}

export const protectedScopeRule: LintRule = {
  name: "protected scenarios and payees",
  codes: ["lint.protected_scenario_in_scope", "lint.individual_payee_category"],
  check: (input, report) => {
    const isProtected = protectedScenarios(input);
    for (const template of input.proposed.templates.values()) {
      template.allowedScenarios.forEach((scenario, index) => {
        if (!isProtected.has(scenario)) return;
        report({
          code: "lint.protected_scenario_in_scope",
          target: { kind: "template", id: template.id },
          path: ["allowedScenarios", index],
          message: `${scenario} is protected: subsidising it hands out money that can be moved straight back out`,
        });
      });
    }
    for (const effective of input.proposed.campaigns) {
      const { scope } = effective.campaign;
      scope.scenarios?.forEach((scenario, index) => {
        if (!isProtected.has(scenario)) return;
        report({
          code: "lint.protected_scenario_in_scope",
          target: campaignTarget(effective),
          path: ["scope", "scenarios", index],
          message: `${scenario} is protected: subsidising it hands out money that can be moved straight back out`,
        });
      });
      scope.merchantCategories?.forEach((category, index) => {
        if (!INDIVIDUAL_OR_CASH_CATEGORIES.includes(category)) return;
        report({
          code: "lint.individual_payee_category",
          target: campaignTarget(effective),
          path: ["scope", "merchantCategories", index],
          message: `merchant category ${category} is money transfer, cash or quasi-cash: its payees are people or its goods are money`,
        });
      });
    }
    // A registration declares where an external engine may subsidise: declaring a protected
    // scenario asks for what guard mode refuses anyway, and says the engine was set up to do it.
    for (const registration of input.proposed.externalCampaigns?.values() ?? []) {
      registration.scope.scenarios.forEach((scenario, index) => {
        if (!isProtected.has(scenario)) return;
        report({
          code: "lint.protected_scenario_in_scope",
          target: { kind: "external-campaign", id: registration.id },
          path: ["scope", "scenarios", index],
          message: `${scenario} is protected: guard mode refuses every subsidy there, whatever the registration declares`,
        });
      });
    }
    for (const program of input.proposed.programs.values()) {
      program.merchantCategories.forEach((category, index) => {
        if (!INDIVIDUAL_OR_CASH_CATEGORIES.includes(category)) return;
        report({
          code: "lint.individual_payee_category",
          target: { kind: "program", id: program.id },
          path: ["merchantCategories", index],
          message: `merchant category ${category} is money transfer, cash or quasi-cash: its payees are people or its goods are money`,
        });
      });
    }
  },
};

export const templateScopeRule: LintRule = {
  name: "scope within the template",
  codes: [
    "lint.scope_region_not_allowed",
    "lint.segment_template_to_everyone",
    "lint.scope_segment_not_allowed",
    "lint.scope_everything",
  ],
  check: (input, report) => {
    for (const effective of input.proposed.campaigns) {
      const { scope } = effective.campaign;
      const { template } = effective;
      const target = campaignTarget(effective);
      const allowedRegions = template.allowedRegions;
      if (allowedRegions !== undefined) {
        const outside = scope.regions.filter((region) => !allowedRegions.includes(region));
        if (outside.length > 0) {
          report({
            code: "lint.scope_region_not_allowed",
            target,
            path: ["scope", "regions"],
            message: `template ${template.id} allows only ${allowedRegions.join(", ")}; not ${outside.join(", ")}`,
          });
        }
      }
      const restricted = template.restrictedToSegments;
      if (restricted !== undefined) {
        if (scope.segments === undefined) {
          report({
            code: "lint.segment_template_to_everyone",
            target,
            path: ["scope", "segments"],
            message: `template ${template.id} is only for ${restricted.join(", ")}, but the campaign names no segment and reaches every user`,
          });
        } else {
          const outside = scope.segments.filter((segment) => !restricted.includes(segment));
          if (outside.length > 0) {
            report({
              code: "lint.scope_segment_not_allowed",
              target,
              path: ["scope", "segments"],
              message: `template ${template.id} is only for ${restricted.join(", ")}; not ${outside.join(", ")}`,
            });
          }
        }
      }
      const everyRegion = MAINLAND_REGIONS.every((region) => scope.regions.includes(region));
      const unnarrowed =
        scope.merchantCategories === undefined &&
        scope.merchantIds === undefined &&
        scope.segments === undefined &&
        scope.channels === undefined &&
        scope.paymentMethods === undefined;
      if (everyRegion && unnarrowed) {
        report({
          code: "lint.scope_everything",
          target,
          path: ["scope"],
          message: `reaches every mainland region and every merchant and user of ${effective.scenarios.join(", ")}`,
        });
      }
    }
  },
};
