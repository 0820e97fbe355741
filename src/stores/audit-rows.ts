/**
 * The row both SQL stores keep per audit entry: every field as written and hashed, `details` as
 * its canonical JSON text, so a verifier recomputes each hash from the row alone.
 */
import type { AuditAction } from "../core/audit/audit-actions.ts";
import type { AuditDetails, AuditEntry } from "../core/audit/audit-entry.ts";

export const AUDIT_ENTRY_COLUMNS =
  "sequence, at, actor, action, subject, content_hash, reason, details_json, previous_hash, hash";

export interface AuditEntryRow {
  sequence: number;
  at: string;
  actor: string;
  action: string;
  subject: string;
  content_hash: string | null;
  reason: string | null;
  details_json: string;
  previous_hash: string;
  hash: string;
}

/**
 * A row as an entry. Rows are read as stored, tampered or not: details that are not JSON stay
 * their text, which the verifier reports as malformed.
 */
export function auditEntryOfRow(row: AuditEntryRow): AuditEntry {
  let details: AuditDetails;
  try {
    details = JSON.parse(row.details_json) as AuditDetails;
  } catch {
    details = row.details_json as unknown as AuditDetails;
  }
  return {
    sequence: row.sequence,
    at: row.at,
    actor: row.actor,
    action: row.action as AuditAction,
    subject: row.subject,
    contentHash: row.content_hash,
    reason: row.reason,
    details,
    previousHash: row.previous_hash,
    hash: row.hash,
  };
}

export function auditRowValues(entry: AuditEntry): unknown[] {
  return [
    entry.sequence,
    entry.at,
    entry.actor,
    entry.action,
    entry.subject,
    entry.contentHash,
    entry.reason,
    JSON.stringify(entry.details),
    entry.previousHash,
    entry.hash,
  ];
}
