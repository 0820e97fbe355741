import { z } from "zod";
import { basisPoints, minorUnits } from "../model/fields.ts";
import { applyRateBpsFloor } from "../money.ts";
import type { OfferKind } from "./offer-kind.ts";

const params = z.strictObject({
  rateBps: basisPoints(1, 10_000),
  // Mandatory: an uncapped percentage of a rent payment or a card repayment is unbounded money.
  capMinor: minorUnits({ min: 1, description: "Most this offer gives on one payment." }),
});

export type PercentOfferParams = z.output<typeof params>;

function percentOf(offer: PercentOfferParams, amountMinor: number): number {
  return Math.min(applyRateBpsFloor(amountMinor, offer.rateBps), offer.capMinor);
}

export const percentOffer: OfferKind<typeof params> = {
  kind: "percent",
  description: "A share of the payment in basis points, rounded down, never above its cap.",
  params,
  bandableParams: ["rateBps", "capMinor"],
  drawsRandom: false,
  check: () => [],
  maxSubsidyMinor: percentOf,
  subsidyMinor: percentOf,
  lintFacts: (offer) => ({ amountsOff: [], rateBps: offer.rateBps, capMinor: offer.capMinor }),
};
