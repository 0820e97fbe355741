/**
 * The change pipeline's store port: document versions and change requests. Every write is one
 * atomic step guarded by the change's revision, so two people acting on one change at once
 * cannot both win, and a rollout's versions are written together with its state or not at all.
 * The memory implementation serves application tests; SQLite and PostgreSQL adapters pass the
 * same contract suite.
 */
import type { AuditEntryInput } from "../core/audit/audit-entry.ts";
import type { ChangeRequest } from "../core/change/change-request.ts";
import type { DocumentKey, DocumentVersion } from "../core/change/document-versions.ts";

export interface StoredChange {
  readonly change: ChangeRequest;
  /** Grows by one with every write; a write names the revision it read. */
  readonly revision: number;
}

/** A version as a document's history lists it, with when the store wrote it. */
export interface DocumentVersionRecord extends DocumentVersion {
  /**
   * When it was written: the writing change's `updatedAt` at that write — when its rollout
   * started, its operator action was taken, or it was rolled back. Null for a version written
   * before the stores kept it (control schema migration 8).
   */
  readonly writtenAt: string | null;
}

export type ChangeWriteResult =
  | { readonly ok: true; readonly revision: number }
  | {
      readonly ok: false;
      readonly code: "concurrent_update" | "audit_refused";
      readonly message: string;
    };

export interface ChangeStore {
  /** A new, never used change id (`change-1`, `change-2`, …). */
  nextChangeId(): Promise<string>;
  getChange(id: string): Promise<StoredChange | undefined>;
  /** Changes, newest first, at most `limit`; optionally only those in one state. */
  listChanges(options: {
    readonly state?: ChangeRequest["state"];
    readonly limit: number;
  }): Promise<readonly ChangeRequest[]>;
  /**
   * Writes the change (a new one with `expectedRevision` 0), appends `versions` and the audit
   * entry, in one atomic step: an action is never stored without its audit entry, nor audited
   * without having happened. Refused as `concurrent_update` when the stored revision is not
   * `expectedRevision`, a version number is taken (another change wrote that document first),
   * or the change would roll out while another does (one at a time, held by the store); as
   * `audit_refused` when the audit log refuses the entry. Nothing is written then.
   */
  writeChange(
    change: ChangeRequest,
    expectedRevision: number,
    versions: readonly DocumentVersion[],
    audit: AuditEntryInput | undefined,
  ): Promise<ChangeWriteResult>;
  latestVersion(key: DocumentKey): Promise<DocumentVersion | undefined>;
  version(key: DocumentKey, version: number): Promise<DocumentVersion | undefined>;
  /** The latest version of every document, retired ones included. */
  latestVersions(): Promise<readonly DocumentVersion[]>;
  /**
   * A document's versions, newest first: those below `beforeVersion` (every one without it), at
   * most `limit` (clamped to 0..VERSION_HISTORY_LIMIT_MAX). None for a document never written.
   */
  versionHistory(
    key: DocumentKey,
    options: { readonly beforeVersion?: number; readonly limit: number },
  ): Promise<readonly DocumentVersionRecord[]>;
  close(): Promise<void>;
}

/** Changes one `listChanges` returns at most. */
export const CHANGE_LIST_LIMIT_MAX = 1_000;

/** Versions one `versionHistory` returns at most. */
export const VERSION_HISTORY_LIMIT_MAX = 1_000;

/**
 * The exclusive upper bound `versionHistory` reads below, as every store applies it: every
 * version without `beforeVersion`, none for NaN, otherwise the bound rounded up into 0..2^53-1
 * (versions are whole numbers, so "below 2.5" is "below 3").
 */
export function historyBoundOf(beforeVersion: number | undefined): number {
  if (beforeVersion === undefined) return Number.MAX_SAFE_INTEGER;
  if (Number.isNaN(beforeVersion)) return 0;
  return Math.min(Math.max(Math.ceil(beforeVersion), 0), Number.MAX_SAFE_INTEGER);
}

/**
 * Which of `versions` cannot be written over what is stored: each must be the next version of
 * its document (`latest + 1`), judged against what was stored before the write, as the memory
 * store judges, so one write holds at most one version of a document. Undefined when all can.
 */
export function versionConflictOf(
  versions: readonly DocumentVersion[],
  latestOf: (key: DocumentKey) => number,
): DocumentVersion | undefined {
  const seen = new Set<DocumentKey>();
  return versions.find((version) => {
    if (seen.has(version.key)) return true;
    seen.add(version.key);
    return latestOf(version.key) !== version.version - 1;
  });
}
