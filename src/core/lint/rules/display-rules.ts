/** What the payer reads must match what the offer gives: its kind, its amount, its rate. */
import { offerKindOf } from "../../offers/registry.ts";
import { campaignMaxSubsidyMinor } from "../campaign-facts.ts";
import { readDisplayPromise } from "../display-promise.ts";
import { campaignTarget, type LintRule } from "../lint-rule.ts";

export const displayRule: LintRule = {
  name: "display text",
  codes: ["lint.offer_kind_confused", "lint.display_overpromises"],
  check: (input, report) => {
    for (const effective of input.proposed.campaigns) {
      const { campaign } = effective;
      const target = campaignTarget(effective);
      const text = `${campaign.display.title} ${campaign.display.description ?? ""}`;
      const promise = readDisplayPromise(text, campaign.currency);
      const facts = offerKindOf(effective.offer).lintFacts(effective.offer);
      if (facts.rateBps === undefined && promise.rateOffBpsMax !== undefined) {
        report({
          code: "lint.offer_kind_confused",
          target,
          path: ["display", "title"],
          message: `the display promises ${promise.rateOffBpsMax / 100} % off, but the offer is ${effective.offer.kind}, not percent`,
        });
        continue;
      }
      if (
        facts.rateBps !== undefined &&
        promise.rateOffBpsMax === undefined &&
        promise.amountOffMinorMax !== undefined &&
        !promise.upTo
      ) {
        report({
          code: "lint.offer_kind_confused",
          target,
          path: ["display", "title"],
          message: `the display promises a fixed ${promise.amountOffMinorMax} off, but the offer is ${facts.rateBps / 100} % of the payment`,
        });
        continue;
      }
      const envelope = input.envelopeFor(campaign.currency);
      const maxMinor = campaignMaxSubsidyMinor(effective, envelope);
      if (promise.amountOffMinorMax !== undefined && promise.amountOffMinorMax > maxMinor) {
        report({
          code: "lint.display_overpromises",
          target,
          path: ["display", "title"],
          message: `the display promises ${promise.amountOffMinorMax} off, but the campaign gives at most ${maxMinor}`,
        });
      }
      if (facts.rateBps !== undefined && promise.rateOffBpsMax !== undefined) {
        const rateBps = Math.min(facts.rateBps, envelope?.perPaymentMaxRateBps ?? facts.rateBps);
        if (promise.rateOffBpsMax > rateBps) {
          report({
            code: "lint.display_overpromises",
            target,
            path: ["display", "title"],
            message: `the display promises ${promise.rateOffBpsMax / 100} % off, but the campaign gives at most ${rateBps / 100} %`,
          });
        }
      }
    }
  },
};
