import { z } from "zod";
import { minorUnits } from "../model/fields.ts";
import type { OfferKind } from "./offer-kind.ts";

const params = z.strictObject({
  amountMinor: minorUnits({ min: 1, description: "Amount off, in minor units." }),
});

export type FixedOfferParams = z.output<typeof params>;

export const fixedOffer: OfferKind<typeof params> = {
  kind: "fixed",
  description: "A fixed amount off the payment.",
  params,
  bandableParams: ["amountMinor"],
  drawsRandom: false,
  check: () => [],
  maxSubsidyMinor: (offer, amountMinor) => Math.min(offer.amountMinor, amountMinor),
  subsidyMinor: (offer, amountMinor) => Math.min(offer.amountMinor, amountMinor),
  lintFacts: (offer) => ({
    amountsOff: [{ path: ["amountMinor"], valueMinor: offer.amountMinor, fromPaymentMinor: 1 }],
  }),
};
