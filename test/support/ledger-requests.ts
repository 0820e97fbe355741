/**
 * Builders of ledger requests for tests. Free of Vitest, so the crash test's child processes can
 * import them too.
 */
import type { LimitRefusalCode } from "../../src/core/ledger/ledger-codes.ts";
import type { RefundRestores } from "../../src/core/ledger/refund.ts";
import type {
  Debit,
  PlannedSubsidy,
  ReservationRequest,
} from "../../src/core/ledger/reservation.ts";

/** How long requests hold their reservation unless a test says otherwise. */
export const REQUEST_TTL_MS = 3_600_000;
/** 2025-01-16 14:40 Beijing time, when requests happen unless a test says otherwise. */
export const REQUEST_T0_MS = Date.UTC(2025, 0, 16, 6, 40);

export function budgetDebit(campaignId: string, amountMinor: number): Debit {
  return {
    account: `campaign/${campaignId}`,
    amountMinor,
    count: 1,
    funded: true,
    capacityMinor: null,
    countCapacity: null,
    refusal: "budget_exhausted",
  };
}

export function boundedDebit(
  account: string,
  amountMinor: number,
  capacityMinor: number | null,
  countCapacity: number | null,
  refusal: LimitRefusalCode = "identity_cap_reached",
): Debit {
  return { account, amountMinor, count: 1, funded: false, capacityMinor, countCapacity, refusal };
}

export function subsidy(
  campaignId: string,
  amountMinor: number,
  extraDebits: Debit[] = [],
  refundRestores: RefundRestores = "budgets_and_caps",
): PlannedSubsidy {
  return {
    campaignId,
    campaignVersion: 1,
    amountMinor,
    funding: "platform",
    label: "instant_discount",
    refundRestores,
    debits: [budgetDebit(campaignId, amountMinor), ...extraDebits],
  };
}

export function request(
  paymentId: string,
  subsidies: PlannedSubsidy[],
  options: { contentKey?: string; atMs?: number; ttlMs?: number } = {},
): ReservationRequest {
  const atMs = options.atMs ?? REQUEST_T0_MS;
  return {
    paymentId,
    contentKey: options.contentKey ?? `content-of-${paymentId}`,
    paymentAmountMinor: 100_000,
    atMs,
    expiresAtMs: atMs + (options.ttlMs ?? REQUEST_TTL_MS),
    snapshotVersion: 1,
    subsidies,
  };
}
