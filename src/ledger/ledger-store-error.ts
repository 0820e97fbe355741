/**
 * Why a call to a durable ledger store (SQLite, PostgreSQL) failed. These are infrastructure failures and caller bugs,
 * never ledger outcomes (a refusal is an answer, not an error): the ledger service turns them
 * into "no discount" with a reason code (DESIGN principle 7), and retries are safe because the
 * payment id is the idempotency key.
 */
export const LEDGER_STORE_ERROR_CODES = {
  queue_full:
    "More requests are waiting than the store's queue limit; the call was refused before queueing.",
  closed: "The store is closing or closed.",
  invalid_request: "The call breaks the port's shape or a documented limit; nothing was queued.",
  worker_failed:
    "The SQLite writer thread that owns the database stopped; nothing more is answered.",
  store_failed:
    "The SQLite store could not rebuild its counters from the ledger after a failure; nothing more is answered until it is opened again.",
  recovering:
    "A write failed and the SQLite store is rebuilding its counters from the ledger; calls are refused until it is done (a moment).",
  memory_full:
    "The SQLite store holds as many accounts' counters in memory as `accountsMax` allows; reservations that could add accounts are refused.",
  open_failed: "The database could not be opened, migrated or recovered.",
  write_failed: "The transaction holding the call failed; nothing of the call was written.",
  commit_unknown:
    "The connection was lost while the transaction committed: it may or may not have been written. A retry with the same ids is safe: it gets the stored answer if it was.",
} as const;

export type LedgerStoreErrorCode = keyof typeof LEDGER_STORE_ERROR_CODES;

export class LedgerStoreError extends Error {
  override readonly name = "LedgerStoreError";

  constructor(
    readonly code: LedgerStoreErrorCode,
    detail: string,
  ) {
    super(`ledger store ${code}: ${detail}`);
  }
}
