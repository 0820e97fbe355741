import type { FundingSource, LabelKind } from "../funding.ts";
import type { PaymentReasonCode, ReasonCode } from "./reason-codes.ts";

/** One subsidy granted on a payment, before budgets: the ledger may still refuse it. */
export interface Subsidy {
  readonly campaignId: string;
  readonly campaignVersion: number;
  readonly templateId: string;
  /** What the payer gets off, after the campaign's cap, stacking and the envelope. */
  readonly amountMinor: number;
  /** What the offer gave after the campaign's own per-payment cap, before the envelope. */
  readonly offerMinor: number;
  readonly funding: FundingSource;
  readonly programId?: string;
  readonly label: LabelKind;
}

export interface Rejection {
  readonly campaignId: string;
  readonly reason: ReasonCode;
}

export interface Explanation {
  readonly campaignId: string;
  readonly outcome: "applied" | ReasonCode;
}

/**
 * The answer to `quote(payment)`: rules and envelope only. Budgets and caps are the ledger's,
 * hence `subjectToBudget`.
 */
export interface Decision {
  readonly paymentId: string | null;
  readonly snapshotVersion: number;
  /** Set when the payment as a whole gets nothing (then `subsidies` is empty). */
  readonly reason: PaymentReasonCode | null;
  /** In the order they were granted: priority descending, then campaign id. */
  readonly subsidies: readonly Subsidy[];
  readonly totalSubsidyMinor: number;
  /** Campaigns that matched the indexed scope but were not applied, in campaign id order. */
  readonly rejected: readonly Rejection[];
  /** Campaigns the indexed scope (currency, scenario, region, channel, method, category, merchant, segment) excluded. */
  readonly excludedByIndex: number;
  readonly subjectToBudget: boolean;
  /** Every campaign with its outcome, in campaign id order, when asked for with `explain`. */
  readonly explanation?: readonly Explanation[];
}

export interface QuoteOptions {
  readonly explain?: boolean;
}
