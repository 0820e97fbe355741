/**
 * Settling reservations: the commands, their answers, and the pure arithmetic of a partial
 * commit. Shared by the ledger service and every store.
 */
import type { LedgerCode } from "./ledger-codes.ts";
import type { ReservationState } from "./reservation-lifecycle.ts";

/**
 * `owner`: the principal the caller acts for (`ReservationRequest.owner`). A payment another
 * principal owns is answered as if it did not exist; absent (in-process callers), any payment.
 */
export type SettleCommand =
  | {
      readonly kind: "commit";
      readonly paymentId: string;
      readonly atMs: number;
      readonly totalMinor?: number;
      readonly owner?: string;
    }
  | {
      readonly kind: "release";
      readonly paymentId: string;
      readonly atMs: number;
      readonly owner?: string;
    };

export interface SettledEntry {
  readonly campaignId: string;
  readonly reservedMinor: number;
  readonly committedMinor: number;
}

export interface SettleAnswer {
  readonly paymentId: string;
  readonly code: LedgerCode;
  /** The reservation's state after the command; null when there is none. */
  readonly state: ReservationState | null;
  readonly entries: readonly SettledEntry[];
}

/**
 * How a commit of `totalMinor` is split over the reserved entries, which are in priority order:
 * each takes what it reserved while the total lasts, so a lower final subsidy is taken from the
 * lowest-priority campaigns first and the rest returns to their budgets.
 */
export function splitCommit(reservedMinor: readonly number[], totalMinor: number): number[] {
  let remainingMinor = totalMinor;
  return reservedMinor.map((reserved) => {
    const taken = Math.min(reserved, remainingMinor);
    remainingMinor -= taken;
    return taken;
  });
}
