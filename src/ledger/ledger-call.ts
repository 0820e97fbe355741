/**
 * The store port's calls as data: how the SQLite store ships them to its writer thread, and what
 * `checkLedgerCall` checks for every store before anything is decided.
 */
import type { FundingTarget } from "../core/ledger/ledger-book.ts";
import type { RefundCommand } from "../core/ledger/refund.ts";
import type { ReservationRequest } from "../core/ledger/reservation.ts";
import type { SettleCommand } from "../core/ledger/settlement.ts";

/** One call of the store port. */
export type LedgerCall =
  | { readonly kind: "reserve"; readonly requests: readonly ReservationRequest[] }
  | { readonly kind: "settle"; readonly commands: readonly SettleCommand[] }
  | { readonly kind: "refund"; readonly commands: readonly RefundCommand[] }
  | {
      readonly kind: "fund";
      readonly account: string;
      readonly amountMinor: number;
      readonly reason: string;
      readonly atMs: number;
    }
  | {
      readonly kind: "fundUpTo";
      readonly targets: readonly FundingTarget[];
      readonly reason: string;
      readonly atMs: number;
    }
  | { readonly kind: "expireDue"; readonly nowMs: number; readonly limit: number }
  | { readonly kind: "balance"; readonly account: string }
  | { readonly kind: "verify" };

/** How much of a store's batch and queue limits a call uses: one unit per request or command. */
export function callWeight(call: LedgerCall): number {
  if (call.kind === "reserve") return Math.max(1, call.requests.length);
  if (call.kind === "settle" || call.kind === "refund") return Math.max(1, call.commands.length);
  return 1;
}
