/**
 * Result codes of the subsidy ledger: a closed catalog, documented in
 * docs/reference/ledger.md (a test keeps it complete). Codes are never renamed.
 */
export const LEDGER_CODES = {
  // apply: the payment as a whole
  reserved: "At least one subsidy was reserved; the ledger holds it durably.",
  no_subsidy:
    "The quote granted nothing, or every subsidy was refused by a limit; nothing was written but the answer.",
  idempotency_conflict:
    "The payment id was used before with different content, or by another principal; nothing changed.",
  ledger_unavailable:
    "The store failed or could not be reached: no subsidy, the payment proceeds at full price; a retry with the same id is safe.",
  // apply: one subsidy
  budget_exhausted: "The campaign's total budget cannot cover the subsidy.",
  daily_budget_exhausted: "The campaign's budget for this local day cannot cover the subsidy.",
  program_budget_exhausted: "The subsidy program's budget cannot cover the subsidy.",
  identity_cap_reached:
    "A per-identity cap (user, device or card; count or amount, per day or per campaign) would be exceeded.",
  platform_ceiling_reached:
    "The envelope's platform-wide per-user daily ceiling would be exceeded.",
  // commit, release, expire
  committed:
    "The reservation is settled as spent (possibly lower than reserved; the rest returned).",
  released: "The reservation was released; its money and counts returned to every limit.",
  expired: "The reservation outlived its time to live and was released by the ledger.",
  reservation_not_found:
    "No reservation exists for this payment id, or it belongs to another principal (answered alike: its state and money are not revealed).",
  reservation_expired:
    "The reservation had expired before the request; its money is back in the budgets.",
  reservation_released: "The reservation had been released before the request.",
  already_committed:
    "The reservation was committed before; a commit answers with the stored result, a release is refused.",
  commit_exceeds_reservation: "The commit asks for more than was reserved; nothing changed.",
  // refund
  refunded:
    "The refund reversed its share of the subsidy; the limits the campaign's refund policy names got it back.",
  refund_not_committed: "Only a committed subsidy can be refunded.",
  refund_exceeds_payment: "Refunds would add up to more than the payment amount; nothing changed.",
  refund_conflict: "The refund id was used before with a different amount; nothing changed.",
  // funding
  funded: "Money was added to a budget, with the reason recorded.",
  funding_unchanged: "The budget already holds at least the target; nothing was added.",
  invalid_amount: "An amount is not a positive whole number of minor units within limits.",
} as const;

export type LedgerCode = keyof typeof LEDGER_CODES;

/** Why one subsidy of an apply was refused; the order is the order limits are checked in. */
export const LIMIT_REFUSAL_CODES = [
  "budget_exhausted",
  "daily_budget_exhausted",
  "program_budget_exhausted",
  "identity_cap_reached",
  "platform_ceiling_reached",
] as const satisfies readonly LedgerCode[];

export type LimitRefusalCode = (typeof LIMIT_REFUSAL_CODES)[number];
