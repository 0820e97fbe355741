/** Payment scenarios (DESIGN §4.1). The list is closed: an unknown scenario is a finding. */
export const SCENARIOS = [
  "merchant_qr",
  "online_checkout",
  "utility_bill",
  "mobile_topup",
  "ticketing",
  "rent",
  "p2p_transfer",
  "credit_card_repayment",
  "red_packet",
  "balance_topup",
  "wealth_purchase",
  "government_fee",
] as const;

export type Scenario = (typeof SCENARIOS)[number];

/**
 * Cash-equivalent scenarios. Subsidising them hands out money that can be moved straight back
 * out (self-transfers, card repayments, top-ups), so the envelope always protects them and an
 * envelope file may add to this set but never remove from it.
 */
export const CASH_EQUIVALENT_SCENARIOS = [
  "p2p_transfer",
  "credit_card_repayment",
  "red_packet",
  "balance_topup",
  "wealth_purchase",
] as const satisfies readonly Scenario[];

export function isScenario(value: unknown): value is Scenario {
  return typeof value === "string" && (SCENARIOS as readonly string[]).includes(value);
}
