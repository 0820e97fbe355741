/**
 * Unit confusions in offers: a percentage written where basis points belong, yuan written as
 * fen (or fen as yuan), and account or phone numbers typed into amount fields. Each is a real
 * incident's shape (DESIGN §1): a fare typed without a digit, an account number as an amount.
 */
import type { EffectiveCampaign } from "../../model/config-set.ts";
import { offerKindOf } from "../../offers/registry.ts";
import type { Scenario } from "../../scenario.ts";
import { smallestPaymentMinor } from "../campaign-facts.ts";
import { readDisplayPromise } from "../display-promise.ts";
import {
  campaignTarget,
  type LintInput,
  type LintReport,
  type LintRule,
  type LintTarget,
  type TypicalAmounts,
} from "../lint-rule.ts";

const ONE_PERCENT_BPS = 100;

export const rateUnitRule: LintRule = {
  name: "rate units",
  codes: ["lint.rate_percent_as_bps", "lint.rate_below_one_percent"],
  check: (input, report) => {
    for (const effective of input.proposed.campaigns) {
      const rateBps = offerKindOf(effective.offer).lintFacts(effective.offer).rateBps;
      if (rateBps === undefined) continue;
      const { title, description = "" } = effective.campaign.display;
      const promise = readDisplayPromise(`${title} ${description}`, effective.campaign.currency);
      const band = effective.template.bands?.rateBps;
      const displayedAsPercent = promise.rateOffBpsMax === rateBps * 100;
      const bandWantsHundredTimes =
        band !== undefined &&
        rateBps < band.min &&
        rateBps * 100 >= band.min &&
        rateBps * 100 <= band.max;
      if (displayedAsPercent || bandWantsHundredTimes) {
        report({
          code: "lint.rate_percent_as_bps",
          target: campaignTarget(effective),
          path: ["offer", "rateBps"],
          message: `rateBps ${rateBps} is ${rateBps / 100} %, but ${displayedAsPercent ? `the display says ${rateBps} %` : `the template's band is ${band?.min}..${band?.max}`}; write ${rateBps * 100} for ${rateBps} %`,
        });
      } else if (rateBps < ONE_PERCENT_BPS) {
        report({
          code: "lint.rate_below_one_percent",
          target: campaignTarget(effective),
          path: ["offer", "rateBps"],
          message: `rateBps ${rateBps} is only ${rateBps / 100} % off; basis points: 100 = 1 %, 2000 = 20 %`,
        });
      }
    }
  },
};

/** The typical amounts of the scenario whose payments are smallest among those in scope. */
function smallestTypical(
  input: LintInput,
  scenarios: readonly Scenario[],
): { scenario: Scenario; typical: TypicalAmounts } | undefined {
  let found: { scenario: Scenario; typical: TypicalAmounts } | undefined;
  for (const scenario of scenarios) {
    const typical = input.context.typicalAmountsMinor?.[scenario];
    if (typical === undefined) continue;
    if (found === undefined || typical.medianMinor < found.typical.medianMinor)
      found = { scenario, typical };
  }
  return found;
}

function within(value: number, band: { min: number; max: number }): boolean {
  return value >= band.min && value <= band.max;
}

export const amountMagnitudeRule: LintRule = {
  name: "amount magnitudes",
  codes: ["lint.amount_fen_yuan_confused"],
  check: (input, report) => {
    for (const effective of input.proposed.campaigns) checkMagnitudes(input, effective, report);
  },
};

function checkMagnitudes(
  input: LintInput,
  effective: EffectiveCampaign,
  report: (finding: LintReport) => void,
): void {
  const facts = offerKindOf(effective.offer).lintFacts(effective.offer);
  const amounts = [...facts.amountsOff];
  if (facts.capMinor !== undefined)
    amounts.push({ path: ["capMinor"], valueMinor: facts.capMinor, fromPaymentMinor: 1 });
  const typical = smallestTypical(input, effective.scenarios);
  const scopeSmallestMinor = smallestPaymentMinor(effective);
  for (const { path, valueMinor, fromPaymentMinor } of amounts) {
    const param = String(path[0]);
    // The smallest payment in scope that receives this amount.
    const smallestMinor = Math.max(scopeSmallestMinor, fromPaymentMinor);
    const band = effective.template.bands?.[param];
    const where = ["offer", ...path];
    if (band !== undefined && !within(valueMinor, band)) {
      const timesHundred = within(valueMinor * 100, band);
      const hundredth = valueMinor % 100 === 0 && within(valueMinor / 100, band);
      if (timesHundred || hundredth) {
        report({
          code: "lint.amount_fen_yuan_confused",
          target: campaignTarget(effective),
          path: where,
          message: `${param} ${valueMinor} is outside the band ${band.min}..${band.max} but ${timesHundred ? valueMinor * 100 : valueMinor / 100} is inside: amounts are in fen (minor units), 100 fen = 1 yuan`,
        });
        continue;
      }
    }
    // A percentage's cap is reached only on large payments; judge only amounts given outright.
    if (typical === undefined || param === "capMinor") continue;
    // Above nearly every payment in scope: the smallest one it applies to, or the 99th percentile.
    if (valueMinor >= Math.max(typical.typical.p99Minor, smallestMinor)) {
      report({
        code: "lint.amount_fen_yuan_confused",
        target: campaignTarget(effective),
        path: where,
        message: `${param} ${valueMinor} is at least the 99th-percentile ${typical.scenario} payment (${typical.typical.p99Minor}); did you mean ${Math.floor(valueMinor / 100)}? amounts are in fen (minor units)`,
      });
    }
  }
}

/** Amount fields over 9 digits without round thousands, or 11-digit mobile numbers. */
export function looksLikeId(valueMinor: number): boolean {
  if (!Number.isSafeInteger(valueMinor) || valueMinor < 0) return false;
  const digits = String(valueMinor);
  if (/^1[3-9]\d{9}$/.test(digits)) return true;
  const trailingZeros = digits.length - digits.replace(/0+$/, "").length;
  return digits.length >= 9 && trailingZeros < 3;
}

export const idLikeAmountRule: LintRule = {
  name: "id-like amounts",
  codes: ["lint.amount_looks_like_id"],
  check: (input, report) => {
    const check = (target: LintTarget, document: unknown) =>
      walkAmounts(document, [], (path, valueMinor) => {
        if (!looksLikeId(valueMinor)) return;
        report({
          code: "lint.amount_looks_like_id",
          target,
          path,
          message: `${valueMinor} looks like an account, phone or card number, not an amount in minor units`,
        });
      });
    for (const template of input.proposed.templates.values())
      check({ kind: "template", id: template.id }, template);
    for (const effective of input.proposed.campaigns)
      check(campaignTarget(effective), effective.campaign);
    for (const program of input.proposed.programs.values())
      check({ kind: "program", id: program.id }, program);
    const envelope = input.proposed.envelope;
    if (envelope !== undefined) check({ kind: "envelope", id: envelope.id }, envelope);
  },
};

/** Calls `visit` for every number under a key ending in `Minor`; documents are small trees. */
function walkAmounts(
  value: unknown,
  path: (string | number)[],
  visit: (path: (string | number)[], valueMinor: number) => void,
): void {
  if (Array.isArray(value)) {
    value.forEach((item, index) => {
      walkAmounts(item, [...path, index], visit);
    });
    return;
  }
  if (typeof value !== "object" || value === null) return;
  for (const [key, item] of Object.entries(value)) {
    if (typeof item === "number" && key.endsWith("Minor")) visit([...path, key], item);
    else if (typeof item === "object") walkAmounts(item, [...path, key], visit);
  }
}
