/**
 * The audit log's append step on PostgreSQL, shared by the audit store and the change store, so
 * an action and its entry commit in one transaction: lock the head row (`SELECT … FOR UPDATE`,
 * the lock appenders of every process queue on), seal the entry after it, write it, move the
 * head. The caller has begun the transaction and commits or rolls it back.
 */
import type pg from "pg";
import { sealAuditEntry } from "../../control/audit-log.ts";
import type { AuditEntry, AuditEntryInput, AuditHead } from "../../core/audit/audit-entry.ts";
import { AUDIT_ENTRY_COLUMNS, auditRowValues } from "../audit-rows.ts";

/**
 * Appends a checked input (`refusalOf` said nothing) inside the client's open transaction. Call
 * it last in the transaction: the head's lock is then held only until COMMIT.
 */
export async function appendPostgresAuditEntry(
  client: pg.ClientBase,
  input: AuditEntryInput,
): Promise<AuditEntry> {
  const { rows } = await client.query<AuditHead>(
    "SELECT sequence, hash FROM audit_head WHERE id = 1 FOR UPDATE",
  );
  const head = rows[0];
  if (head === undefined) throw new Error("the audit log's head row is gone");
  const entry = sealAuditEntry(input, head);
  await client.query(
    `INSERT INTO audit_log (${AUDIT_ENTRY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    auditRowValues(entry),
  );
  await client.query("UPDATE audit_head SET sequence = $1, hash = $2 WHERE id = 1", [
    entry.sequence,
    entry.hash,
  ]);
  return entry;
}
