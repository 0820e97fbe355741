/** Facts about an effective campaign that several rules share: its money bounds and reach. */
import type { EffectiveCampaign } from "../model/config-set.ts";
import type { EnvelopeCurrency } from "../model/envelope.ts";
import { offerKindOf } from "../offers/registry.ts";

/** A payment amount larger than any real one, to ask an offer for its most on any payment. */
const LARGEST_PAYMENT_MINOR = 1_000_000_000_000;

/** The smallest payment the campaign's scope reaches. */
export function smallestPaymentMinor(effective: EffectiveCampaign): number {
  return effective.campaign.scope.amountRange?.minMinor ?? 1;
}

/** The largest payment the campaign's scope reaches. */
export function largestPaymentMinor(effective: EffectiveCampaign): number {
  return effective.campaign.scope.amountRange?.maxMinor ?? LARGEST_PAYMENT_MINOR;
}

/** The most the campaign gives on a payment of `amountMinor`, after its own per-payment cap. */
export function campaignSubsidyMinor(effective: EffectiveCampaign, amountMinor: number): number {
  const offerMinor = offerKindOf(effective.offer).maxSubsidyMinor(effective.offer, amountMinor);
  const capMinor = effective.campaign.limits.perPaymentCapMinor;
  return capMinor === undefined ? offerMinor : Math.min(offerMinor, capMinor);
}

/** The most the campaign can give on any payment in its scope, within the envelope if known. */
export function campaignMaxSubsidyMinor(
  effective: EffectiveCampaign,
  envelope: EnvelopeCurrency | undefined,
): number {
  const ownMinor = campaignSubsidyMinor(effective, largestPaymentMinor(effective));
  return envelope === undefined ? ownMinor : Math.min(ownMinor, envelope.perPaymentMaxMinor);
}
