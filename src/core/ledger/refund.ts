/**
 * Refunds after a commit: the command, its answer, what a campaign's refund policy restores, and
 * the pure arithmetic that reverses a subsidy in proportion to the money refunded.
 */
import type { LedgerCode, LimitRefusalCode } from "./ledger-codes.ts";

/**
 * What a refund gives back to a campaign's limits (`limits.refundRestores`):
 * - `budgets_and_caps` (default): the reversed subsidy returns to the budgets (total, daily,
 *   program) and to the per-identity caps and the platform ceiling; a fully reversed subsidy
 *   also returns its use to the count caps.
 * - `budgets`: only the budgets; caps keep counting the use, so buy-refund-repeat cannot reuse
 *   a once-per-user offer.
 * - `nothing`: the reversed money goes back to the funder, but no budget or cap is re-opened.
 */
export const REFUND_RESTORES = ["budgets_and_caps", "budgets", "nothing"] as const;
export type RefundRestores = (typeof REFUND_RESTORES)[number];
export const REFUND_RESTORES_DEFAULT: RefundRestores = "budgets_and_caps";

/** Limits that are budgets (money a funder set aside); the others are caps on one identity. */
const BUDGET_REFUSALS: ReadonlySet<LimitRefusalCode> = new Set([
  "budget_exhausted",
  "daily_budget_exhausted",
  "program_budget_exhausted",
]);

/** Whether a refund returns money (and, when complete, the use) to the limit a debit drew on. */
export function refundRestoresDebit(policy: RefundRestores, refusal: LimitRefusalCode): boolean {
  if (policy === "budgets_and_caps") return true;
  if (policy === "budgets") return BUDGET_REFUSALS.has(refusal);
  return false;
}

export interface RefundCommand {
  readonly paymentId: string;
  /** Unique per payment: a retry with the same id and amount gets the stored answer. */
  readonly refundId: string;
  /** Payment money refunded by this refund, in the payment's minor units. */
  readonly amountMinor: number;
  readonly atMs: number;
  /**
   * The principal the caller acts for (`ReservationRequest.owner`). A payment another principal
   * owns is answered as if it did not exist; absent (in-process callers), any payment.
   */
  readonly owner?: string;
}

export interface RefundedEntry {
  readonly campaignId: string;
  readonly committedMinor: number;
  /** Subsidy reversed by this refund. */
  readonly reversedMinor: number;
  /** Subsidy reversed by every refund of the payment so far, this one included. */
  readonly reversedTotalMinor: number;
}

export interface RefundAnswer {
  readonly paymentId: string;
  readonly refundId: string;
  readonly code: LedgerCode;
  readonly amountMinor: number;
  /** Payment money refunded so far (this refund included when it was applied). */
  readonly refundedMinor: number;
  readonly paymentAmountMinor: number | null;
  /** Subsidy reversed by this refund, across every campaign of the payment. */
  readonly subsidyReversedMinor: number;
  readonly entries: readonly RefundedEntry[];
  /** True when this is the stored answer to an earlier refund with the same id and amount. */
  readonly replayed: boolean;
}

/**
 * The subsidy reversed once `refundedMinor` of a `paymentAmountMinor` payment has been refunded:
 * `floor(committed × refunded / payment)` per campaign, computed exactly (the product can pass
 * 2^53). Taking the floor of the cumulative share, not of each refund's, keeps the rounding from
 * adding up: a sequence of refunds reverses exactly what one refund of the same total would, and
 * a full refund reverses every campaign's committed subsidy to the last minor unit.
 */
export function reversedAfter(
  committedMinor: number,
  refundedMinor: number,
  paymentAmountMinor: number,
): number {
  if (paymentAmountMinor <= 0 || refundedMinor <= 0) return 0;
  if (refundedMinor >= paymentAmountMinor) return committedMinor;
  return Number((BigInt(committedMinor) * BigInt(refundedMinor)) / BigInt(paymentAmountMinor));
}
