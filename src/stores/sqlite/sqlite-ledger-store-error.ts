/**
 * Why a call to the SQLite ledger store failed. These are infrastructure failures and caller bugs,
 * never ledger outcomes (a refusal is an answer, not an error): the ledger service turns them
 * into "no discount" with a reason code (DESIGN principle 7), and retries are safe because the
 * payment id is the idempotency key.
 */
export const SQLITE_LEDGER_ERROR_CODES = {
  queue_full:
    "More requests are waiting than the store's queue limit; the call was refused before queueing.",
  closed: "The store is closing or closed.",
  invalid_request: "The call breaks the port's shape or a documented limit; nothing was queued.",
  worker_failed: "The worker thread that owns the database stopped; nothing more is answered.",
  open_failed: "The database could not be opened, migrated or recovered.",
  write_failed: "The transaction holding the call failed; nothing of the call was written.",
} as const;

export type SqliteLedgerErrorCode = keyof typeof SQLITE_LEDGER_ERROR_CODES;

export class SqliteLedgerStoreError extends Error {
  override readonly name = "SqliteLedgerStoreError";

  constructor(
    readonly code: SqliteLedgerErrorCode,
    detail: string,
  ) {
    super(`ledger store ${code}: ${detail}`);
  }
}
