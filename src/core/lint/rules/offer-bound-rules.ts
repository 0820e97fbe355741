/**
 * Offers that give more than a campaign should: a percentage whose cap caps nothing, a subsidy
 * that can pay the whole payment, parameters outside the template's bands, and values that
 * validate but give or allow nothing.
 */
import { offerKindOf } from "../../offers/registry.ts";
import { campaignSubsidyMinor, smallestPaymentMinor } from "../campaign-facts.ts";
import { campaignTarget, type LintReport, type LintRule, type LintTarget } from "../lint-rule.ts";

export const percentCapRule: LintRule = {
  name: "percent caps",
  codes: ["lint.percent_without_cap"],
  check: (input, report) => {
    for (const template of input.proposed.templates.values()) {
      const capMinor = offerKindOf(template.offer).lintFacts(template.offer).capMinor;
      const envelope = input.envelopeFor(template.currency);
      if (capMinor === undefined || envelope === undefined) continue;
      if (capMinor > envelope.perPaymentMaxMinor) {
        report({
          code: "lint.percent_without_cap",
          target: { kind: "template", id: template.id },
          path: ["offer", "capMinor"],
          message: `capMinor ${capMinor} is above the envelope's per-payment maximum ${envelope.perPaymentMaxMinor}: the cap caps nothing`,
        });
      }
    }
    for (const effective of input.proposed.campaigns) {
      // A cap inherited from the template is reported on the template.
      if (effective.campaign.offer?.capMinor === undefined) continue;
      const facts = offerKindOf(effective.offer).lintFacts(effective.offer);
      const envelope = input.envelopeFor(effective.campaign.currency);
      if (facts.capMinor === undefined || envelope === undefined) continue;
      const ownCapMinor = effective.campaign.limits.perPaymentCapMinor ?? facts.capMinor;
      const capMinor = Math.min(facts.capMinor, ownCapMinor);
      if (capMinor > envelope.perPaymentMaxMinor) {
        report({
          code: "lint.percent_without_cap",
          target: campaignTarget(effective),
          path: ["offer", "capMinor"],
          message: `the per-payment cap ${capMinor} is above the envelope's maximum ${envelope.perPaymentMaxMinor}: the cap caps nothing`,
        });
      }
    }
  },
};

export const subsidyReachesPaymentRule: LintRule = {
  name: "subsidy reaches the payment",
  codes: ["lint.subsidy_reaches_payment"],
  check: (input, report) => {
    for (const effective of input.proposed.campaigns) {
      const smallestMinor = smallestPaymentMinor(effective);
      const subsidyMinor = campaignSubsidyMinor(effective, smallestMinor);
      if (subsidyMinor < smallestMinor) continue;
      report({
        code: "lint.subsidy_reaches_payment",
        target: campaignTarget(effective),
        path: ["scope", "amountRange", "minMinor"],
        message: `a payment of ${smallestMinor} gets ${subsidyMinor} off and becomes free; set scope.amountRange.minMinor above the most the offer gives`,
      });
    }
    const envelope = input.proposed.envelope;
    envelope?.currencies.forEach((bounds, index) => {
      if (bounds.minPayableMinor > 0) return;
      report({
        code: "lint.subsidy_reaches_payment",
        target: { kind: "envelope", id: envelope.id },
        path: ["currencies", index, "minPayableMinor"],
        message: `minPayableMinor 0 lets subsidies pay whole ${bounds.currency} payments`,
      });
    });
  },
};

export const bandRule: LintRule = {
  name: "template bands",
  codes: ["lint.param_outside_band"],
  check: (input, report) => {
    for (const effective of input.proposed.campaigns) {
      const offer = effective.offer as unknown as Readonly<Record<string, unknown>>;
      for (const [param, band] of Object.entries(effective.template.bands ?? {})) {
        const value = offer[param];
        if (typeof value !== "number" || (value >= band.min && value <= band.max)) continue;
        report({
          code: "lint.param_outside_band",
          target: campaignTarget(effective),
          path: ["offer", param],
          message: `${param} ${value} is outside template ${effective.template.id}'s band ${band.min}..${band.max}`,
        });
      }
    }
  },
};

const BLANK = /^\s*$/;

export const emptyValueRule: LintRule = {
  name: "zero and blank values",
  codes: ["lint.zero_value", "lint.blank_text"],
  check: (input, report) => {
    const envelope = input.proposed.envelope;
    envelope?.currencies.forEach((bounds, index) => {
      for (const field of [
        "perPaymentMaxRateBps",
        "perPaymentMaxMinor",
        "perUserDailyMaxMinor",
      ] as const) {
        if (bounds[field] !== 0) continue;
        report({
          code: "lint.zero_value",
          target: { kind: "envelope", id: envelope.id },
          path: ["currencies", index, field],
          message: `${field} 0 allows no ${bounds.currency} subsidy at all; pause campaigns to stop money instead`,
        });
      }
    });
    for (const template of input.proposed.templates.values()) {
      for (const [param, band] of Object.entries(template.bands ?? {})) {
        if (band.max !== 0) continue;
        report({
          code: "lint.zero_value",
          target: { kind: "template", id: template.id },
          path: ["bands", param, "max"],
          message: `the band of ${param} ends at 0: no campaign can give anything`,
        });
      }
      if (BLANK.test(template.name)) report(blank({ kind: "template", id: template.id }, ["name"]));
    }
    for (const effective of input.proposed.campaigns) {
      const { campaign } = effective;
      const target = campaignTarget(effective);
      if (BLANK.test(campaign.name)) report(blank(target, ["name"]));
      if (BLANK.test(campaign.display.title)) report(blank(target, ["display", "title"]));
      if (campaign.display.description !== undefined && BLANK.test(campaign.display.description))
        report(blank(target, ["display", "description"]));
    }
    for (const program of input.proposed.programs.values()) {
      if (BLANK.test(program.name)) report(blank({ kind: "program", id: program.id }, ["name"]));
    }
  },
};

function blank(target: LintTarget, path: string[]): LintReport {
  return {
    code: "lint.blank_text",
    target,
    path,
    message: `${path.join(".")} is blank; payers and reviewers see it`,
  };
}
