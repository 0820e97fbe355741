/**
 * The API token store on PostgreSQL, beside the audit log in the ledger's schema (migration 7 of
 * postgres-control-schema.ts), shared by any number of processes. Each write is one transaction
 * that takes its locks in one order — a create the table (`SHARE ROW EXCLUSIVE`: creates queue on
 * it, reads do not), a revocation its token's row — then the audit log's head last, as every
 * appender does, so writers never deadlock. Under the table lock "no token exists yet" and "fewer
 * than the most unrevoked tokens" stay true until the create commits: two processes starting at
 * once on an empty store make one first token. A write returns after COMMIT.
 */

import type pg from "pg";
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
import { appendPostgresAuditEntry } from "./postgres-audit-append.ts";
import {
  CONTROL_POOL_OPTION_RANGES,
  openControlPool,
  resolveOptions,
} from "./postgres-control-pool.ts";
import { POSTGRES_SCHEMA_NAME } from "./postgres-int8.ts";
import { listenForLostConnection } from "./postgres-lost-connection.ts";

export interface PostgresApiTokenStoreOptions {
  /** `postgres://user:password@host:port/database`. */
  readonly url: string;
  /** The schema holding the control tables (created if missing), the ledger's by default. */
  readonly schema?: string;
  /** Connections this process holds; calls beyond them wait for one. */
  readonly connectionsMax?: number;
  readonly connectTimeoutMs?: number;
  /** How long one statement may take, waiting for a lock included. */
  readonly queryTimeoutMs?: number;
  /** Stamps the migration records only. */
  readonly nowMs?: () => number;
}

export const POSTGRES_API_TOKEN_STORE_DEFAULTS = {
  schema: "bursar",
  connectionsMax: 2,
  connectTimeoutMs: 5_000,
  queryTimeoutMs: 5_000,
} as const;

const VALUES = "$1, $2, $3, $4, $5, $6, $7, $8, $9";

export class PostgresApiTokenStore implements ApiTokenStore {
  private closed = false;

  private constructor(
    private readonly pool: pg.Pool,
    /** Migrations applied at open. */
    readonly migrationsApplied: readonly number[],
  ) {}

  static async open(options: PostgresApiTokenStoreOptions): Promise<PostgresApiTokenStore> {
    const schema = options.schema ?? POSTGRES_API_TOKEN_STORE_DEFAULTS.schema;
    if (!POSTGRES_SCHEMA_NAME.test(schema)) {
      throw new ApiTokenStoreError(
        "open_failed",
        `schema ${schema} is not a plain lower-case name`,
      );
    }
    const fail = (message: string) => new ApiTokenStoreError("open_failed", message);
    const resolved = resolveOptions(
      CONTROL_POOL_OPTION_RANGES,
      options,
      POSTGRES_API_TOKEN_STORE_DEFAULTS,
      fail,
    );
    const { pool, applied } = await openControlPool(
      { url: options.url, schema, ...resolved, applicationName: "bursar-api-tokens" },
      options.nowMs ?? Date.now,
      fail,
    );
    return new PostgresApiTokenStore(pool, applied);
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
    return this.inTransaction(async (client) => {
      const { rows } = await client.query<ApiTokenRow>(
        `SELECT ${API_TOKEN_COLUMNS} FROM api_tokens WHERE id = $1 FOR UPDATE`,
        [request.id],
      );
      const record = rows[0] === undefined ? undefined : apiTokenOfRow(rows[0]);
      if (record === undefined || record.revokedAtMs !== null) {
        return revokeMissRefusal(request.id, record);
      }
      await client.query(
        "UPDATE api_tokens SET revoked_at_ms = $1, revoked_by = $2 WHERE id = $3",
        [request.atMs, request.actor, request.id],
      );
      await appendPostgresAuditEntry(client, tokenRevokedAuditEntry(record, request));
      return {
        ok: true,
        record: { ...record, revokedAtMs: request.atMs, revokedBy: request.actor },
      };
    });
  }

  async find(id: string): Promise<ApiTokenRecord | undefined> {
    this.checkOpen();
    if (!isApiTokenId(id)) return undefined;
    const rows = await this.read<ApiTokenRow>(
      `SELECT ${API_TOKEN_COLUMNS} FROM api_tokens WHERE id = $1`,
      [id],
    );
    return rows[0] === undefined ? undefined : apiTokenOfRow(rows[0]);
  }

  async list(options: ApiTokenListOptions): Promise<ApiTokenRecord[]> {
    this.checkOpen();
    const limit = apiTokenListLimitOf(options.limit);
    const where = options.includeRevoked ? "" : "WHERE revoked_at_ms IS NULL";
    const rows = await this.read<ApiTokenRow>(
      `SELECT ${API_TOKEN_COLUMNS} FROM api_tokens ${where} ORDER BY position DESC LIMIT $1`,
      [limit],
    );
    return rows.map(apiTokenOfRow);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  private async createChecked(
    request: CreateApiTokenRequest,
    first: boolean,
  ): Promise<ApiTokenWriteResult> {
    this.checkOpen();
    const refusal = createRefusalOf(request);
    if (refusal !== undefined) return refusal;
    const { record } = request;
    return this.inTransaction(async (client) => {
      await client.query("LOCK TABLE api_tokens IN SHARE ROW EXCLUSIVE MODE");
      const { rows } = await client.query<{ tokens: number; active: number; taken: number }>(
        `SELECT count(*)::int AS tokens,
           (count(*) FILTER (WHERE revoked_at_ms IS NULL))::int AS active,
           (count(*) FILTER (WHERE id = $1))::int AS taken
         FROM api_tokens`,
        [record.id],
      );
      const { tokens, active, taken } = rows[0]!;
      if (first && tokens > 0) return tokensExistRefusal();
      if (taken > 0) return tokenIdTakenRefusal(record.id);
      if (active >= API_TOKEN_LIMITS.activeTokensMax) return tooManyTokensRefusal(active);
      const row = apiTokenRowOf(record);
      await client.query(
        `INSERT INTO api_tokens (${API_TOKEN_COLUMNS}) VALUES (${VALUES})`,
        apiTokenRowValues(row),
      );
      await appendPostgresAuditEntry(client, tokenCreatedAuditEntry(record));
      return { ok: true, record: apiTokenOfRow(row) };
    });
  }

  private async inTransaction(
    write: (client: pg.PoolClient) => Promise<ApiTokenWriteResult>,
  ): Promise<ApiTokenWriteResult> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw new ApiTokenStoreError("write_failed", messageOf(error));
    }
    const stopListening = listenForLostConnection(client);
    let broken: Error | undefined;
    try {
      await client.query("BEGIN");
      const result = await write(client);
      await client.query(result.ok ? "COMMIT" : "ROLLBACK");
      return result;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      broken = error instanceof Error ? error : new Error(String(error));
      throw new ApiTokenStoreError("write_failed", messageOf(error));
    } finally {
      stopListening();
      // A connection whose transaction failed is not trusted again.
      client.release(broken);
    }
  }

  private async read<Row extends pg.QueryResultRow>(
    sql: string,
    values: readonly unknown[],
  ): Promise<Row[]> {
    try {
      return (await this.pool.query<Row>(sql, [...values])).rows;
    } catch (error) {
      throw new ApiTokenStoreError("read_failed", messageOf(error));
    }
  }

  private checkOpen(): void {
    if (this.closed)
      throw new ApiTokenStoreError("closed", "the PostgreSQL api token store is closed");
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
