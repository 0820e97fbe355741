/**
 * Government money: wording that claims it needs a program behind it, and a program-funded
 * campaign must stay inside the program's regions, categories, validity and budget.
 */
import type { EffectiveCampaign } from "../../model/config-set.ts";
import type { Program } from "../../model/program.ts";
import { readDisplayPromise } from "../display-promise.ts";
import { campaignTarget, type LintInput, type LintReport, type LintRule } from "../lint-rule.ts";

export const governmentWordingRule: LintRule = {
  name: "government wording",
  codes: ["lint.government_wording_without_program"],
  check: (input, report) => {
    for (const effective of input.proposed.campaigns) {
      const { title, description = "" } = effective.campaign.display;
      const promise = readDisplayPromise(`${title} ${description}`, effective.campaign.currency);
      if (!promise.mentionsGovernment) continue;
      if (effective.funding.source === "government" && effective.program !== undefined) continue;
      report({
        code: "lint.government_wording_without_program",
        target: campaignTarget(effective),
        path: ["display", "title"],
        message: `the display speaks of a government subsidy, but the campaign is ${effective.funding.source}-funded without a subsidy program`,
      });
    }
  },
};

export const programScopeRule: LintRule = {
  name: "program coverage",
  codes: [
    "lint.program_region_exceeded",
    "lint.program_category_exceeded",
    "lint.program_validity_exceeded",
    "lint.program_expired",
    "lint.program_budget_exceeded",
    "lint.program_oversubscribed",
  ],
  check: (input, report) => {
    const budgetedByProgram = new Map<
      string,
      { program: Program; totalMinor: number; ids: string[] }
    >();
    for (const effective of input.proposed.campaigns) {
      const program = effective.program;
      if (program === undefined || effective.funding.source !== "government") continue;
      checkCoverage(input, effective, program, report);
      const entry = budgetedByProgram.get(program.id) ?? { program, totalMinor: 0, ids: [] };
      entry.totalMinor += effective.campaign.limits.totalBudgetMinor;
      entry.ids.push(effective.campaign.id);
      budgetedByProgram.set(program.id, entry);
    }
    for (const { program, totalMinor, ids } of budgetedByProgram.values()) {
      const remainingMinor = remainingOf(input, program);
      if (totalMinor <= remainingMinor || ids.length < 2) continue;
      report({
        code: "lint.program_oversubscribed",
        target: { kind: "program", id: program.id },
        path: ["budgetMinor"],
        message: `${ids.length} campaigns budget ${totalMinor} in all, above the ${remainingMinor} program ${program.id} has left; the program's own budget will refuse the rest`,
        campaignIds: ids,
      });
    }
  },
};

function remainingOf(input: LintInput, program: Program): number {
  return input.context.programRemainingMinor?.[program.id] ?? program.budgetMinor;
}

function checkCoverage(
  input: LintInput,
  effective: EffectiveCampaign,
  program: Program,
  report: (finding: LintReport) => void,
): void {
  const { scope, schedule, limits } = effective.campaign;
  const target = campaignTarget(effective);
  const outsideRegions = scope.regions.filter((region) => !program.regions.includes(region));
  if (outsideRegions.length > 0) {
    report({
      code: "lint.program_region_exceeded",
      target,
      path: ["scope", "regions"],
      message: `program ${program.id} covers ${program.regions.join(", ")}; not ${outsideRegions.join(", ")}`,
    });
  }
  if (scope.merchantCategories === undefined) {
    report({
      code: "lint.program_category_exceeded",
      target,
      path: ["scope", "merchantCategories"],
      message: `no merchant categories: the campaign reaches every category, program ${program.id} covers only ${program.merchantCategories.join(", ")}`,
    });
  } else {
    const outside = scope.merchantCategories.filter(
      (category) => !program.merchantCategories.includes(category),
    );
    if (outside.length > 0) {
      report({
        code: "lint.program_category_exceeded",
        target,
        path: ["scope", "merchantCategories"],
        message: `program ${program.id} covers categories ${program.merchantCategories.join(", ")}; not ${outside.join(", ")}`,
      });
    }
  }
  const campaignPeriod = input.instantsOf(schedule);
  const programPeriod = input.instantsOf(program.validity);
  if (
    campaignPeriod.startMs < programPeriod.startMs ||
    campaignPeriod.endMs > programPeriod.endMs
  ) {
    report({
      code: "lint.program_validity_exceeded",
      target,
      path: ["schedule"],
      message: `the campaign runs ${schedule.start}..${schedule.end} (${schedule.timeZone}), outside program ${program.id}'s validity ${program.validity.start}..${program.validity.end} (${program.validity.timeZone})`,
    });
  }
  const atMs = input.context.atMs;
  if (atMs !== undefined && programPeriod.endMs <= atMs) {
    report({
      code: "lint.program_expired",
      target,
      path: ["funding", "programId"],
      message: `program ${program.id} ended at ${program.validity.end} (${program.validity.timeZone}); it funds nothing any more`,
    });
  }
  const remainingMinor = remainingOf(input, program);
  if (limits.totalBudgetMinor > remainingMinor) {
    report({
      code: "lint.program_budget_exceeded",
      target,
      path: ["limits", "totalBudgetMinor"],
      message: `totalBudgetMinor ${limits.totalBudgetMinor} is above the ${remainingMinor} program ${program.id} has left`,
    });
  }
}
