/**
 * The SQLite ledger store: one database file, WAL, every commit fsynced, decided by a worker
 * thread that owns the connection and commits many calls per transaction (group commit).
 *
 * This side of the worker checks and queues calls, and keeps the queue bounded: past
 * `queueLengthMax` waiting requests a call is refused at once with `queue_full` rather than
 * letting memory grow. Calls made in one turn of the event loop travel together, a few hundred
 * per message.
 * A call's promise settles only after the transaction holding it has committed.
 */
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { Worker } from "node:worker_threads";
import type { AccountBalance, LedgerVerification } from "../../ledger/ledger-store.ts";
import { LedgerStoreError } from "../../ledger/ledger-store-error.ts";
import { QueuedLedgerStore, storeOption } from "../../ledger/queued-ledger-store.ts";
import type {
  CallResult,
  FromWorker,
  LedgerCall,
  LedgerCallValue,
  LedgerRecovery,
  QueuedCall,
  ToWorker,
  WorkerSettings,
} from "./sqlite-ledger-protocol.ts";

export interface SqliteLedgerStoreOptions {
  /** The database file; its directory is created if missing. */
  readonly path: string;
  /** The clock, read once at open to release reservations that expired while closed. */
  readonly nowMs?: () => number;
  /** Requests (reserve requests, settle commands, other calls) decided per transaction. */
  readonly batchSizeMax?: number;
  /** How long a call arriving at an idle worker waits for others to share its commit. */
  readonly batchWaitMs?: number;
  /** Requests queued or in flight; beyond it calls fail with `queue_full`. */
  readonly queueLengthMax?: number;
  /** How long opening (migrations, recovery) may take before the store gives up. */
  readonly openTimeoutMs?: number;
  /** How long a transaction waits for another process holding the database's write lock. */
  readonly busyTimeoutMs?: number;
}

export const SQLITE_LEDGER_DEFAULTS = {
  batchSizeMax: 1_000,
  batchWaitMs: 1,
  queueLengthMax: 100_000,
  openTimeoutMs: 60_000,
  busyTimeoutMs: 5_000,
} as const;

const LIMITS_MAX = {
  batchSizeMax: 100_000,
  batchWaitMs: 1_000,
  queueLengthMax: 10_000_000,
  openTimeoutMs: 600_000,
  busyTimeoutMs: 600_000,
} as const;

/** Calls per message to the worker. */
const CALLS_PER_MESSAGE_MAX = 256;

interface Pending {
  readonly weight: number;
  readonly resolve: (value: LedgerCallValue) => void;
  readonly reject: (error: Error) => void;
}

type Lifecycle = "open" | "closing" | "closed" | "failed";

export class SqliteLedgerStore extends QueuedLedgerStore {
  private readonly pending = new Map<number, Pending>();
  private outbox: QueuedCall[] = [];
  private nextId = 1;
  private lifecycle: Lifecycle = "open";
  private failure: LedgerStoreError | undefined;
  private readonly drained: (() => void)[] = [];
  private readonly exited: Promise<void>;
  private closed: Promise<void> | undefined;

  private constructor(
    private readonly worker: Worker,
    queueLengthMax: number,
    /** What open found and repaired. */
    readonly recovery: LedgerRecovery,
  ) {
    super(queueLengthMax);
    this.exited = new Promise((resolveExit) => worker.once("exit", () => resolveExit()));
    worker.on("message", (message: FromWorker) => this.receive(message));
    worker.on("error", (error) => this.fail(`the worker thread failed: ${error.message}`));
    worker.on("exit", (code) => {
      // Exiting is expected only after close() has drained every call.
      if (this.lifecycle === "open" || this.pending.size > 0) {
        this.fail(`the worker thread exited (code ${code})`);
      }
    });
    // An idle store does not keep the process alive; a call in flight does.
    worker.unref();
  }

  static async open(options: SqliteLedgerStoreOptions): Promise<SqliteLedgerStore> {
    const settings = resolveSettings(options);
    const queueLengthMax = limit(options, "queueLengthMax");
    const openTimeoutMs = limit(options, "openTimeoutMs");
    mkdirSync(dirname(settings.path), { recursive: true });
    const worker = startWorker(settings);
    const recovery = await new Promise<LedgerRecovery>((resolveOpen, rejectOpen) => {
      const stopListening = () => {
        clearTimeout(timer);
        worker.off("message", onMessage);
        worker.off("error", onError);
        worker.off("exit", onExit);
      };
      const fail = (detail: string) => {
        stopListening();
        void worker.terminate();
        rejectOpen(new LedgerStoreError("open_failed", `${settings.path}: ${detail}`));
      };
      const onMessage = (message: FromWorker) => {
        if (message.type !== "ready") {
          fail(message.type === "open_failed" ? message.message : `unexpected ${message.type}`);
          return;
        }
        stopListening();
        resolveOpen(message.recovery);
      };
      const onError = (error: Error) => fail(error.message);
      const onExit = (code: number) => fail(`the worker exited (code ${code}) before opening`);
      const timer = setTimeout(() => fail(`not open after ${openTimeoutMs} ms`), openTimeoutMs);
      worker.on("message", onMessage);
      worker.on("error", onError);
      worker.on("exit", onExit);
    });
    return new SqliteLedgerStore(worker, queueLengthMax, recovery);
  }

  async balance(account: string): Promise<AccountBalance | undefined> {
    return (await this.submit({ kind: "balance", account })) as AccountBalance | undefined;
  }

  async verify(): Promise<LedgerVerification> {
    return (await this.submit({ kind: "verify" })) as LedgerVerification;
  }

  /** Stops taking calls, waits for every call in flight to be answered, closes the database. */
  close(): Promise<void> {
    this.closed ??= this.closeOnce();
    return this.closed;
  }

  private async closeOnce(): Promise<void> {
    if (this.lifecycle === "open") {
      this.lifecycle = "closing";
      if (this.pending.size > 0) await new Promise<void>((done) => this.drained.push(done));
    }
    if (this.lifecycle === "closing") {
      this.worker.ref();
      this.post({ type: "close" });
      await this.exited;
      this.lifecycle = "closed";
    } else {
      await this.worker.terminate();
      this.lifecycle = "closed";
    }
  }

  protected submit(call: LedgerCall): Promise<LedgerCallValue> {
    let weight: number;
    try {
      weight = this.admit(
        call,
        this.lifecycle === "open"
          ? undefined
          : (this.failure ?? new LedgerStoreError("closed", `${call.kind} after close()`)),
      );
    } catch (error) {
      return Promise.reject(error);
    }
    const id = this.nextId;
    this.nextId += 1;
    this.weightQueued += weight;
    if (this.pending.size === 0) this.worker.ref();
    const answer = new Promise<LedgerCallValue>((resolveCall, rejectCall) => {
      this.pending.set(id, { weight, resolve: resolveCall, reject: rejectCall });
    });
    this.outbox.push({ id, call });
    // One message per turn of the event loop: calls made together cross the thread together.
    if (this.outbox.length === 1) queueMicrotask(() => this.sendOutbox());
    return answer;
  }

  private sendOutbox(): void {
    const calls = this.outbox;
    this.outbox = [];
    if (this.lifecycle === "failed") return;
    // In slices, so that the worker starts deciding the first while later ones are still copied.
    for (let start = 0; start < calls.length; start += CALLS_PER_MESSAGE_MAX) {
      this.post({ type: "calls", calls: calls.slice(start, start + CALLS_PER_MESSAGE_MAX) });
    }
  }

  private post(message: ToWorker): void {
    this.worker.postMessage(message);
  }

  private receive(message: FromWorker): void {
    if (message.type !== "results") return;
    for (const result of message.results) this.settleCall(result);
    if (this.pending.size === 0) {
      if (this.lifecycle === "open") this.worker.unref();
      for (const done of this.drained.splice(0)) done();
    }
  }

  private settleCall(result: CallResult): void {
    const pending = this.pending.get(result.id);
    if (pending === undefined) return;
    this.pending.delete(result.id);
    this.weightQueued -= pending.weight;
    if (result.outcome.ok) pending.resolve(result.outcome.value);
    else pending.reject(new LedgerStoreError("write_failed", result.outcome.message));
  }

  private fail(detail: string): void {
    if (this.lifecycle === "failed" || this.lifecycle === "closed") return;
    this.lifecycle = "failed";
    this.failure = new LedgerStoreError("worker_failed", detail);
    for (const pending of this.pending.values()) pending.reject(this.failure);
    this.pending.clear();
    this.weightQueued = 0;
    for (const done of this.drained.splice(0)) done();
  }
}

function resolveSettings(options: SqliteLedgerStoreOptions): WorkerSettings {
  if (typeof options.path !== "string" || options.path.length === 0) {
    throw new LedgerStoreError("open_failed", "path must name a database file");
  }
  return {
    path: resolve(options.path),
    openedAtMs: (options.nowMs ?? Date.now)(),
    batchSizeMax: limit(options, "batchSizeMax"),
    batchWaitMs: limit(options, "batchWaitMs"),
    busyTimeoutMs: limit(options, "busyTimeoutMs"),
  };
}

function limit(options: SqliteLedgerStoreOptions, name: keyof typeof LIMITS_MAX): number {
  const minimum = name === "batchWaitMs" ? 0 : 1;
  return storeOption(
    name,
    options[name] ?? SQLITE_LEDGER_DEFAULTS[name],
    minimum,
    LIMITS_MAX[name],
  );
}

/**
 * The worker runs this folder's TypeScript directly. Node 20 workers inherit neither a loader
 * installed with tsx's `register()` nor one preloaded through `execArgv: ["--import", "tsx"]`
 * (measured: both fail with "Unknown file extension .ts"), so while the sources are TypeScript
 * a two-line bootstrap registers tsx inside the worker first. tsx is found from this file, so
 * the caller's working directory does not matter. A build to JavaScript (ADR 0005) would start
 * the worker's .js file directly instead.
 */
function startWorker(settings: WorkerSettings): Worker {
  const entry = new URL("./sqlite-ledger-worker.ts", import.meta.url);
  const tsxApi = import.meta.resolve("tsx/esm/api");
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(bootstrap, { eval: true, workerData: settings });
}
