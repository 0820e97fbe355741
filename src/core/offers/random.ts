import { z } from "zod";
import { minorUnits } from "../model/fields.ts";
import type { OfferKind } from "./offer-kind.ts";

const params = z.strictObject({
  minMinor: minorUnits({ min: 1, description: "Smallest amount off." }),
  maxMinor: minorUnits({ min: 1, description: "Largest amount off; budgets reserve this much." }),
});

export type RandomOfferParams = z.output<typeof params>;

export const randomOffer: OfferKind<typeof params> = {
  kind: "random",
  description:
    "A whole amount drawn uniformly from minMinor..maxMinor; budgeted by its maximum, reported by its mean.",
  params,
  bandableParams: ["minMinor", "maxMinor"],
  drawsRandom: true,
  check: (offer) =>
    offer.minMinor > offer.maxMinor
      ? [
          {
            path: ["minMinor"],
            code: "offer.invalid_bounds",
            message: `minMinor ${offer.minMinor} is above maxMinor ${offer.maxMinor}`,
          },
        ]
      : [],
  maxSubsidyMinor: (offer, amountMinor) => Math.min(offer.maxMinor, amountMinor),
  subsidyMinor: (offer, amountMinor, unitRandom) => {
    const span = offer.maxMinor - offer.minMinor + 1;
    // Never above maxMinor, which is what budgets reserve, even for bounds out of order.
    return Math.min(offer.minMinor + Math.floor(unitRandom * span), offer.maxMinor, amountMinor);
  },
  lintFacts: (offer) => ({
    amountsOff: [{ path: ["maxMinor"], valueMinor: offer.maxMinor, fromPaymentMinor: 1 }],
  }),
};
