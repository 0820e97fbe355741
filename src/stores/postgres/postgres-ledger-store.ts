/**
 * The ledger store on PostgreSQL: any number of processes on one database, each deciding with
 * the ledger book over rows it locks (postgres-ledger-batch.ts), many calls per transaction
 * (group commit). Calls queue while a transaction is in flight; the next takes up to
 * `batchSizeMax` requests. A call's promise settles only after its transaction has committed.
 *
 * Failures are `LedgerStoreError`s, which the service turns into `ledger_unavailable`: a
 * transaction that fails writes nothing (`write_failed`); a connection lost while COMMIT was in
 * flight may or may not have committed (`commit_unknown`), and a retry with the same ids is
 * safe because every write is keyed by the payment and refund ids.
 */
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import pg from "pg";
import {
  assembleImpactReport,
  type ImpactQuery,
  type ImpactReport,
  impactQueryProblem,
} from "../../core/ledger/impact-report.ts";
import type { AccountBalance } from "../../core/ledger/ledger-book.ts";
import {
  LedgerAudit,
  type LedgerVerification,
  type SubsidyRowPart,
} from "../../core/ledger/ledger-verification.ts";
import { checkLedgerCall } from "../../ledger/check-ledger-call.ts";
import {
  type LedgerImpactReader,
  UNCOMMITTED_PAGE_MAX,
  type UncommittedPayment,
} from "../../ledger/ledger-impact-reader.ts";
import { LedgerStoreError } from "../../ledger/ledger-store-error.ts";
import {
  type BatchCall,
  QueuedLedgerStore,
  storeOption,
} from "../../ledger/queued-ledger-store.ts";
import {
  IMPACT_GROUPS_SQL_GROUPING_SETS,
  type ImpactGroupSqlRow,
  impactAmountColumns,
  impactGroupOf,
} from "../ledger-impact-sql.ts";
import {
  ACCOUNT_COLUMNS,
  type AccountRow,
  countersOf,
  PAYMENT_LEDGER_COLUMNS,
  type PaymentLedgerRow,
  paymentLedgerPartOf,
} from "../ledger-rows.ts";
import { type BudgetMode, decideBatch, leaseDemand } from "./postgres-ledger-batch.ts";
import { LeaseHolder } from "./postgres-ledger-leases.ts";
import { migratePostgres } from "./postgres-ledger-schema.ts";

export interface PostgresLedgerStoreOptions {
  /** `postgres://user:password@host:port/database`. */
  readonly url: string;
  /** The schema holding the ledger's tables (created if missing). */
  readonly schema?: string;
  readonly nowMs?: () => number;
  /** Requests decided per transaction. */
  readonly batchSizeMax?: number;
  /** Requests queued or in flight; beyond it calls fail with `queue_full`. */
  readonly queueLengthMax?: number;
  readonly connectTimeoutMs?: number;
  /**
   * How long one statement may take before the store gives up on the connection (a hung network
   * or server): the batch fails with nothing written, and the next batch connects afresh. The
   * service's own deadline answers callers long before this.
   */
  readonly queryTimeoutMs?: number;
  /** How long a budget lease lives without use before the store reclaims it (ADR 0008). */
  readonly leaseTtlMs?: number;
  /** This process stops using a lease this long before it may be reclaimed. */
  readonly leaseMarginMs?: number;
  /** The smallest lease granted. */
  readonly leaseGrantMinMinor?: number;
  /** Budgets with less available than this are not leased (decided on the locked row). */
  readonly leaseFloorMinor?: number;
  /** Payment rows `verify` reads per page. */
  readonly verifyPageRows?: number;
  /** Told of every transaction made durable: the requests it held and how long it took (metrics). */
  readonly onBatchCommitted?: (requests: number, durationMs: number) => void;
}

export const POSTGRES_LEDGER_DEFAULTS = {
  schema: "bursar",
  batchSizeMax: 1_000,
  queueLengthMax: 100_000,
  connectTimeoutMs: 5_000,
  queryTimeoutMs: 5_000,
  leaseTtlMs: 30_000,
  leaseMarginMs: 5_000,
  leaseGrantMinMinor: 10_000,
  leaseFloorMinor: 1_000_000,
  verifyPageRows: 10_000,
} as const;

/** The range of each numeric option: limits on everything, checked at open. */
const OPTION_RANGES = {
  batchSizeMax: [1, 100_000],
  queueLengthMax: [1, 10_000_000],
  connectTimeoutMs: [1, 600_000],
  queryTimeoutMs: [1, 600_000],
  leaseTtlMs: [1_000, 3_600_000],
  leaseMarginMs: [0, 3_600_000],
  leaseGrantMinMinor: [1, 10 ** 15],
  leaseFloorMinor: [0, 10 ** 15],
  verifyPageRows: [1, 1_000_000],
} as const;

/** Calls of one batch that may throw before the batch gives up on the rest (each costs a rerun). */
const FAILED_CALLS_PER_BATCH_MAX = 8;

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** int8 as a JavaScript number: the ledger keeps every amount and count at most 2^53 - 1. */
function parseInt8(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new Error(`integer ${text} is beyond 2^53 - 1`);
  return value;
}

const TYPES = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === pg.types.builtins.INT8
      ? parseInt8
      : pg.types.getTypeParser(oid, format ?? "text")) as typeof pg.types.getTypeParser,
};

interface Queued {
  readonly call: BatchCall;
  readonly weight: number;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
}

/** How long one impact report may run (the target is 2 s over 10M rows; this is the give-up). */
export const IMPACT_REPORT_TIMEOUT_MS = 120_000;

/** Sort and hash memory of one report's operations (PostgreSQL `work_mem`). */
export const IMPACT_REPORT_WORK_MEM_MB = 256;

const WANTED_SUBSIDIES = `
  wanted AS (
    SELECT * FROM unnest($1::text[], $2::integer[]) AS w(campaign_id, campaign_version)
  )`;

/**
 * The queried versions' subsidies from the `subsidies` table (ADR 0015), then the shared
 * aggregation (ledger-impact-sql.ts). The index leads by campaign and version, then time.
 * - One bitmap scan per version number for all its campaigns (`campaign_id = ANY`): an
 *   incident's versions take turns on the same heap pages, and a scan per campaign version read
 *   each page once per version (300,000 page visits for 12,000 pages in impact.10m). Grouping by
 *   version number keeps the pairs exact, with no cross product of ids and numbers.
 * - `LATERAL (… OFFSET 0)`: one index scan per version number, whatever the planner guesses of
 *   the list (a hash join over a sequential scan of the whole table is what it would otherwise
 *   pick).
 * - `COLLATE "C"`: the distinct counts and group keys compare bytes, not the database's locale
 *   (equal is equal either way; the core orders the rows itself).
 */
export const IMPACT_REPORT_SQL = `
  WITH wanted AS (
    SELECT w.campaign_version, array_agg(w.campaign_id) AS campaign_ids
    FROM unnest($1::text[], $2::integer[]) AS w(campaign_id, campaign_version)
    GROUP BY w.campaign_version
  ),
  affected AS MATERIALIZED (
    SELECT s.payment_id COLLATE "C" AS payment_id, s.user_id COLLATE "C" AS user_id,
      s.scenario COLLATE "C" AS scenario, s.region COLLATE "C" AS region, s.at_ms,
      s.campaign_id COLLATE "C" AS campaign_id, s.campaign_version,
      s.funding COLLATE "C" AS funding,
      ${impactAmountColumns("s.state", "s.reserved_minor", "s.committed_minor", "s.reversed_minor")}
    FROM wanted w CROSS JOIN LATERAL (
      SELECT * FROM subsidies t
      WHERE t.campaign_id = ANY (w.campaign_ids) AND t.campaign_version = w.campaign_version
        AND ($3::bigint IS NULL OR t.at_ms >= $3) AND ($4::bigint IS NULL OR t.at_ms < $4)
      OFFSET 0
    ) s
  )${IMPACT_GROUPS_SQL_GROUPING_SETS}`;

const UNCOMMITTED_SQL = `
  WITH ${WANTED_SUBSIDIES}
  SELECT s.payment_id, sum(s.reserved_minor)::bigint AS affected_minor
  FROM wanted w JOIN subsidies s
    ON s.campaign_id = w.campaign_id AND s.campaign_version = w.campaign_version
  WHERE s.state = 'reserved' AND s.payment_id COLLATE "C" > $3
  GROUP BY s.payment_id ORDER BY s.payment_id COLLATE "C" LIMIT $4`;

export class PostgresLedgerStore extends QueuedLedgerStore implements LedgerImpactReader {
  private readonly queue: Queued[] = [];
  /** The loop taking batches off the queue, while it runs. */
  private draining: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private writer: pg.Client | undefined;

  private constructor(
    private readonly leases: LeaseHolder,
    private readonly config: pg.ClientConfig,
    private readonly readers: pg.Pool,
    private readonly batchSizeMax: number,
    queueLengthMax: number,
    private readonly verifyPageRows: number,
    /** Migrations applied at open. */
    readonly migrationsApplied: readonly number[],
    private readonly onBatchCommitted: ((requests: number, durationMs: number) => void) | undefined,
  ) {
    super(queueLengthMax);
  }

  static async open(options: PostgresLedgerStoreOptions): Promise<PostgresLedgerStore> {
    const schema = options.schema ?? POSTGRES_LEDGER_DEFAULTS.schema;
    if (!SCHEMA_NAME.test(schema)) {
      throw new LedgerStoreError("open_failed", `schema ${schema} is not a plain lower-case name`);
    }
    const option = (name: keyof typeof OPTION_RANGES) => {
      const [minimum, maximum] = OPTION_RANGES[name];
      return storeOption(name, options[name] ?? POSTGRES_LEDGER_DEFAULTS[name], minimum, maximum);
    };
    const leaseTtlMs = option("leaseTtlMs");
    const leaseMarginMs = option("leaseMarginMs");
    if (leaseMarginMs >= leaseTtlMs) {
      throw new LedgerStoreError("open_failed", "leaseMarginMs must be below leaseTtlMs");
    }
    const config: pg.ClientConfig = {
      connectionString: options.url,
      connectionTimeoutMillis: option("connectTimeoutMs"),
      query_timeout: option("queryTimeoutMs"),
      options: `-c search_path=${schema}`,
      types: TYPES,
      application_name: "bursar-ledger",
    };
    const migrator = new pg.Client(config);
    let migrationsApplied: number[];
    try {
      await migrator.connect();
      migrationsApplied = await migratePostgres(migrator, schema, (options.nowMs ?? Date.now)());
    } catch (error) {
      throw new LedgerStoreError("open_failed", messageOf(error));
    } finally {
      await migrator.end().catch(() => {});
    }
    const readers = new pg.Pool({ ...config, max: 2 });
    // An idle connection that breaks is dropped by the pool; a query on it fails on its own.
    readers.on("error", () => {});
    const leases = new LeaseHolder({
      holder: `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
      ttlMs: leaseTtlMs,
      marginMs: leaseMarginMs,
      grantMinMinor: option("leaseGrantMinMinor"),
      floorMinor: option("leaseFloorMinor"),
    });
    return new PostgresLedgerStore(
      leases,
      config,
      readers,
      option("batchSizeMax"),
      option("queueLengthMax"),
      option("verifyPageRows"),
      migrationsApplied,
      options.onBatchCommitted,
    );
  }

  async balance(account: string): Promise<AccountBalance | undefined> {
    const problem = checkLedgerCall({ kind: "balance", account });
    if (problem !== undefined) throw new LedgerStoreError("invalid_request", `balance: ${problem}`);
    const { rows } = await this.read((client) =>
      client.query<AccountRow>(`SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE account = $1`, [
        account,
      ]),
    );
    return rows[0] === undefined ? undefined : { account, ...countersOf(rows[0]) };
  }

  /** The invariants over one consistent snapshot of the ledger (REPEATABLE READ, read only). */
  async verify(): Promise<LedgerVerification> {
    return this.read(async (client) => {
      await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
      try {
        const accounts = await client.query<AccountRow>(
          `SELECT ${ACCOUNT_COLUMNS} FROM accounts ORDER BY account`,
        );
        const fundings = await client.query<{ account: string; amount_minor: number }>(
          "SELECT account, sum(amount_minor)::bigint AS amount_minor FROM fundings GROUP BY account",
        );
        const leased = await client.query<{
          account: string;
          leased_minor: number;
          unused_minor: number;
        }>(
          `SELECT a.account, a.leased_minor, coalesce(sum(l.unused_minor), 0)::bigint AS unused_minor
           FROM accounts a LEFT JOIN leases l ON l.account = a.account
           GROUP BY a.account, a.leased_minor
           HAVING a.leased_minor <> 0 OR count(l.lease_id) > 0`,
        );
        const refunds = await client.query<{ payment_id: string; amount_minor: number }>(
          "SELECT payment_id, sum(amount_minor)::bigint AS amount_minor FROM refunds GROUP BY payment_id",
        );
        const audit = new LedgerAudit(
          new Map(fundings.rows.map((row) => [row.account, row.amount_minor])),
          new Map(refunds.rows.map((row) => [row.payment_id, row.amount_minor])),
        );
        // Payments are paged and added as read, never held together (accounts are: the sums are
        // per account anyway). Each page's id range — the last page's up to the end — also takes
        // the `subsidies` rows in it, so every row is compared with its payment's entries once,
        // rows of payments holding no reservation included.
        let after = "";
        for (;;) {
          const page = await client.query<PaymentLedgerRow>(
            `SELECT ${PAYMENT_LEDGER_COLUMNS} FROM payments WHERE state IS NOT NULL AND payment_id > $1
             ORDER BY payment_id LIMIT $2`,
            [after, this.verifyPageRows],
          );
          const last =
            page.rows.length < this.verifyPageRows ? null : page.rows[page.rows.length - 1]!;
          const subsidyRows = await client.query<SubsidyRow>(
            `SELECT ${SUBSIDY_ROW_COLUMNS} FROM subsidies
             WHERE payment_id > $1 AND ($2::text IS NULL OR payment_id <= $2)
             ORDER BY payment_id, entry_index`,
            [after, last?.payment_id ?? null],
          );
          const rowsByPayment = new Map<string, SubsidyRow[]>();
          for (const row of subsidyRows.rows) {
            const rows = rowsByPayment.get(row.payment_id);
            if (rows === undefined) rowsByPayment.set(row.payment_id, [row]);
            else rows.push(row);
          }
          for (const row of page.rows) {
            const part = paymentLedgerPartOf(row);
            audit.addPayment(part);
            const rows = rowsByPayment.get(row.payment_id) ?? [];
            rowsByPayment.delete(row.payment_id);
            audit.addSubsidyRows(row.payment_id, part, rows.map(subsidyRowPartOf));
          }
          for (const [paymentId, rows] of rowsByPayment) {
            audit.addSubsidyRows(paymentId, undefined, rows.map(subsidyRowPartOf));
          }
          if (last === null) break;
          after = last.payment_id;
        }
        return audit.finish(
          accounts.rows.map((row) => [row.account, countersOf(row)] as const),
          leased.rows.map((row) => ({
            account: row.account,
            leasedMinor: row.leased_minor,
            unusedInLeasesMinor: row.unused_minor,
          })),
        );
      } finally {
        await client.query("ROLLBACK");
      }
    });
  }

  /**
   * The impact report over one consistent snapshot (REPEATABLE READ, read only), aggregated by
   * the server. A report may read far more than a ledger call: it has its own time-out
   * (`IMPACT_REPORT_TIMEOUT_MS`) rather than the writers' `queryTimeoutMs`.
   */
  async impactReport(query: ImpactQuery): Promise<ImpactReport> {
    refuseBadQuery(query);
    const rows = await this.read(async (client) => {
      await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
      try {
        await client.query(`SET LOCAL statement_timeout = ${IMPACT_REPORT_TIMEOUT_MS}`);
        // The affected subsidies, their payers' hash table and the distinct counts' sorts stay
        // in memory (with the default 4 MB they spill to disk); this bounds them instead.
        await client.query(`SET LOCAL work_mem = '${IMPACT_REPORT_WORK_MEM_MB}MB'`);
        // The planner's cost of the per-version scans is far above the JIT threshold, but the
        // work is ~1 s of hashing and sorting that compiling the expressions does not shorten:
        // JIT with inlining and optimisation only adds its compile time.
        await client.query("SET LOCAL jit = off");
        const { rows } = await client.query<ImpactGroupSqlRow>({
          text: IMPACT_REPORT_SQL,
          values: [
            query.versions.map((ref) => ref.campaignId),
            query.versions.map((ref) => ref.version),
            query.fromMs ?? null,
            query.toMs ?? null,
          ],
          query_timeout: IMPACT_REPORT_TIMEOUT_MS,
        } as pg.QueryConfig);
        return rows;
      } finally {
        await client.query("ROLLBACK");
      }
    });
    return assembleImpactReport(query, rows.map(impactGroupOf));
  }

  async uncommittedOf(
    query: Pick<ImpactQuery, "versions">,
    afterPaymentId: string,
    limit: number,
  ): Promise<UncommittedPayment[]> {
    refuseBadQuery(query);
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > UNCOMMITTED_PAGE_MAX) {
      throw new LedgerStoreError("invalid_request", `limit must be 1-${UNCOMMITTED_PAGE_MAX}`);
    }
    const { rows } = await this.read((client) =>
      client.query<{ payment_id: string; affected_minor: number }>(UNCOMMITTED_SQL, [
        query.versions.map((ref) => ref.campaignId),
        query.versions.map((ref) => ref.version),
        afterPaymentId,
        limit,
      ]),
    );
    return rows.map((row) => ({ paymentId: row.payment_id, affectedMinor: row.affected_minor }));
  }

  /** Stops taking calls, waits for every queued call to be answered, closes the connections. */
  close(): Promise<void> {
    this.closing ??= this.closeOnce();
    return this.closing;
  }

  /** Money every process holds in budget leases now: out of other processes' reach until used. */
  async leasedMinor(): Promise<number> {
    const { rows } = await this.read((client) =>
      client.query<{ leased: number }>(
        "SELECT coalesce(sum(leased_minor), 0)::bigint AS leased FROM accounts",
      ),
    );
    return rows[0]?.leased ?? 0;
  }

  /** Money this process holds in budget leases: stranded, should it stop now. */
  heldLeaseMinor(): number {
    return this.leases.heldMinor();
  }

  private async closeOnce(): Promise<void> {
    // No call is queued after close(): once the loop ends, every call has been answered.
    while (this.draining !== undefined) await this.draining;
    try {
      // Unused leases go back at once rather than at expiry.
      await this.leases.returnAll(await this.connectedWriter());
    } catch {
      // Unreachable or failing: the store reclaims them when they expire.
    }
    await this.writer?.end().catch(() => {});
    this.writer = undefined;
    await this.readers.end().catch(() => {});
  }

  private async read<T>(use: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    if (this.closing !== undefined) throw new LedgerStoreError("closed", "read after close()");
    let client: pg.PoolClient;
    try {
      client = await this.readers.connect();
    } catch (error) {
      throw new LedgerStoreError("write_failed", `cannot reach PostgreSQL: ${messageOf(error)}`);
    }
    let broken = false;
    try {
      return await use(client);
    } catch (error) {
      broken = true;
      throw error instanceof LedgerStoreError
        ? error
        : new LedgerStoreError("write_failed", messageOf(error));
    } finally {
      // A connection that failed a query is discarded rather than reused.
      client.release(broken);
    }
  }

  protected submit(call: BatchCall): Promise<unknown> {
    let weight: number;
    try {
      weight = this.admit(
        call,
        this.closing === undefined
          ? undefined
          : new LedgerStoreError("closed", `${call.kind} after close()`),
      );
    } catch (error) {
      return Promise.reject(error);
    }
    this.weightQueued += weight;
    const answer = new Promise<unknown>((resolve, reject) => {
      this.queue.push({ call, weight, resolve, reject });
    });
    // Calls made in the same turn of the event loop share the first transaction.
    this.draining ??= Promise.resolve().then(() => this.drain());
    return answer;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        let count = 0;
        let weight = 0;
        while (count < this.queue.length && weight < this.batchSizeMax) {
          weight += this.queue[count]!.weight;
          count += 1;
        }
        const batch = this.queue.splice(0, count);
        this.weightQueued -= weight;
        await this.runBatch(batch);
      }
    } finally {
      this.draining = undefined;
    }
  }

  private async runBatch(batch: readonly Queued[]): Promise<void> {
    const calls = batch.map((queued) => queued.call);
    const failed = new Map<number, string>();
    const startedAtMs = performance.now();
    for (;;) {
      const outcome = await this.attempt(calls, new Set(failed.keys()));
      if (outcome.kind === "committed") {
        this.onBatchCommitted?.(
          batch.reduce((sum, queued) => sum + queued.weight, 0),
          performance.now() - startedAtMs,
        );
        batch.forEach((queued, index) => {
          const failure = failed.get(index);
          if (failure === undefined) queued.resolve(outcome.values[index]);
          else queued.reject(new LedgerStoreError("write_failed", failure));
        });
        return;
      }
      if (outcome.kind === "call_failed" && failed.size < FAILED_CALLS_PER_BATCH_MAX) {
        failed.set(outcome.index, outcome.message);
        continue;
      }
      const error =
        outcome.kind === "commit_unknown"
          ? new LedgerStoreError("commit_unknown", outcome.message)
          : new LedgerStoreError(
              "write_failed",
              `the ledger transaction failed and wrote nothing: ${outcome.message}`,
            );
      for (const queued of batch) queued.reject(error);
      return;
    }
  }

  private async attempt(
    calls: readonly BatchCall[],
    skipped: ReadonlySet<number>,
  ): Promise<
    | { readonly kind: "committed"; readonly values: unknown[] }
    | { readonly kind: "call_failed"; readonly index: number; readonly message: string }
    | { readonly kind: "batch_failed" | "commit_unknown"; readonly message: string }
  > {
    let mode: BudgetMode = "leased";
    for (;;) {
      let client: pg.Client;
      try {
        client = await this.connectedWriter();
        if (mode === "leased") {
          const demand = leaseDemand(calls.filter((_, index) => !skipped.has(index)));
          await this.leases.ensure(client, demand);
        }
        await client.query("BEGIN");
      } catch (error) {
        this.dropWriter();
        return { kind: "batch_failed", message: messageOf(error) };
      }
      let decided: Awaited<ReturnType<typeof decideBatch>>;
      try {
        decided = await decideBatch(client, calls, skipped, this.leases, mode);
      } catch (error) {
        await this.rollback(client);
        return { kind: "batch_failed", message: messageOf(error) };
      }
      if (decided.kind === "needs_locks") {
        await this.rollback(client);
        mode = "locked";
        continue;
      }
      if (decided.kind === "call_failed") {
        await this.rollback(client);
        return decided;
      }
      try {
        await client.query("COMMIT");
      } catch (error) {
        // The server may have committed before the connection went: the outcome is unknown,
        // and so is what this process's leases hold; the store reclaims them at expiry.
        this.leases.forgetAll();
        this.dropWriter();
        return { kind: "commit_unknown", message: messageOf(error) };
      }
      this.leases.spent(decided.usedFromLeases);
      this.leases.forget(decided.leasesGivenBack);
      return { kind: "committed", values: decided.values };
    }
  }

  private async rollback(client: pg.Client): Promise<void> {
    try {
      await client.query("ROLLBACK");
    } catch {
      this.dropWriter();
    }
  }

  private async connectedWriter(): Promise<pg.Client> {
    if (this.writer !== undefined) return this.writer;
    const client = new pg.Client(this.config);
    // A broken connection fails the query in flight; the next batch connects afresh.
    client.on("error", () => {
      if (this.writer === client) this.writer = undefined;
    });
    await client.connect();
    this.writer = client;
    return client;
  }

  private dropWriter(): void {
    const writer = this.writer;
    this.writer = undefined;
    void writer?.end().catch(() => {});
  }
}

/** The `subsidies` columns verification compares with the payment's entries. */
const SUBSIDY_ROW_COLUMNS =
  "payment_id, entry_index, campaign_id, campaign_version, funding, state, reserved_minor, committed_minor, reversed_minor";

interface SubsidyRow {
  readonly payment_id: string;
  readonly entry_index: number;
  readonly campaign_id: string;
  readonly campaign_version: number;
  readonly funding: string;
  readonly state: string;
  readonly reserved_minor: number;
  readonly committed_minor: number;
  readonly reversed_minor: number;
}

function subsidyRowPartOf(row: SubsidyRow): SubsidyRowPart {
  return {
    entryIndex: row.entry_index,
    campaignId: row.campaign_id,
    campaignVersion: row.campaign_version,
    funding: row.funding,
    state: row.state,
    reservedMinor: row.reserved_minor,
    committedMinor: row.committed_minor,
    reversedMinor: row.reversed_minor,
  };
}

function refuseBadQuery(query: Pick<ImpactQuery, "versions"> & Partial<ImpactQuery>): void {
  const problem = impactQueryProblem(query);
  if (problem !== undefined) throw new LedgerStoreError("invalid_request", `impact: ${problem}`);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
