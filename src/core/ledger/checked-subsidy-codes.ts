/**
 * Codes of the ledger of checked subsidies (guard mode with a ledger, ADR 0023): the check's
 * ledger outcome, and why the ledger refused a proposal the check allowed. A closed catalog,
 * documented in docs/reference/guard-mode-ledger.md (a test keeps it complete); never renamed.
 * The refusals are the ledger's own limit codes (`LIMIT_REFUSAL_CODES`) under `ledger.`.
 */
import type { LimitRefusalCode } from "./ledger-codes.ts";

export const CHECKED_SUBSIDY_CODES = {
  // The check's ledger outcome (`ledger` of the answer).
  "ledger.recorded":
    "What the check allowed is in the ledger, committed, durably before this answer; a retry with the same id and content gets this answer again.",
  "ledger.nothing_allowed":
    "The check allowed nothing, so nothing was stored: a retry is checked afresh.",
  "ledger.idempotency_conflict":
    "The payment id was recorded before with other content (other proposals, or a native apply), or by another principal; nothing changed and nothing is allowed.",
  "ledger.unavailable":
    "The ledger failed or did not answer within its deadline: under `refuse` nothing is allowed; under `pass` only proposals without a budget or program are.",
  // One proposal the check allowed and the ledger refused.
  "ledger.budget_exhausted":
    "The registered external campaign's total budget (`budgetMinor`) cannot cover the proposal.",
  "ledger.daily_budget_exhausted":
    "The registered external campaign's budget for this local day (`dailyBudget`) cannot cover the proposal.",
  "ledger.program_budget_exhausted":
    "The subsidy program's budget, shared with native campaigns, cannot cover the proposal.",
  "ledger.identity_cap_reached":
    "The subsidy program's per-user maximum would be exceeded for one of the payment's identities.",
  "ledger.platform_ceiling_reached":
    "The envelope's platform-wide per-user daily ceiling, shared with native campaigns, would be exceeded.",
  "ledger.campaign_mixed":
    "An earlier allowed proposal of the same campaign on this payment has another funding, label or program; the ledger keeps one entry per payment and campaign.",
} as const;

export type CheckedSubsidyCode = keyof typeof CHECKED_SUBSIDY_CODES;

/** The `ledger` field of a recorded check. */
export type CheckLedgerOutcome = Extract<
  CheckedSubsidyCode,
  | "ledger.recorded"
  | "ledger.nothing_allowed"
  | "ledger.idempotency_conflict"
  | "ledger.unavailable"
>;

/** Why the ledger refused a proposal: its limit code, under `ledger.`. */
export function checkedRefusalOf(code: LimitRefusalCode): CheckedSubsidyCode {
  return `ledger.${code}`;
}
