import { z } from "zod";
import { fixedOffer } from "./fixed.ts";
import type { OfferKind } from "./offer-kind.ts";
import { percentOffer } from "./percent.ts";
import { randomOffer } from "./random.ts";
import { thresholdOffer } from "./threshold.ts";

/** Every offer kind. Adding a kind means adding its definition here; nothing else switches on it. */
export const OFFER_KINDS = {
  fixed: fixedOffer,
  percent: percentOffer,
  random: randomOffer,
  threshold: thresholdOffer,
} as const;

/** A complete offer: its kind and that kind's parameters. */
export const offerSchema = z.discriminatedUnion("kind", [
  fixedOffer.params.extend({ kind: z.literal("fixed") }),
  percentOffer.params.extend({ kind: z.literal("percent") }),
  randomOffer.params.extend({ kind: z.literal("random") }),
  thresholdOffer.params.extend({ kind: z.literal("threshold") }),
]);

export type Offer = z.output<typeof offerSchema>;

/** A campaign's overrides of its template's offer parameters: any parameter of any kind. */
export const offerOverridesSchema = z
  .strictObject({
    ...fixedOffer.params.shape,
    ...percentOffer.params.shape,
    ...randomOffer.params.shape,
    ...thresholdOffer.params.shape,
  })
  .partial();

export type OfferOverrides = z.output<typeof offerOverridesSchema>;

/** The definition of an offer's kind, with the parameter types erased. */
// biome-ignore lint/suspicious/noExplicitAny: callers hold a validated offer of this very kind.
export function offerKindOf(offer: Pick<Offer, "kind">): OfferKind<z.ZodObject, any> {
  return OFFER_KINDS[offer.kind];
}
