/**
 * The audit log in the control plane's SQLite file (`control.sqlite`, sqlite-control-schema.ts).
 * Several processes may open the file: each append is one `BEGIN IMMEDIATE` transaction that
 * reads the head row, writes the entry and moves the head, so appenders serialise on SQLite's
 * write lock (waiting up to the busy timeout) and form one chain. WAL with `synchronous = FULL`:
 * an appended entry is on disk before `append` returns.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { setImmediate as nextTurn } from "node:timers/promises";
import BetterSqlite3 from "better-sqlite3";
import {
  type AppendAuditResult,
  type AuditLogStore,
  AuditLogStoreError,
  checkReadRange,
  EMPTY_AUDIT_HEAD,
  refusalOf,
  sha256Hex,
  type VerifyAuditOptions,
} from "../../control/audit-log.ts";
import {
  AuditChainVerifier,
  type AuditVerification,
} from "../../core/audit/audit-chain-verifier.ts";
import type { AuditEntry, AuditEntryInput, AuditHead } from "../../core/audit/audit-entry.ts";
import { AUDIT_ENTRY_COLUMNS, type AuditEntryRow, auditEntryOfRow } from "../audit-rows.ts";
import { prepareSqliteAuditAppend } from "./sqlite-audit-append.ts";
import {
  CONTROL_SCHEMA_VERSION,
  controlSchemaVersion,
  migrateControl,
} from "./sqlite-control-schema.ts";

export interface SqliteAuditLogStoreOptions {
  /** The control database, `<data dir>/control.sqlite`; created with its folder if missing. */
  readonly path: string;
  /** Opens an existing file without migrating or writing (`bursar audit`). */
  readonly readOnly?: boolean;
  /** How long an append waits for another process's transaction before it fails. */
  readonly busyTimeoutMs?: number;
  /** Entries `verify` reads per page. */
  readonly verifyPageEntries?: number;
  /** Stamps the migration records only; entries carry the appender's `at`. */
  readonly nowMs?: () => number;
}

export const SQLITE_AUDIT_LOG_DEFAULTS = {
  busyTimeoutMs: 10_000,
  verifyPageEntries: 10_000,
} as const;

/** The control plane's file inside a data directory. */
export const CONTROL_FILE_NAME = "control.sqlite";

function optionInRange(name: string, value: number, minimum: number, maximum: number): number {
  if (!Number.isSafeInteger(value) || value < minimum || value > maximum) {
    throw new AuditLogStoreError(
      "open_failed",
      `${name} ${value} is not within ${minimum}..${maximum}`,
    );
  }
  return value;
}

export class SqliteAuditLogStore implements AuditLogStore {
  private closed = false;
  private readonly selectHead: BetterSqlite3.Statement;
  private readonly selectPage: BetterSqlite3.Statement;
  private readonly appendInTransaction: ((input: AuditEntryInput) => AuditEntry) | undefined;

  private constructor(
    private readonly database: BetterSqlite3.Database,
    private readonly path: string,
    private readonly verifyPageEntries: number,
    /** Migrations applied at open. */
    readonly migrationsApplied: readonly number[],
  ) {
    this.selectHead = database.prepare("SELECT sequence, hash FROM audit_head WHERE id = 1");
    this.selectPage = database.prepare(
      `SELECT ${AUDIT_ENTRY_COLUMNS} FROM audit_log WHERE sequence >= ? ORDER BY sequence LIMIT ?`,
    );
    if (database.readonly) return;
    const append = database.transaction(prepareSqliteAuditAppend(database));
    this.appendInTransaction = (input) => append.immediate(input);
  }

  static open(options: SqliteAuditLogStoreOptions): SqliteAuditLogStore {
    const readOnly = options.readOnly ?? false;
    const busyTimeoutMs = optionInRange(
      "busyTimeoutMs",
      options.busyTimeoutMs ?? SQLITE_AUDIT_LOG_DEFAULTS.busyTimeoutMs,
      0,
      600_000,
    );
    const verifyPageEntries = optionInRange(
      "verifyPageEntries",
      options.verifyPageEntries ?? SQLITE_AUDIT_LOG_DEFAULTS.verifyPageEntries,
      1,
      1_000_000,
    );
    let database: BetterSqlite3.Database;
    try {
      if (!readOnly) mkdirSync(dirname(options.path), { recursive: true });
      database = new BetterSqlite3(options.path, {
        readonly: readOnly,
        fileMustExist: readOnly,
        timeout: busyTimeoutMs,
      });
    } catch (error) {
      throw new AuditLogStoreError("open_failed", `${options.path}: ${messageOf(error)}`);
    }
    try {
      let migrationsApplied: number[] = [];
      if (readOnly) {
        const version = controlSchemaVersion(database);
        if (version < 1) throw new Error("it holds no audit log");
        if (version > CONTROL_SCHEMA_VERSION) {
          throw new Error(
            `it is at schema version ${version}, newer than this build knows (${CONTROL_SCHEMA_VERSION})`,
          );
        }
      } else {
        const mode = database.pragma("journal_mode = WAL", { simple: true });
        if (mode !== "wal") throw new Error(`journal mode ${String(mode)} instead of WAL`);
        database.pragma("synchronous = FULL");
        migrationsApplied = migrateControl(database, (options.nowMs ?? Date.now)());
      }
      return new SqliteAuditLogStore(database, options.path, verifyPageEntries, migrationsApplied);
    } catch (error) {
      database.close();
      if (error instanceof AuditLogStoreError) throw error;
      throw new AuditLogStoreError("open_failed", `${options.path}: ${messageOf(error)}`);
    }
  }

  async append(input: AuditEntryInput): Promise<AppendAuditResult> {
    this.checkOpen();
    if (this.appendInTransaction === undefined) {
      throw new AuditLogStoreError("read_only", `${this.path} was opened read-only`);
    }
    const refusal = refusalOf(input);
    if (refusal !== undefined) return refusal;
    try {
      return { ok: true, entry: this.appendInTransaction(input) };
    } catch (error) {
      throw new AuditLogStoreError("write_failed", messageOf(error));
    }
  }

  async read(fromSequence: number, limit: number): Promise<readonly AuditEntry[]> {
    this.checkOpen();
    checkReadRange(fromSequence, limit);
    return (this.selectPage.all(fromSequence, limit) as AuditEntryRow[]).map(auditEntryOfRow);
  }

  async head(): Promise<AuditHead> {
    this.checkOpen();
    return (this.selectHead.get() as AuditHead | undefined) ?? EMPTY_AUDIT_HEAD;
  }

  /**
   * Reads on a connection of its own inside one read transaction: WAL keeps its snapshot while
   * appenders go on, and this store's own appends do not join the transaction.
   */
  async verify(options: VerifyAuditOptions = {}): Promise<AuditVerification> {
    this.checkOpen();
    const reader = new BetterSqlite3(this.path, { readonly: true, fileMustExist: true });
    try {
      reader.exec("BEGIN");
      const head = reader.prepare("SELECT sequence, hash FROM audit_head WHERE id = 1").get() as
        | AuditHead
        | undefined;
      const page = reader.prepare(
        `SELECT ${AUDIT_ENTRY_COLUMNS} FROM audit_log WHERE sequence > ? ORDER BY sequence LIMIT ?`,
      );
      const verifier = new AuditChainVerifier({
        hashText: sha256Hex,
        // A missing head row stands for the empty head, which a non-empty log then contradicts.
        recordedHead: head ?? EMPTY_AUDIT_HEAD,
        ...(options.anchor === undefined ? {} : { anchor: options.anchor }),
      });
      let after = Number.MIN_SAFE_INTEGER;
      let read = 0;
      for (;;) {
        const rows = page.all(after, this.verifyPageEntries) as AuditEntryRow[];
        for (const row of rows) verifier.add(auditEntryOfRow(row));
        read += rows.length;
        options.onProgress?.(read);
        if (rows.length < this.verifyPageEntries) break;
        after = rows[rows.length - 1]!.sequence;
        await nextTurn();
      }
      reader.exec("COMMIT");
      return verifier.finish();
    } finally {
      reader.close();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.database.close();
  }

  private checkOpen(): void {
    if (this.closed) throw new AuditLogStoreError("closed", `${this.path} is closed`);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
