/**
 * The API token store in the control plane's SQLite file (`control.sqlite`, beside the audit log;
 * migration 7 in sqlite-control-schema.ts). Every write is one `BEGIN IMMEDIATE` transaction: the
 * checks against what is stored, the row, the audit entry — whole or absent, serialised with every
 * other writer of the file (so two processes' `createFirst` make one token), on disk before it
 * returns (WAL, `synchronous = FULL`).
 */
import type BetterSqlite3 from "better-sqlite3";
import {
  API_TOKEN_COLUMNS,
  type ApiTokenListOptions,
  type ApiTokenRecord,
  type ApiTokenRow,
  type ApiTokenStore,
  ApiTokenStoreError,
  type ApiTokenWriteResult,
  apiTokenListLimitOf,
  apiTokenOfRow,
  apiTokenRowOf,
  apiTokenRowValues,
  type CreateApiTokenRequest,
  createRefusalOf,
  type RevokeApiTokenRequest,
  revokeMissRefusal,
  revokeRefusalOf,
  tokenCreatedAuditEntry,
  tokenIdTakenRefusal,
  tokenRevokedAuditEntry,
  tokensExistRefusal,
  tooManyTokensRefusal,
} from "../../control/api-token-store.ts";
import { API_TOKEN_LIMITS, isApiTokenId } from "../../core/access/api-token.ts";
import { prepareSqliteAuditAppend } from "./sqlite-audit-append.ts";
import { openControlDatabase } from "./sqlite-control-schema.ts";

export interface SqliteApiTokenStoreOptions {
  /** The control database, `<data dir>/control.sqlite`; created with its folder if missing. */
  readonly path: string;
  /** How long a write waits for another process's transaction before it fails. */
  readonly busyTimeoutMs?: number;
  /** Stamps the migration records only. */
  readonly nowMs?: () => number;
}

export const SQLITE_API_TOKEN_STORE_DEFAULTS = { busyTimeoutMs: 10_000 } as const;

export class SqliteApiTokenStore implements ApiTokenStore {
  private closed = false;
  private readonly createStep: (
    request: CreateApiTokenRequest,
    first: boolean,
  ) => ApiTokenWriteResult;
  private readonly revokeStep: (request: RevokeApiTokenRequest) => ApiTokenWriteResult;
  private readonly selectOne: BetterSqlite3.Statement;
  private readonly selectNewest: BetterSqlite3.Statement;
  private readonly selectNewestActive: BetterSqlite3.Statement;

  private constructor(
    private readonly database: BetterSqlite3.Database,
    private readonly path: string,
    /** Migrations applied at open. */
    readonly migrationsApplied: readonly number[],
  ) {
    const prepare = (sql: string) => database.prepare(sql);
    this.selectOne = prepare(`SELECT ${API_TOKEN_COLUMNS} FROM api_tokens WHERE id = ?`);
    this.selectNewest = prepare(
      `SELECT ${API_TOKEN_COLUMNS} FROM api_tokens ORDER BY position DESC LIMIT ?`,
    );
    this.selectNewestActive = prepare(
      `SELECT ${API_TOKEN_COLUMNS} FROM api_tokens WHERE revoked_at_ms IS NULL
       ORDER BY position DESC LIMIT ?`,
    );
    const selectAny = prepare("SELECT 1 AS found FROM api_tokens LIMIT 1");
    const countActive = prepare(
      "SELECT count(*) AS count FROM api_tokens WHERE revoked_at_ms IS NULL",
    );
    const insert = prepare(
      `INSERT INTO api_tokens (${API_TOKEN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const markRevoked = prepare(
      `UPDATE api_tokens SET revoked_at_ms = ?, revoked_by = ?
       WHERE id = ? AND revoked_at_ms IS NULL`,
    );
    const appendAudit = prepareSqliteAuditAppend(database);

    // Nothing is written before the checks, so a refusal commits an empty transaction.
    const create = database.transaction(
      (request: CreateApiTokenRequest, first: boolean): ApiTokenWriteResult => {
        if (first && selectAny.get() !== undefined) return tokensExistRefusal();
        const { record } = request;
        if (this.selectOne.get(record.id) !== undefined) return tokenIdTakenRefusal(record.id);
        const active = (countActive.get() as { count: number }).count;
        if (active >= API_TOKEN_LIMITS.activeTokensMax) return tooManyTokensRefusal(active);
        const row = apiTokenRowOf(record);
        insert.run(...apiTokenRowValues(row));
        appendAudit(tokenCreatedAuditEntry(record));
        return { ok: true, record: apiTokenOfRow(row) };
      },
    );
    const revoke = database.transaction((request: RevokeApiTokenRequest): ApiTokenWriteResult => {
      const row = this.selectOne.get(request.id) as ApiTokenRow | undefined;
      const record = row === undefined ? undefined : apiTokenOfRow(row);
      if (record === undefined || record.revokedAtMs !== null) {
        return revokeMissRefusal(request.id, record);
      }
      markRevoked.run(request.atMs, request.actor, request.id);
      appendAudit(tokenRevokedAuditEntry(record, request));
      return {
        ok: true,
        record: { ...record, revokedAtMs: request.atMs, revokedBy: request.actor },
      };
    });
    this.createStep = (request, first) => create.immediate(request, first);
    this.revokeStep = (request) => revoke.immediate(request);
  }

  static open(options: SqliteApiTokenStoreOptions): SqliteApiTokenStore {
    const { database, applied } = openControlDatabase(
      options.path,
      options.busyTimeoutMs ?? SQLITE_API_TOKEN_STORE_DEFAULTS.busyTimeoutMs,
      options.nowMs ?? Date.now,
      (message) => new ApiTokenStoreError("open_failed", message),
    );
    return new SqliteApiTokenStore(database, options.path, applied);
  }

  async create(request: CreateApiTokenRequest): Promise<ApiTokenWriteResult> {
    return this.createChecked(request, false);
  }

  async createFirst(request: CreateApiTokenRequest): Promise<ApiTokenWriteResult> {
    return this.createChecked(request, true);
  }

  async revoke(request: RevokeApiTokenRequest): Promise<ApiTokenWriteResult> {
    this.checkOpen();
    const refusal = revokeRefusalOf(request);
    if (refusal !== undefined) return refusal;
    if (!isApiTokenId(request.id)) return revokeMissRefusal(request.id, undefined);
    return this.write(() => this.revokeStep(request));
  }

  async find(id: string): Promise<ApiTokenRecord | undefined> {
    this.checkOpen();
    if (!isApiTokenId(id)) return undefined;
    const row = this.read(() => this.selectOne.get(id) as ApiTokenRow | undefined);
    return row === undefined ? undefined : apiTokenOfRow(row);
  }

  async list(options: ApiTokenListOptions): Promise<ApiTokenRecord[]> {
    this.checkOpen();
    const limit = apiTokenListLimitOf(options.limit);
    const statement = options.includeRevoked ? this.selectNewest : this.selectNewestActive;
    return this.read(() => statement.all(limit) as ApiTokenRow[]).map(apiTokenOfRow);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.database.close();
  }

  private async createChecked(
    request: CreateApiTokenRequest,
    first: boolean,
  ): Promise<ApiTokenWriteResult> {
    this.checkOpen();
    const refusal = createRefusalOf(request);
    if (refusal !== undefined) return refusal;
    return this.write(() => this.createStep(request, first));
  }

  private write(step: () => ApiTokenWriteResult): ApiTokenWriteResult {
    try {
      return step();
    } catch (error) {
      throw new ApiTokenStoreError("write_failed", messageOf(error));
    }
  }

  private read<T>(query: () => T): T {
    try {
      return query();
    } catch (error) {
      throw new ApiTokenStoreError("read_failed", messageOf(error));
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new ApiTokenStoreError("closed", `${this.path} is closed`);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
