/**
 * Guard mode's answers (DESIGN §4.7, docs/reference/guard-mode.md): why a subsidy proposed by an
 * external promotion engine was refused or clamped. A closed catalog, in precedence order: the
 * first code that applies is the one reported. Codes shared with the evaluator's reason codes
 * (`src/core/evaluator/reason-codes.ts`) mean the same thing here. Never renamed; a test keeps
 * docs/reference/guard-mode.md complete.
 */

export const PROPOSAL_CHECK_CODES = {
  // The request as a whole: nothing is answered per proposal.
  "request.invalid":
    "The request is not an object of `payment`, `proposals` and optionally `whenUnhealthy`; nothing is allowed.",
  "proposals.invalid":
    "The proposal list is not a list of at most 32 valid proposals with distinct proposalIds; nothing is allowed.",
  // The payment as a whole: every proposal is refused with the same code.
  "payment.invalid": "The payment has a missing or invalid field; every proposal is refused.",
  "envelope.protected_scenario":
    "The scenario is cash-equivalent or listed as protected by the envelope: nothing is subsidised.",
  "envelope.individual_payee":
    "The payee is an individual: the payment is a transfer, whatever its scenario says.",
  "guard.envelope_unavailable":
    "No envelope is served (the configuration has not loaded), and the caller chose `refuse` when Bursar is unhealthy.",
  "payment.currency_without_envelope":
    "The envelope gives no bounds for the payment's currency, so nothing may be subsidised.",
  "envelope.min_payable":
    "The payment is too small to subsidise and still leave the minimum payable.",
  "guard.snapshot_stale":
    "The kill state has not been confirmed current within its allowed staleness, and the caller chose `refuse` when Bursar is unhealthy.",
  // One proposal, in the order its checks run.
  "proposal.label_not_allowed":
    "The label claims a funder the proposal's funding is not (e.g. `bank_offer` paid by the platform).",
  "envelope.program_missing":
    "Government funding or the government label without a registered subsidy program named by programId.",
  "envelope.program_mismatch":
    "The payment is outside the subsidy program's currency, regions, categories or validity.",
  "guard.killed":
    "A kill names the external campaign (`ext:<campaignRef>`), every external campaign (template `ext:*`), its funder, or all.",
  "registration.funding_mismatch":
    "The campaign is registered with another funding source than the proposal claims.",
  "registration.label_mismatch":
    "The campaign is registered with another label than the proposal shows.",
  "registration.scenario_outside":
    "The payment's scenario is outside the registered campaign's declared scenarios.",
  "registration.region_outside":
    "The payment's region is outside the registered campaign's declared regions.",
  "registration.cap_reached":
    "Earlier proposals of the same registered campaign on this payment already used its per-payment maximum.",
  "envelope.total_bound_reached":
    "Earlier proposals on this payment already used the envelope's per-payment bound.",
} as const;

export type ProposalCheckCode = keyof typeof PROPOSAL_CHECK_CODES;

/** Codes that refuse the whole request or payment, in the order they are checked. */
export type ProposalCheckPaymentCode =
  | "request.invalid"
  | "proposals.invalid"
  | "payment.invalid"
  | "envelope.protected_scenario"
  | "envelope.individual_payee"
  | "guard.envelope_unavailable"
  | "payment.currency_without_envelope"
  | "envelope.min_payable"
  | "guard.snapshot_stale";

/** What Bursar reports about itself when it answered by the caller's `whenUnhealthy` default. */
export type UnhealthyCode = "guard.envelope_unavailable" | "guard.snapshot_stale";

/** The bound that clamped an allowed proposal below what was proposed. */
export const CLAMP_BOUNDS = {
  per_payment_max:
    "The envelope's `perPaymentMaxMinor`: the most subsidy all proposals on one payment may get together.",
  per_payment_rate:
    "The envelope's `perPaymentMaxRateBps` of the payment amount, rounded down, for all proposals together.",
  min_payable:
    "The payment amount less the envelope's `minPayableMinor`: the payer always pays at least that.",
  registered_max:
    "The registered campaign's own `perPaymentMaxMinor`, across its proposals on the payment.",
} as const;

export type ClampBound = keyof typeof CLAMP_BOUNDS;
