/**
 * The audit log's append step on SQLite, shared by the audit store and the change store, so an
 * action and its entry commit in one transaction: read the head, seal the entry after it, write
 * it, move the head. The caller runs it inside a `BEGIN IMMEDIATE` transaction, whose write lock
 * is what keeps the chain single across processes.
 */
import type BetterSqlite3 from "better-sqlite3";
import { EMPTY_AUDIT_HEAD, sealAuditEntry } from "../../control/audit-log.ts";
import type { AuditEntry, AuditEntryInput, AuditHead } from "../../core/audit/audit-entry.ts";
import { AUDIT_ENTRY_COLUMNS, auditRowValues } from "../audit-rows.ts";

/** Appends a checked input (`refusalOf` said nothing); call it inside a write transaction. */
export type SqliteAuditAppend = (input: AuditEntryInput) => AuditEntry;

/** Prepares the append's statements on `database` once. */
export function prepareSqliteAuditAppend(database: BetterSqlite3.Database): SqliteAuditAppend {
  const selectHead = database.prepare("SELECT sequence, hash FROM audit_head WHERE id = 1");
  const insert = database.prepare(
    `INSERT INTO audit_log (${AUDIT_ENTRY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const moveHead = database.prepare("UPDATE audit_head SET sequence = ?, hash = ? WHERE id = 1");
  return (input) => {
    if (!database.inTransaction) throw new Error("an audit append needs a write transaction");
    const head = (selectHead.get() as AuditHead | undefined) ?? EMPTY_AUDIT_HEAD;
    const entry = sealAuditEntry(input, head);
    insert.run(...auditRowValues(entry));
    if (moveHead.run(entry.sequence, entry.hash).changes !== 1) {
      throw new Error("the audit log's head row is gone");
    }
    return entry;
  };
}
