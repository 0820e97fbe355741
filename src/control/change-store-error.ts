/**
 * Failures of a durable change store, never refusals of a write: those are `ChangeWriteResult`s
 * (`concurrent_update`, `audit_refused`). docs/reference/change-store.md describes each code.
 */
export const CHANGE_STORE_ERROR_CODES = {
  closed: "The store is closed; every call after `close` fails with this code.",
  open_failed:
    "The database could not be opened or migrated, or an option is out of range; nothing was changed.",
  read_failed:
    "A read failed (connection lost, time-out, a row that is not the JSON the store wrote); retry or look at the database.",
  write_failed:
    "The transaction holding a write failed or its outcome is unknown (a connection lost during COMMIT): read the change's revision to learn whether it was written before writing again.",
} as const;

export type ChangeStoreErrorCode = keyof typeof CHANGE_STORE_ERROR_CODES;

export class ChangeStoreError extends Error {
  override readonly name = "ChangeStoreError";

  constructor(
    readonly code: ChangeStoreErrorCode,
    detail: string,
  ) {
    super(`change store ${code}: ${detail}`);
  }
}
