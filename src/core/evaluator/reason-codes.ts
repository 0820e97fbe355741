/**
 * Why a campaign did not subsidise a payment, or why a payment gets no subsidy at all. A closed
 * catalog, documented in docs/reference/reason-codes.md (a test keeps it complete). Codes are
 * never renamed. Within one campaign, the first failing check in `CAMPAIGN_CHECK_ORDER` is the
 * one reported, so both evaluators agree on which reason a campaign gets.
 */
export const REASON_CODES = {
  // The payment as a whole: no campaign is considered.
  "payment.invalid": "The payment has a missing or invalid field; it proceeds at full price.",
  "payment.currency_without_envelope":
    "The envelope gives no bounds for the payment's currency, so nothing may be subsidised.",
  "envelope.protected_scenario": "The scenario is cash-equivalent and protected by the envelope.",
  "envelope.individual_payee":
    "The payee is an individual: the payment is a transfer, whatever its scenario says.",
  "envelope.min_payable":
    "The payment is too small to subsidise and still leave the minimum payable.",
  // One campaign, in the order its checks run.
  "scope.currency": "The campaign is in another currency.",
  "scope.scenario": "The payment's scenario is outside the campaign's scenarios.",
  "scope.region": "The payment's region is outside the campaign's regions.",
  "scope.channel": "The payment's channel is outside the campaign's channels.",
  "scope.payment_method": "The payment method is outside the campaign's payment methods.",
  "scope.merchant_category":
    "The merchant category is outside the campaign's categories (or the payment has none).",
  "scope.merchant": "The merchant is outside the campaign's merchant list.",
  "scope.segment": "The payment carries none of the campaign's user segments.",
  "scope.amount_range": "The payment amount is outside the campaign's amount range.",
  "schedule.outside_period":
    "The payment time is before the campaign's start or at or after its end.",
  "schedule.outside_daily_window": "The local time of day is outside the campaign's daily windows.",
  "schedule.outside_weekdays": "The local weekday is not one of the campaign's weekdays.",
  "envelope.program_missing":
    "Government funding without a registered subsidy program in the snapshot.",
  "envelope.program_mismatch":
    "The payment is outside the subsidy program's regions, categories or validity.",
  "offer.nothing_due": "The offer gives nothing on this payment (e.g. no threshold tier reached).",
  "stacking.exclusive_group_lost":
    "Another campaign in the same exclusive group won (higher priority, then larger subsidy, then smaller id).",
  "envelope.total_bound_reached":
    "Higher-priority subsidies already used the payment's envelope bound.",
  // Applied after the evaluators by the runtime guard (src/core/guard/kill.ts), which the
  // evaluators do not know: hence not in CAMPAIGN_CHECK_ORDER.
  "guard.killed":
    "A kill switch names the campaign (by id, template or funder, or all): it granted nothing.",
  "guard.snapshot_stale":
    "The evaluator has not confirmed its kill state current within its allowed staleness: nothing is granted.",
} as const;

export type ReasonCode = keyof typeof REASON_CODES;

/** Payment-level codes, in the order they are checked. */
export type PaymentReasonCode =
  | "payment.invalid"
  | "payment.currency_without_envelope"
  | "envelope.protected_scenario"
  | "envelope.individual_payee"
  | "envelope.min_payable"
  // Set by the guard after the evaluators, so it is checked last.
  | "guard.snapshot_stale";

/** Campaign-level checks, in precedence order: the first failing one is the campaign's reason. */
export const CAMPAIGN_CHECK_ORDER = [
  "scope.currency",
  "scope.scenario",
  "scope.region",
  "scope.channel",
  "scope.payment_method",
  "scope.merchant_category",
  "scope.merchant",
  "scope.segment",
  "scope.amount_range",
  "schedule.outside_period",
  "schedule.outside_daily_window",
  "schedule.outside_weekdays",
  "envelope.program_missing",
  "envelope.program_mismatch",
  "offer.nothing_due",
  "stacking.exclusive_group_lost",
  "envelope.total_bound_reached",
] as const satisfies readonly ReasonCode[];

/**
 * The checks at the head of `CAMPAIGN_CHECK_ORDER` that the fast evaluator's index answers
 * (currency through segment): a campaign failing one of these is counted in `excludedByIndex`
 * instead of being listed with a reason (unless `explain` asks for all). Because they lead the
 * order, a campaign the index excludes is one whose first failing check is indexed.
 */
export const INDEXED_CHECK_ORDER = CAMPAIGN_CHECK_ORDER.slice(0, 8);
export const INDEXED_CHECKS: ReadonlySet<ReasonCode> = new Set(INDEXED_CHECK_ORDER);
