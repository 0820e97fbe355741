/**
 * What crosses between `SqliteLedgerStore` (the caller's thread, which decides) and the writer
 * thread (which makes the decisions durable): batches of row writes, and their outcomes.
 *
 * A batch's writes travel as one flat array of primitives — an operation code followed by its
 * columns — because structured clone copies an array of strings and numbers many times faster
 * than the same data as objects (measured: a planned request as objects costs ~20 µs to clone).
 */

/** The writes a batch may hold, each followed in the array by its columns in this order. */
export const WRITE_OPERATIONS = {
  /**
   * payment_id, content_key, answer_json, state, expires_at_ms, payment_amount_minor,
   * refunded_minor, entries_json, at_ms, user_id, scenario, region, owner
   */
  insertPayment: 1,
  /** state, refunded_minor, entries_json, payment_id */
  updatePayment: 2,
  /** payment_id, refund_id, amount_minor, at_ms, answer_json */
  insertRefund: 3,
  /** account, amount_minor, reason, at_ms */
  insertFunding: 4,
} as const;

export type WriteColumn = string | number | null;

export interface WriterSettings {
  readonly path: string;
  readonly openedAtMs: number;
  readonly busyTimeoutMs: number;
}

export type ToWriter =
  /**
   * One transaction: every write, then COMMIT. `epoch` changes after a failed batch: the writer
   * drops batches of an older epoch, decided on top of the one that failed.
   */
  | {
      readonly type: "batch";
      readonly epoch: number;
      readonly sequence: number;
      readonly writes: readonly WriteColumn[];
    }
  /** The caller has rebuilt its state from the database: batches of `epoch` may be written. */
  | { readonly type: "resume"; readonly epoch: number }
  | { readonly type: "close" };

export type FromWriter =
  | { readonly type: "ready"; readonly migrationsApplied: readonly number[] }
  | { readonly type: "open_failed"; readonly message: string }
  | { readonly type: "committed"; readonly sequence: number }
  | { readonly type: "failed"; readonly sequence: number; readonly message: string };

/** What open found and did; see `SqliteLedgerStore.open`. */
export interface LedgerRecovery {
  readonly migrationsApplied: readonly number[];
  /** Payment rows read to rebuild the counters. */
  readonly paymentsRead: number;
  /** Accounts whose counters were rebuilt from the ledger. */
  readonly accountsRebuilt: number;
  /** Reservations past their expiry at open, released. */
  readonly expiredReservations: number;
}
