import { z } from "zod";
import { MODEL_LIMITS, minorUnits } from "../model/fields.ts";
import type { OfferKind, OfferProblem } from "./offer-kind.ts";

const tier = z.strictObject({
  minSpendMinor: minorUnits({ min: 1, description: "Payment amount from which the tier applies." }),
  offMinor: minorUnits({ min: 1, description: "Amount off once the tier applies." }),
});

const params = z.strictObject({
  tiers: z.array(tier).min(1).max(MODEL_LIMITS.thresholdTiersMax),
});

export type ThresholdOfferParams = z.output<typeof params>;

function applicableOffMinor(offer: ThresholdOfferParams, amountMinor: number): number {
  let offMinor = 0;
  for (const step of offer.tiers) if (amountMinor >= step.minSpendMinor) offMinor = step.offMinor;
  return offMinor;
}

export const thresholdOffer: OfferKind<typeof params> = {
  kind: "threshold",
  description:
    "Spend at least a tier's minimum, get its amount off; the highest tier reached applies.",
  params,
  bandableParams: [],
  drawsRandom: false,
  check: (offer) => {
    const problems: OfferProblem[] = [];
    offer.tiers.forEach((step, index) => {
      const previous = offer.tiers[index - 1];
      if (step.offMinor >= step.minSpendMinor) {
        problems.push({
          path: ["tiers", index, "offMinor"],
          code: "offer.invalid_tiers",
          message: `offMinor ${step.offMinor} must be below minSpendMinor ${step.minSpendMinor}`,
        });
      }
      if (previous !== undefined && step.minSpendMinor <= previous.minSpendMinor) {
        problems.push({
          path: ["tiers", index, "minSpendMinor"],
          code: "offer.invalid_tiers",
          message: "tiers must be in strictly ascending order of minSpendMinor",
        });
      }
      if (previous !== undefined && step.offMinor < previous.offMinor) {
        problems.push({
          path: ["tiers", index, "offMinor"],
          code: "offer.invalid_tiers",
          message: "a higher tier must not give less than a lower one",
        });
      }
    });
    return problems;
  },
  maxSubsidyMinor: applicableOffMinor,
  subsidyMinor: applicableOffMinor,
  lintFacts: (offer) => ({
    amountsOff: offer.tiers.map((step, index) => ({
      path: ["tiers", index, "offMinor"],
      valueMinor: step.offMinor,
      fromPaymentMinor: step.minSpendMinor,
    })),
  }),
};
