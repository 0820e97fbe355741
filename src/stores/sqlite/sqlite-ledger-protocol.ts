/**
 * The messages between `SqliteLedgerStore` (the caller's thread) and the worker thread that owns
 * the database connection. Every value crosses by structured clone, so only plain data is here.
 */
import type { RefundAnswer } from "../../core/ledger/refund.ts";
import type { ReserveResult } from "../../core/ledger/reservation.ts";
import type { SettleAnswer } from "../../core/ledger/settlement.ts";
import type { LedgerCall } from "../../ledger/ledger-call.ts";
import type { AccountBalance, FundAnswer, LedgerVerification } from "../../ledger/ledger-store.ts";

export { callWeight, type LedgerCall } from "../../ledger/ledger-call.ts";

export type LedgerCallValue =
  | ReserveResult[]
  | SettleAnswer[]
  | RefundAnswer[]
  | FundAnswer
  | FundAnswer[]
  | number
  | AccountBalance
  | undefined
  | LedgerVerification;

export interface QueuedCall {
  readonly id: number;
  readonly call: LedgerCall;
}

export type CallOutcome =
  | { readonly ok: true; readonly value: LedgerCallValue }
  | { readonly ok: false; readonly message: string };

export interface CallResult {
  readonly id: number;
  readonly outcome: CallOutcome;
}

/** What open found and repaired; see `SqliteLedgerDatabase.recover`. */
export interface LedgerRecovery {
  readonly migrationsApplied: readonly number[];
  /** Accounts whose counters disagreed with the ledger and were set to the ledger's sums. */
  readonly correctedAccounts: number;
  /** Reservations past their expiry at open, released. */
  readonly expiredReservations: number;
}

export interface WorkerSettings {
  readonly path: string;
  readonly openedAtMs: number;
  readonly batchSizeMax: number;
  readonly batchWaitMs: number;
  readonly busyTimeoutMs: number;
}

export type ToWorker =
  | { readonly type: "calls"; readonly calls: readonly QueuedCall[] }
  | { readonly type: "close" };

export type FromWorker =
  | { readonly type: "ready"; readonly recovery: LedgerRecovery }
  | { readonly type: "open_failed"; readonly message: string }
  | { readonly type: "results"; readonly results: readonly CallResult[] };
