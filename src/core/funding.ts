/** Who pays for a subsidy. */
export const FUNDING_SOURCES = ["platform", "merchant", "bank", "government"] as const;
export type FundingSource = (typeof FUNDING_SOURCES)[number];

export function isFundingSource(value: string): value is FundingSource {
  return (FUNDING_SOURCES as readonly string[]).includes(value);
}

/**
 * The label a payer sees. `government_subsidy` is the label of the 2025-01-16 incident: it may
 * only be shown for government funding that references a registered subsidy program.
 */
export const LABEL_KINDS = [
  "instant_discount",
  "coupon",
  "merchant_offer",
  "bank_offer",
  "government_subsidy",
] as const;
export type LabelKind = (typeof LABEL_KINDS)[number];

/**
 * Which funding sources each label may be shown for. Fixed in code, not configuration: a label
 * that names a funder is a claim about who pays.
 */
export const FUNDING_ALLOWED_BY_LABEL: Readonly<Record<LabelKind, readonly FundingSource[]>> = {
  instant_discount: ["platform", "merchant", "bank"],
  coupon: ["platform", "merchant"],
  merchant_offer: ["merchant"],
  bank_offer: ["bank"],
  government_subsidy: ["government"],
};
