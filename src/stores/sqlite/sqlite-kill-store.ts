/**
 * The kill store in the control plane's SQLite file (`control.sqlite`, beside the audit log and
 * the change requests; migration 4 in sqlite-control-schema.ts). Every write is one
 * `BEGIN IMMEDIATE` transaction: move `kill_head`'s sequence, write or clear the kill, append the
 * audit entry — whole or absent, serialised with every other writer of the file, on disk before
 * it returns (WAL, `synchronous = FULL`). A file has no notifications: watchers in other processes
 * learn of a kill by polling `readSequence`, one indexed row.
 */
import type BetterSqlite3 from "better-sqlite3";
import { refusalOf } from "../../control/audit-log.ts";
import type { AuditEntryInput } from "../../core/audit/audit-entry.ts";
import { KILL_LIMITS, type KillState } from "../../core/guard/kill.ts";
import {
  type ClearKillRequest,
  clearRefusalOf,
  type KillStore,
  KillStoreError,
  type KillWriteResult,
  killClearedAuditEntry,
  killOfRow,
  killSetAuditEntry,
  type PublishKillRequest,
  publishRefusalOf,
  scopeJson,
} from "../../guard/kill-store.ts";
import { prepareSqliteAuditAppend } from "./sqlite-audit-append.ts";
import { openControlDatabase } from "./sqlite-control-schema.ts";

export interface SqliteKillStoreOptions {
  /** The control database, `<data dir>/control.sqlite`; created with its folder if missing. */
  readonly path: string;
  /** How long a write waits for another process's transaction before it fails. */
  readonly busyTimeoutMs?: number;
  /** Stamps the migration records only. */
  readonly nowMs?: () => number;
}

export const SQLITE_KILL_STORE_DEFAULTS = { busyTimeoutMs: 10_000 } as const;

interface KillRow {
  sequence: number;
  scope_json: string;
  reason: string;
  actor: string;
  at_ms: number;
}

const KILL_COLUMNS = "sequence, scope_json, reason, actor, at_ms";

export class SqliteKillStore implements KillStore {
  private closed = false;
  private readonly publishStep: (request: PublishKillRequest) => KillWriteResult;
  private readonly clearStep: (request: ClearKillRequest) => KillWriteResult;
  private readonly readStateStep: () => KillState;
  private readonly selectSequence: BetterSqlite3.Statement;

  private constructor(
    private readonly database: BetterSqlite3.Database,
    private readonly path: string,
    /** Migrations applied at open. */
    readonly migrationsApplied: readonly number[],
  ) {
    const prepare = (sql: string) => database.prepare(sql);
    this.selectSequence = prepare("SELECT sequence FROM kill_head WHERE id = 1");
    const moveHead = prepare("UPDATE kill_head SET sequence = ? WHERE id = 1");
    const countActive = prepare(
      "SELECT count(*) AS count FROM kills WHERE cleared_sequence IS NULL",
    );
    const selectActive = prepare(
      `SELECT ${KILL_COLUMNS} FROM kills WHERE cleared_sequence IS NULL ORDER BY sequence`,
    );
    const selectActiveOne = prepare(
      `SELECT ${KILL_COLUMNS} FROM kills WHERE sequence = ? AND cleared_sequence IS NULL`,
    );
    const insertKill = prepare(`INSERT INTO kills (${KILL_COLUMNS}) VALUES (?, ?, ?, ?, ?)`);
    const clearKill = prepare(
      `UPDATE kills SET cleared_sequence = ?, cleared_actor = ?, cleared_at_ms = ?, cleared_reason = ?
       WHERE sequence = ? AND cleared_sequence IS NULL`,
    );
    const appendAudit = prepareSqliteAuditAppend(database);
    const headSequence = () => (this.selectSequence.get() as { sequence: number }).sequence;
    const audited = (entry: AuditEntryInput): KillWriteResult | undefined => {
      const refusal = refusalOf(entry);
      return refusal === undefined || refusal.ok
        ? undefined
        : { ok: false, code: "audit_refused", message: `${refusal.code}: ${refusal.message}` };
    };

    // Nothing is written before the checks, so a refusal commits an empty transaction.
    const publish = database.transaction((request: PublishKillRequest): KillWriteResult => {
      const active = (countActive.get() as { count: number }).count;
      if (active >= KILL_LIMITS.activeKillsMax) {
        return { ok: false, code: "too_many_kills", message: `${active} kills are active` };
      }
      const sequence = headSequence() + 1;
      const row = {
        sequence,
        scope_json: scopeJson(request.scope),
        reason: request.reason,
        actor: request.actor,
        at_ms: request.atMs,
      };
      const kill = killOfRow(row);
      const entry = killSetAuditEntry(kill);
      const refusal = audited(entry);
      if (refusal !== undefined) return refusal;
      insertKill.run(row.sequence, row.scope_json, row.reason, row.actor, row.at_ms);
      moveHead.run(sequence);
      appendAudit(entry);
      return { ok: true, kill, sequence };
    });
    const clear = database.transaction((request: ClearKillRequest): KillWriteResult => {
      const row = selectActiveOne.get(request.killSequence) as KillRow | undefined;
      if (row === undefined) {
        return {
          ok: false,
          code: "kill_not_active",
          message: `kill ${request.killSequence} is not active`,
        };
      }
      const kill = killOfRow(row);
      const sequence = headSequence() + 1;
      const entry = killClearedAuditEntry(kill, request, sequence);
      const refusal = audited(entry);
      if (refusal !== undefined) return refusal;
      clearKill.run(sequence, request.actor, request.atMs, request.reason, kill.sequence);
      moveHead.run(sequence);
      appendAudit(entry);
      return { ok: true, kill, sequence };
    });
    this.publishStep = (request) => publish.immediate(request);
    this.clearStep = (request) => clear.immediate(request);
    // A deferred transaction is one read snapshot in WAL: the head and the kills agree.
    const readState = database.transaction(
      (): KillState => ({
        sequence: headSequence(),
        active: (selectActive.all() as KillRow[]).map(killOfRow),
      }),
    );
    this.readStateStep = () => readState.deferred();
  }

  static open(options: SqliteKillStoreOptions): SqliteKillStore {
    const { database, applied } = openControlDatabase(
      options.path,
      options.busyTimeoutMs ?? SQLITE_KILL_STORE_DEFAULTS.busyTimeoutMs,
      options.nowMs ?? Date.now,
      (message) => new KillStoreError("open_failed", message),
    );
    return new SqliteKillStore(database, options.path, applied);
  }

  async publishKill(request: PublishKillRequest): Promise<KillWriteResult> {
    this.checkOpen();
    const refusal = publishRefusalOf(request);
    if (refusal !== undefined) return refusal;
    return this.write(() => this.publishStep(request));
  }

  async clearKill(request: ClearKillRequest): Promise<KillWriteResult> {
    this.checkOpen();
    const refusal = clearRefusalOf(request);
    if (refusal !== undefined) return refusal;
    return this.write(() => this.clearStep(request));
  }

  async readState(): Promise<KillState> {
    return this.read(this.readStateStep);
  }

  async readSequence(): Promise<number> {
    return this.read(() => (this.selectSequence.get() as { sequence: number }).sequence);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.database.close();
  }

  private write(step: () => KillWriteResult): KillWriteResult {
    try {
      return step();
    } catch (error) {
      throw new KillStoreError("write_failed", messageOf(error));
    }
  }

  private read<T>(query: () => T): T {
    this.checkOpen();
    try {
      return query();
    } catch (error) {
      throw new KillStoreError("read_failed", messageOf(error));
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new KillStoreError("closed", `${this.path} is closed`);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
