/**
 * The rows both SQL change stores keep: a change request as the JSON it was written as, with
 * the columns reads filter on; a document version with its document as JSON text (NULL when the
 * version retires the document). A row that does not parse is reported, never patched up.
 */
import type { DocumentVersionRecord } from "../control/change-store.ts";
import { ChangeStoreError } from "../control/change-store-error.ts";
import type { ChangeRequest } from "../core/change/change-request.ts";
import type { DocumentKey, DocumentVersion } from "../core/change/document-versions.ts";
import type { ConfigDocument } from "../core/model/document.ts";

export const DOCUMENT_VERSION_COLUMNS = "key, version, document_json, content_hash, change_id";

export interface DocumentVersionRow {
  key: string;
  version: number;
  document_json: string | null;
  content_hash: string;
  change_id: string;
}

export function documentVersionOfRow(row: DocumentVersionRow): DocumentVersion {
  return {
    key: row.key as DocumentKey,
    version: row.version,
    document:
      row.document_json === null
        ? null
        : (parsed(row.document_json, `version ${row.version} of ${row.key}`) as ConfigDocument),
    contentHash: row.content_hash,
    changeId: row.change_id,
  };
}

/** A version with when it was written (control migration 8; NULL before it). */
export interface DocumentVersionRecordRow extends DocumentVersionRow {
  written_at: string | null;
}

export function documentVersionRecordOfRow(row: DocumentVersionRecordRow): DocumentVersionRecord {
  return { ...documentVersionOfRow(row), writtenAt: row.written_at };
}

/** Values in the order of DOCUMENT_VERSION_COLUMNS. */
export function documentVersionRowValues(
  version: DocumentVersion,
): [string, number, string | null, string, string] {
  return [
    version.key,
    version.version,
    version.document === null ? null : JSON.stringify(version.document),
    version.contentHash,
    version.changeId,
  ];
}

export function changeOfJson(json: string): ChangeRequest {
  return parsed(json, "a change request") as ChangeRequest;
}

function parsed(json: string, what: string): unknown {
  try {
    return JSON.parse(json);
  } catch (error) {
    throw new ChangeStoreError(
      "read_failed",
      `${what} is stored as text that is not JSON: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/** `change-N`: the id of the N-th number the store handed out. */
export function changeIdOf(number: number): string {
  return `change-${number}`;
}

/** The limit `listChanges` applies: clamped to 0..max as the memory store does. */
export function listLimitOf(limit: number, max: number): number {
  if (!Number.isFinite(limit)) return limit > 0 ? max : 0;
  return Math.min(Math.max(Math.trunc(limit), 0), max);
}
