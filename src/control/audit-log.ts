/**
 * The audit log's port: every control-plane action (who, what, when, content hash, reason)
 * appended to one hash-chained log in the store, and its verification. The entry, its limits and
 * its canonical encoding are in src/core/audit/; this file adds the hash (SHA-256, `node:crypto`)
 * and what every store shares. docs/reference/audit-log.md describes both.
 */
import { createHash } from "node:crypto";
import {
  type AuditChainVerifierOptions,
  type AuditVerification,
  verifyAuditEntries,
} from "../core/audit/audit-chain-verifier.ts";
import {
  AUDIT_GENESIS_HASH,
  type AuditEntry,
  type AuditEntryInput,
  type AuditHead,
  type AuditRefusal,
  auditHashText,
  canonicalAuditJson,
  checkAuditEntryInput,
} from "../core/audit/audit-entry.ts";

export type AppendAuditResult =
  | { readonly ok: true; readonly entry: AuditEntry }
  | ({ readonly ok: false } & AuditRefusal);

export interface VerifyAuditOptions {
  /** A head the auditor kept (`--expect-head SEQ:HASH`). */
  readonly anchor?: AuditHead;
  /** Called now and then with the number of entries read so far. */
  readonly onProgress?: (entries: number) => void;
}

export interface AuditLogStore {
  /**
   * Appends one entry: the store checks the input (a refusal is a value; nothing is written),
   * then, atomically with every other appender (other processes included), takes the next
   * sequence, links to the head's hash, hashes the entry, writes it and moves the head.
   */
  append(input: AuditEntryInput): Promise<AppendAuditResult>;
  /** Up to `limit` entries from `fromSequence` on, in sequence order. */
  read(fromSequence: number, limit: number): Promise<readonly AuditEntry[]>;
  /** The head recorded with the last append: `{0, genesis}` for an empty log. */
  head(): Promise<AuditHead>;
  /**
   * Verifies the whole log in one consistent snapshot, page by page in bounded memory: the
   * chain, the recorded head, and the anchor when given.
   */
  verify(options?: VerifyAuditOptions): Promise<AuditVerification>;
  close(): Promise<void>;
}

/** Entries one `read` returns at most. */
export const AUDIT_READ_LIMIT_MAX = 10_000;

/** Failures of a store, never refusals of an entry: those are `AppendAuditResult`s. */
export const AUDIT_LOG_STORE_ERROR_CODES = {
  closed: "The store is closed.",
  read_only: "The store was opened read-only (as `bursar audit` opens it); it appends nothing.",
  invalid_request: "`read` was called with a sequence or a limit out of range.",
  open_failed:
    "The database could not be opened or migrated, or has no audit log (read-only open).",
  write_failed:
    "The transaction holding the append failed or its outcome is unknown (a connection lost during COMMIT): read the head to learn whether the entry was written before appending it again.",
} as const;

export type AuditLogStoreErrorCode = keyof typeof AUDIT_LOG_STORE_ERROR_CODES;

export class AuditLogStoreError extends Error {
  override readonly name = "AuditLogStoreError";

  constructor(
    readonly code: AuditLogStoreErrorCode,
    detail: string,
  ) {
    super(`audit log store ${code}: ${detail}`);
  }
}

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/** The entry's hash: SHA-256 of its canonical text (`auditHashText`). */
export function auditEntryHash(entry: Omit<AuditEntry, "hash">): string {
  return sha256Hex(auditHashText(entry));
}

/** The entry that follows `head`: what a store writes, inside its atomic step. */
export function sealAuditEntry(input: AuditEntryInput, head: AuditHead): AuditEntry {
  const unsealed = {
    sequence: head.sequence + 1,
    at: input.at,
    actor: input.actor,
    action: input.action,
    subject: input.subject,
    contentHash: input.contentHash,
    reason: input.reason,
    // A copy through the canonical text: what is stored is what was hashed.
    details: JSON.parse(canonicalAuditJson(input.details)),
    previousHash: head.hash,
  };
  return { ...unsealed, hash: auditEntryHash(unsealed) };
}

/** The checks every store runs before its atomic step; undefined when the input may be appended. */
export function refusalOf(input: AuditEntryInput): AppendAuditResult | undefined {
  const refusal = checkAuditEntryInput(input);
  return refusal === undefined ? undefined : { ok: false, ...refusal };
}

export function checkReadRange(fromSequence: number, limit: number): void {
  if (!Number.isSafeInteger(fromSequence) || fromSequence < 1) {
    throw new AuditLogStoreError("invalid_request", `fromSequence ${fromSequence} is not >= 1`);
  }
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > AUDIT_READ_LIMIT_MAX) {
    throw new AuditLogStoreError(
      "invalid_request",
      `limit ${limit} is not within 1..${AUDIT_READ_LIMIT_MAX}`,
    );
  }
}

export const EMPTY_AUDIT_HEAD: AuditHead = { sequence: 0, hash: AUDIT_GENESIS_HASH };

/** Verifies a chain of entries in order with SHA-256 (the pure loop is in the core). */
export function verifyAuditChain(
  entries: Iterable<AuditEntry>,
  options: Omit<AuditChainVerifierOptions, "hashText"> = {},
): AuditVerification {
  return verifyAuditEntries(entries, { ...options, hashText: sha256Hex });
}
