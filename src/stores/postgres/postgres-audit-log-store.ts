/**
 * The audit log on PostgreSQL, shared by any number of processes. Each append is one
 * transaction that locks the head row (`SELECT … FOR UPDATE`), writes the entry and moves the
 * head: appenders in every process queue on that row lock, so they form one chain and no
 * sequence is taken twice. An append returns after COMMIT.
 */
import pg from "pg";
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
import { appendPostgresAuditEntry } from "./postgres-audit-append.ts";
import {
  migratePostgresControl,
  POSTGRES_CONTROL_SCHEMA_VERSION,
  postgresControlSchemaVersion,
} from "./postgres-control-schema.ts";
import { INT8_AS_NUMBER_TYPES, POSTGRES_SCHEMA_NAME } from "./postgres-int8.ts";
import { listenForLostConnection } from "./postgres-lost-connection.ts";

export interface PostgresAuditLogStoreOptions {
  /** `postgres://user:password@host:port/database`. */
  readonly url: string;
  /** The schema holding the control tables (created if missing), the ledger's by default. */
  readonly schema?: string;
  /** Opens existing tables without migrating or writing (`bursar audit`). */
  readonly readOnly?: boolean;
  /** Connections this process holds; appends beyond them wait for one. */
  readonly connectionsMax?: number;
  readonly connectTimeoutMs?: number;
  /** How long one statement may take, waiting for the head row's lock included. */
  readonly queryTimeoutMs?: number;
  /** Entries `verify` reads per page. */
  readonly verifyPageEntries?: number;
  /** Stamps the migration records only; entries carry the appender's `at`. */
  readonly nowMs?: () => number;
}

export const POSTGRES_AUDIT_LOG_DEFAULTS = {
  schema: "bursar",
  connectionsMax: 2,
  connectTimeoutMs: 5_000,
  queryTimeoutMs: 30_000,
  verifyPageEntries: 10_000,
} as const;

const OPTION_RANGES = {
  connectionsMax: [1, 100],
  connectTimeoutMs: [1, 600_000],
  queryTimeoutMs: [1, 3_600_000],
  verifyPageEntries: [1, 1_000_000],
} as const;

export class PostgresAuditLogStore implements AuditLogStore {
  private closed = false;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly readOnly: boolean,
    private readonly verifyPageEntries: number,
    /** Migrations applied at open. */
    readonly migrationsApplied: readonly number[],
  ) {}

  static async open(options: PostgresAuditLogStoreOptions): Promise<PostgresAuditLogStore> {
    const schema = options.schema ?? POSTGRES_AUDIT_LOG_DEFAULTS.schema;
    if (!POSTGRES_SCHEMA_NAME.test(schema)) {
      throw new AuditLogStoreError(
        "open_failed",
        `schema ${schema} is not a plain lower-case name`,
      );
    }
    const option = (name: keyof typeof OPTION_RANGES): number => {
      const [minimum, maximum] = OPTION_RANGES[name];
      const value = options[name] ?? POSTGRES_AUDIT_LOG_DEFAULTS[name];
      if (!Number.isSafeInteger(value) || value < minimum || value > maximum) {
        throw new AuditLogStoreError(
          "open_failed",
          `${name} ${value} is not within ${minimum}..${maximum}`,
        );
      }
      return value;
    };
    const readOnly = options.readOnly ?? false;
    const config: pg.PoolConfig = {
      connectionString: options.url,
      connectionTimeoutMillis: option("connectTimeoutMs"),
      query_timeout: option("queryTimeoutMs"),
      options: `-c search_path=${schema}`,
      types: INT8_AS_NUMBER_TYPES,
      application_name: "bursar-audit",
      max: option("connectionsMax"),
    };
    const verifyPageEntries = option("verifyPageEntries");
    const pool = new pg.Pool(config);
    // An idle connection that breaks is dropped by the pool; a query on it fails on its own.
    pool.on("error", () => {});
    try {
      const client = await pool.connect();
      let migrationsApplied: number[] = [];
      try {
        if (readOnly) {
          const version = await postgresControlSchemaVersion(client, schema);
          if (version < 1) throw new Error(`schema ${schema} holds no audit log`);
          if (version > POSTGRES_CONTROL_SCHEMA_VERSION) {
            throw new Error(
              `the control tables in ${schema} are at version ${version}, newer than this build knows (${POSTGRES_CONTROL_SCHEMA_VERSION})`,
            );
          }
        } else {
          migrationsApplied = await migratePostgresControl(
            client,
            schema,
            (options.nowMs ?? Date.now)(),
          );
        }
      } finally {
        client.release();
      }
      return new PostgresAuditLogStore(pool, readOnly, verifyPageEntries, migrationsApplied);
    } catch (error) {
      await pool.end().catch(() => {});
      throw new AuditLogStoreError("open_failed", messageOf(error));
    }
  }

  async append(input: AuditEntryInput): Promise<AppendAuditResult> {
    this.checkOpen();
    if (this.readOnly) throw new AuditLogStoreError("read_only", "the store was opened read-only");
    const refusal = refusalOf(input);
    if (refusal !== undefined) return refusal;
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw new AuditLogStoreError("write_failed", messageOf(error));
    }
    const stopListening = listenForLostConnection(client);
    let broken: Error | undefined;
    try {
      await client.query("BEGIN");
      const entry = await appendPostgresAuditEntry(client, input);
      await client.query("COMMIT");
      return { ok: true, entry };
    } catch (error) {
      broken = error instanceof Error ? error : new Error(String(error));
      await client.query("ROLLBACK").catch(() => {});
      throw new AuditLogStoreError("write_failed", messageOf(error));
    } finally {
      stopListening();
      // A connection whose transaction failed is not trusted again.
      client.release(broken);
    }
  }

  async read(fromSequence: number, limit: number): Promise<readonly AuditEntry[]> {
    this.checkOpen();
    checkReadRange(fromSequence, limit);
    const { rows } = await this.pool.query<AuditEntryRow>(
      `SELECT ${AUDIT_ENTRY_COLUMNS} FROM audit_log WHERE sequence >= $1 ORDER BY sequence LIMIT $2`,
      [fromSequence, limit],
    );
    return rows.map(auditEntryOfRow);
  }

  async head(): Promise<AuditHead> {
    this.checkOpen();
    const { rows } = await this.pool.query<AuditHead>(
      "SELECT sequence, hash FROM audit_head WHERE id = 1",
    );
    return rows[0] ?? EMPTY_AUDIT_HEAD;
  }

  /** One REPEATABLE READ snapshot: the head and every entry as they stood together. */
  async verify(options: VerifyAuditOptions = {}): Promise<AuditVerification> {
    this.checkOpen();
    const client = await this.pool.connect();
    const stopListening = listenForLostConnection(client);
    try {
      await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
      const { rows: heads } = await client.query<AuditHead>(
        "SELECT sequence, hash FROM audit_head WHERE id = 1",
      );
      const verifier = new AuditChainVerifier({
        hashText: sha256Hex,
        // A missing head row stands for the empty head, which a non-empty log then contradicts.
        recordedHead: heads[0] ?? EMPTY_AUDIT_HEAD,
        ...(options.anchor === undefined ? {} : { anchor: options.anchor }),
      });
      let after = Number.MIN_SAFE_INTEGER;
      let read = 0;
      for (;;) {
        const { rows } = await client.query<AuditEntryRow>(
          `SELECT ${AUDIT_ENTRY_COLUMNS} FROM audit_log WHERE sequence > $1 ORDER BY sequence LIMIT $2`,
          [after, this.verifyPageEntries],
        );
        for (const row of rows) verifier.add(auditEntryOfRow(row));
        read += rows.length;
        options.onProgress?.(read);
        if (rows.length < this.verifyPageEntries) break;
        after = rows[rows.length - 1]!.sequence;
      }
      await client.query("COMMIT");
      stopListening();
      client.release();
      return verifier.finish();
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      stopListening();
      client.release(error instanceof Error ? error : new Error(String(error)));
      throw error;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  private checkOpen(): void {
    if (this.closed) throw new AuditLogStoreError("closed", "the PostgreSQL audit log is closed");
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
