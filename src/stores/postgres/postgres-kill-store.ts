/**
 * The kill store on PostgreSQL, in the ledger's schema beside the audit log (migration 4 in
 * postgres-control-schema.ts), shared by any number of processes. A write is one transaction
 * that locks `kill_head` first (so kill writes serialise and the sequence has no gaps), writes or
 * clears the kill, appends the audit entry (its head locked last, as every appender does), and
 * calls `pg_notify` — which PostgreSQL delivers at COMMIT and never for a transaction that rolled
 * back, so a listener hears of a kill only once it can read it.
 *
 * `listen` holds one dedicated connection outside the pool with `LISTEN` on the schema's channel.
 * It signals on every notification, and again each time it re-establishes the connection after
 * losing it, because notifications sent in between are lost. Reconnection backs off from
 * `reconnectMinMs` to `reconnectMaxMs`; polling (kill-watcher.ts) covers the gap meanwhile.
 */

import pg from "pg";
import { refusalOf } from "../../control/audit-log.ts";
import type { AuditEntryInput } from "../../core/audit/audit-entry.ts";
import { KILL_LIMITS, type KillState } from "../../core/guard/kill.ts";
import {
  type ClearKillRequest,
  clearRefusalOf,
  type KillStore,
  KillStoreError,
  type KillStoreListener,
  type KillSubscription,
  type KillWriteResult,
  killClearedAuditEntry,
  killOfRow,
  killSetAuditEntry,
  type PublishKillRequest,
  publishRefusalOf,
  scopeJson,
} from "../../guard/kill-store.ts";
import { appendPostgresAuditEntry } from "./postgres-audit-append.ts";
import {
  CONTROL_POOL_OPTION_RANGES,
  controlClientConfig,
  openControlPool,
  resolveOptions,
} from "./postgres-control-pool.ts";
import { POSTGRES_SCHEMA_NAME } from "./postgres-int8.ts";
import { listenForLostConnection } from "./postgres-lost-connection.ts";

export interface PostgresKillStoreOptions {
  /** `postgres://user:password@host:port/database`. */
  readonly url: string;
  /** The schema holding the control tables (created if missing), the ledger's by default. */
  readonly schema?: string;
  /** Pooled connections this process holds for reads and writes (`listen` has its own). */
  readonly connectionsMax?: number;
  readonly connectTimeoutMs?: number;
  /** How long one statement may take, waiting for a row lock included. */
  readonly queryTimeoutMs?: number;
  /** The first wait before `listen` reconnects; doubled after each failure. */
  readonly reconnectMinMs?: number;
  readonly reconnectMaxMs?: number;
  /** Stamps the migration records only. */
  readonly nowMs?: () => number;
}

export const POSTGRES_KILL_STORE_DEFAULTS = {
  schema: "bursar",
  connectionsMax: 2,
  connectTimeoutMs: 5_000,
  queryTimeoutMs: 5_000,
  reconnectMinMs: 50,
  reconnectMaxMs: 2_000,
} as const;

const OPTION_RANGES = {
  ...CONTROL_POOL_OPTION_RANGES,
  reconnectMinMs: [1, 60_000],
  reconnectMaxMs: [1, 600_000],
} as const;

/** PostgreSQL's identifiers stop at 63 bytes; the channel is the schema's name and `_kills`. */
const CHANNEL_LENGTH_MAX = 63;

interface KillRow {
  sequence: number;
  scope_json: string;
  reason: string;
  actor: string;
  at_ms: number;
}

const KILL_COLUMNS = "sequence, scope_json, reason, actor, at_ms";

type Options = Required<Omit<PostgresKillStoreOptions, "nowMs">>;

export class PostgresKillStore implements KillStore {
  private closed = false;
  private readonly subscriptions = new Set<KillSubscription>();

  private constructor(
    private readonly pool: pg.Pool,
    private readonly options: Options,
    /** The notification channel: `<schema>_kills`. */
    readonly channel: string,
    /** Migrations applied at open. */
    readonly migrationsApplied: readonly number[],
  ) {}

  static async open(options: PostgresKillStoreOptions): Promise<PostgresKillStore> {
    const schema = options.schema ?? POSTGRES_KILL_STORE_DEFAULTS.schema;
    const channel = `${schema}_kills`;
    if (!POSTGRES_SCHEMA_NAME.test(schema) || channel.length > CHANNEL_LENGTH_MAX) {
      throw new KillStoreError(
        "open_failed",
        `schema ${schema} is not a plain lower-case name of at most ${CHANNEL_LENGTH_MAX - 6} characters`,
      );
    }
    const fail = (message: string) => new KillStoreError("open_failed", message);
    const given = resolveOptions(OPTION_RANGES, options, POSTGRES_KILL_STORE_DEFAULTS, fail);
    const resolved: Options = {
      url: options.url,
      schema,
      ...given,
      reconnectMaxMs: Math.max(given.reconnectMaxMs, given.reconnectMinMs),
    };
    const { pool, applied } = await openControlPool(
      { ...resolved, applicationName: "bursar-kills" },
      options.nowMs ?? Date.now,
      fail,
    );
    return new PostgresKillStore(pool, resolved, channel, applied);
  }

  async publishKill(request: PublishKillRequest): Promise<KillWriteResult> {
    this.checkOpen();
    const refusal = publishRefusalOf(request);
    if (refusal !== undefined) return refusal;
    return this.inTransaction(async (client) => {
      const sequence = (await lockHead(client)) + 1;
      const { rows } = await client.query<{ count: number }>(
        "SELECT count(*)::int AS count FROM kills WHERE cleared_sequence IS NULL",
      );
      const active = rows[0]!.count;
      if (active >= KILL_LIMITS.activeKillsMax) {
        return { ok: false, code: "too_many_kills", message: `${active} kills are active` };
      }
      const row: KillRow = {
        sequence,
        scope_json: scopeJson(request.scope),
        reason: request.reason,
        actor: request.actor,
        at_ms: request.atMs,
      };
      const kill = killOfRow(row);
      const entry = killSetAuditEntry(kill);
      const auditRefusal = auditRefusalOf(entry);
      if (auditRefusal !== undefined) return auditRefusal;
      await client.query(`INSERT INTO kills (${KILL_COLUMNS}) VALUES ($1, $2, $3, $4, $5)`, [
        row.sequence,
        row.scope_json,
        row.reason,
        row.actor,
        row.at_ms,
      ]);
      await this.finishWrite(client, sequence, entry);
      return { ok: true, kill, sequence };
    });
  }

  async clearKill(request: ClearKillRequest): Promise<KillWriteResult> {
    this.checkOpen();
    const refusal = clearRefusalOf(request);
    if (refusal !== undefined) return refusal;
    return this.inTransaction(async (client) => {
      const sequence = (await lockHead(client)) + 1;
      const { rows } = await client.query<KillRow>(
        `SELECT ${KILL_COLUMNS} FROM kills WHERE sequence = $1 AND cleared_sequence IS NULL`,
        [request.killSequence],
      );
      if (rows[0] === undefined) {
        return {
          ok: false,
          code: "kill_not_active",
          message: `kill ${request.killSequence} is not active`,
        };
      }
      const kill = killOfRow(rows[0]);
      const entry = killClearedAuditEntry(kill, request, sequence);
      const auditRefusal = auditRefusalOf(entry);
      if (auditRefusal !== undefined) return auditRefusal;
      await client.query(
        `UPDATE kills SET cleared_sequence = $1, cleared_actor = $2, cleared_at_ms = $3,
           cleared_reason = $4 WHERE sequence = $5`,
        [sequence, request.actor, request.atMs, request.reason, kill.sequence],
      );
      await this.finishWrite(client, sequence, entry);
      return { ok: true, kill, sequence };
    });
  }

  /** One statement, so one snapshot: the head and the active kills agree. */
  async readState(): Promise<KillState> {
    const rows = await this.read<KillRow & { head: number }>(
      `SELECT head.sequence AS head, ${KILL_COLUMNS.split(", ")
        .map((column) => `kills.${column}`)
        .join(", ")}
       FROM kill_head AS head LEFT JOIN kills ON kills.cleared_sequence IS NULL
       WHERE head.id = 1 ORDER BY kills.sequence`,
    );
    if (rows[0] === undefined) throw new KillStoreError("read_failed", "kill_head's row is gone");
    return {
      sequence: rows[0].head,
      active: rows.filter((row) => row.sequence !== null).map(killOfRow),
    };
  }

  async readSequence(): Promise<number> {
    const rows = await this.read<{ sequence: number }>(
      "SELECT sequence FROM kill_head WHERE id = 1",
    );
    if (rows[0] === undefined) throw new KillStoreError("read_failed", "kill_head's row is gone");
    return rows[0].sequence;
  }

  async listen(listener: KillStoreListener): Promise<KillSubscription> {
    this.checkOpen();
    const subscription = new KillChannelListener(this.options, this.channel, listener);
    this.subscriptions.add(subscription);
    await subscription.start();
    return {
      stop: async () => {
        this.subscriptions.delete(subscription);
        await subscription.stop();
      },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((subscription) => subscription.stop()));
    this.subscriptions.clear();
    await this.pool.end();
  }

  /** The head moved, the audit entry appended (its head locked last), the notification queued. */
  private async finishWrite(
    client: pg.PoolClient,
    sequence: number,
    entry: AuditEntryInput,
  ): Promise<void> {
    await client.query("UPDATE kill_head SET sequence = $1 WHERE id = 1", [sequence]);
    await appendPostgresAuditEntry(client, entry);
    await client.query("SELECT pg_notify($1, $2)", [this.channel, String(sequence)]);
  }

  private async inTransaction(
    write: (client: pg.PoolClient) => Promise<KillWriteResult>,
  ): Promise<KillWriteResult> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw new KillStoreError("write_failed", messageOf(error));
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
      throw new KillStoreError("write_failed", messageOf(error));
    } finally {
      stopListening();
      // A connection whose transaction failed is not trusted again.
      client.release(broken);
    }
  }

  private async read<Row extends pg.QueryResultRow>(sql: string): Promise<Row[]> {
    this.checkOpen();
    try {
      return (await this.pool.query<Row>(sql)).rows;
    } catch (error) {
      throw new KillStoreError("read_failed", messageOf(error));
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new KillStoreError("closed", "the PostgreSQL kill store is closed");
  }
}

/**
 * One dedicated connection with `LISTEN`, re-established with back-off whenever it is lost. It
 * signals after every (re)connection as well as on every notification.
 */
class KillChannelListener implements KillSubscription {
  private client: pg.Client | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private delayMs: number;
  private stopped = false;

  constructor(
    private readonly options: Options,
    private readonly channel: string,
    private readonly listener: KillStoreListener,
  ) {
    this.delayMs = options.reconnectMinMs;
  }

  /** The first attempt; a failure leaves it retrying in the background (polling covers it). */
  async start(): Promise<void> {
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({
      ...controlClientConfig(this.options),
      application_name: "bursar-kills-listen",
      // A dead link with no traffic is otherwise noticed only by the next notification.
      keepAlive: true,
    });
    let lost = false;
    const onLost = () => {
      if (lost) return;
      lost = true;
      client.removeAllListeners("notification");
      client.end().catch(() => {});
      if (this.client === client) this.client = undefined;
      this.retry();
    };
    client.on("error", onLost);
    client.on("end", onLost);
    client.on("notification", (message) => {
      if (message.channel === this.channel) this.listener.onSignal();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${this.channel}`);
    } catch {
      onLost();
      return;
    }
    if (this.stopped) {
      client.removeAllListeners("end");
      await client.end().catch(() => {});
      return;
    }
    this.client = client;
    this.delayMs = this.options.reconnectMinMs;
    // Whatever was notified while no connection listened is lost: read the state again.
    this.listener.onSignal();
  }

  private retry(): void {
    if (this.stopped || this.retryTimer !== undefined) return;
    const delayMs = this.delayMs;
    this.delayMs = Math.min(this.delayMs * 2, this.options.reconnectMaxMs);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.connect();
    }, delayMs);
  }
}

async function lockHead(client: pg.PoolClient): Promise<number> {
  const { rows } = await client.query<{ sequence: number }>(
    "SELECT sequence FROM kill_head WHERE id = 1 FOR UPDATE",
  );
  if (rows[0] === undefined) throw new Error("kill_head's row is gone");
  return rows[0].sequence;
}

function auditRefusalOf(entry: AuditEntryInput): KillWriteResult | undefined {
  const refusal = refusalOf(entry);
  return refusal === undefined || refusal.ok
    ? undefined
    : { ok: false, code: "audit_refused", message: `${refusal.code}: ${refusal.message}` };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
