/**
 * The SQLite ledger store: one database file, WAL, every commit fsynced (ADR 0009).
 *
 * The store decides on the caller's thread and writes on its own. A call is decided at once by
 * the ledger book over counters held in memory (`SqliteLedgerState`), and its row writes join the
 * batch being gathered; the writer thread (sqlite-ledger-writer.ts) makes a batch durable in one
 * transaction, and only then are the batch's calls answered. While one batch commits, the next
 * one gathers: that is the group commit. Later decisions see earlier ones at once, committed or
 * not, so they can never overspend — and no answer leaves before everything it rests on is on disk.
 *
 * Failures: a batch that fails to commit fails its calls and every call decided after it (they
 * rest on it; the writer drops their batches), and a call that throws while being decided (a bug)
 * is left out of its batch. Either way the store then rebuilds its counters from the file —
 * refusing calls with `recovering` meanwhile — and goes on. The queue is bounded
 * (`queueLengthMax` requests decided or waiting and not yet answered), and so are the counters
 * in memory (`accountsMax`).
 */
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { Worker } from "node:worker_threads";
import type { ImpactQuery, ImpactReport } from "../../core/ledger/impact-report.ts";
import { type AccountBalance, LedgerBook } from "../../core/ledger/ledger-book.ts";
import type { LedgerVerification } from "../../core/ledger/ledger-verification.ts";
import type { ReservationRequest } from "../../core/ledger/reservation.ts";
import type { LedgerImpactReader, UncommittedPayment } from "../../ledger/ledger-impact-reader.ts";
import { LedgerStoreError } from "../../ledger/ledger-store-error.ts";
import {
  type BatchCall,
  QueuedLedgerStore,
  storeOption,
} from "../../ledger/queued-ledger-store.ts";
import type {
  FromWriter,
  LedgerRecovery,
  ToWriter,
  WriterSettings,
} from "./sqlite-ledger-protocol.ts";
import { SqliteLedgerReader } from "./sqlite-ledger-reader.ts";
import { PendingCall, SqliteLedgerState, WriteBatch } from "./sqlite-ledger-state.ts";

export type { LedgerRecovery } from "./sqlite-ledger-protocol.ts";

/** The ledger's file in a data directory. */
export const LEDGER_FILE_NAME = "ledger.db";

export interface SqliteLedgerStoreOptions {
  /** The database file; its directory is created if missing. */
  readonly path: string;
  /** The clock, read once at open to release reservations that expired while closed. */
  readonly nowMs?: () => number;
  /** Requests (reserve requests, settle commands, other calls) written per transaction. */
  readonly batchSizeMax?: number;
  /** How long a call arriving at an idle writer waits for others to share its commit. */
  readonly batchWaitMs?: number;
  /** Requests decided or waiting and not yet answered; beyond it calls fail with `queue_full`. */
  readonly queueLengthMax?: number;
  /** Accounts whose counters the store holds in memory; beyond it reservations fail with `memory_full`. */
  readonly accountsMax?: number;
  /** How long the writer thread may take to open and migrate the file. */
  readonly openTimeoutMs?: number;
  /** How long a transaction waits for a lock held by a connection outside Bursar. */
  readonly busyTimeoutMs?: number;
  /** Told of every transaction made durable: the requests it held and how long it took (metrics). */
  readonly onBatchCommitted?: (requests: number, durationMs: number) => void;
}

export const SQLITE_LEDGER_DEFAULTS = {
  batchSizeMax: 1_000,
  batchWaitMs: 1,
  queueLengthMax: 100_000,
  accountsMax: 10_000_000,
  openTimeoutMs: 60_000,
  busyTimeoutMs: 5_000,
} as const;

const LIMITS = {
  batchSizeMax: [1, 100_000],
  batchWaitMs: [0, 1_000],
  queueLengthMax: [1, 10_000_000],
  // A JavaScript Map holds at most 2^24 entries.
  accountsMax: [1, 15_000_000],
  openTimeoutMs: [1, 600_000],
  busyTimeoutMs: [1, 600_000],
} as const;

/** Expiry at open works in slices of this many reservations, each one batch. */
const RECOVERY_EXPIRY_SLICE = 10_000;

type Lifecycle = "open" | "recovering" | "closing" | "closed" | "failed";

/** A call admitted while the store was holding new decisions back (`balance`, `verify`). */
interface HeldCall {
  readonly call: BatchCall;
  readonly pending: PendingCall;
}

export class SqliteLedgerStore extends QueuedLedgerStore implements LedgerImpactReader {
  /** What open found and did. */
  recovery: LedgerRecovery = {
    migrationsApplied: [],
    paymentsRead: 0,
    accountsRebuilt: 0,
    expiredReservations: 0,
  };
  private readonly state: SqliteLedgerState;
  private readonly book: LedgerBook;
  private gathering: WriteBatch;
  /** Batches sent to the writer (or, without writes, waiting for those before them), in order. */
  private readonly sent: WriteBatch[] = [];
  private nextSequence = 1;
  private epoch = 0;
  private sendTimer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  private lifecycle: Lifecycle = "open";
  private failure: LedgerStoreError | undefined;
  /** While above 0, new calls wait undecided: a read needs the memory to equal the file. */
  private holders = 0;
  private readonly held: HeldCall[] = [];
  private readonly quietWaiters: (() => void)[] = [];
  private rebuilding: Promise<void> | undefined;
  /** A batch failed: the writer drops batches until it is told to resume with a new epoch. */
  private writerStopped = false;
  private readonly exited: Promise<void>;
  private closed: Promise<void> | undefined;

  private constructor(
    private readonly worker: Worker,
    private readonly reader: SqliteLedgerReader,
    private readonly settings: {
      readonly batchSizeMax: number;
      readonly batchWaitMs: number;
      readonly accountsMax: number;
      readonly onBatchCommitted: ((requests: number, durationMs: number) => void) | undefined;
    },
    queueLengthMax: number,
  ) {
    super(queueLengthMax);
    this.state = new SqliteLedgerState(reader);
    this.book = new LedgerBook(this.state);
    this.gathering = this.newBatch();
    this.exited = new Promise((resolveExit) => worker.once("exit", () => resolveExit()));
    worker.on("message", (message: FromWriter) => this.receive(message));
    worker.on("error", (error) => this.fail(`the writer thread failed: ${error.message}`));
    worker.on("exit", (code) => {
      // Exiting is expected only after close() has answered every call.
      if (this.lifecycle !== "closing" && this.lifecycle !== "closed") {
        this.fail(`the writer thread exited (code ${code})`);
      }
    });
    // An idle store does not keep the process alive; a call in flight does.
    worker.unref();
  }

  /**
   * Opens (creating if needed) the ledger: the writer thread takes the file's writer lock and
   * migrates it, the counters are rebuilt from the ledger's rows, and reservations that expired
   * while the store was closed are released.
   */
  static async open(options: SqliteLedgerStoreOptions): Promise<SqliteLedgerStore> {
    if (typeof options.path !== "string" || options.path.length === 0) {
      throw new LedgerStoreError("open_failed", "path must name a database file");
    }
    const path = resolve(options.path);
    const nowMs = (options.nowMs ?? Date.now)();
    const settings = {
      batchSizeMax: option(options, "batchSizeMax"),
      batchWaitMs: option(options, "batchWaitMs"),
      accountsMax: option(options, "accountsMax"),
      onBatchCommitted: options.onBatchCommitted,
    };
    const queueLengthMax = option(options, "queueLengthMax");
    const openTimeoutMs = option(options, "openTimeoutMs");
    const writerSettings: WriterSettings = {
      path,
      openedAtMs: nowMs,
      busyTimeoutMs: option(options, "busyTimeoutMs"),
    };
    mkdirSync(dirname(path), { recursive: true });
    const worker = startWriter(writerSettings);
    const migrationsApplied = await writerReady(worker, path, openTimeoutMs);
    let reader: SqliteLedgerReader | undefined;
    try {
      reader = SqliteLedgerReader.open(path);
      const store = new SqliteLedgerStore(worker, reader, settings, queueLengthMax);
      const rebuilt = await store.state.rebuild();
      let expiredReservations = 0;
      for (;;) {
        const expired = await store.expireDue(nowMs, RECOVERY_EXPIRY_SLICE);
        expiredReservations += expired;
        if (expired < RECOVERY_EXPIRY_SLICE) break;
      }
      store.recovery = { migrationsApplied, ...rebuilt, expiredReservations };
      return store;
    } catch (error) {
      reader?.close();
      await worker.terminate();
      throw error instanceof LedgerStoreError
        ? error
        : new LedgerStoreError("open_failed", `${path}: ${messageOf(error)}`);
    }
  }

  async balance(account: string): Promise<AccountBalance | undefined> {
    return this.whenQuiet(() => {
      const counters = this.state.account(account);
      return counters === undefined ? undefined : { account, ...counters };
    });
  }

  /**
   * Every invariant over the file's rows, and the counters in memory against the ledger's sums.
   * New calls wait undecided meanwhile; the check reads the whole ledger on this thread.
   */
  async verify(): Promise<LedgerVerification> {
    return this.whenQuiet(() => this.reader.verify(this.state.counterEntries()));
  }

  /**
   * The impact report over the file, once every call decided before it is durable (new calls
   * wait meanwhile, as for `verify`): the rows then hold everything the store has answered.
   */
  async impactReport(query: ImpactQuery): Promise<ImpactReport> {
    return this.whenQuiet(() => this.reader.impactReport(query));
  }

  async uncommittedOf(
    query: Pick<ImpactQuery, "versions">,
    afterPaymentId: string,
    limit: number,
  ): Promise<UncommittedPayment[]> {
    return this.whenQuiet(() => this.reader.uncommittedOf(query, afterPaymentId, limit));
  }

  /** Stops taking calls, answers every call decided or waiting, closes the database. */
  close(): Promise<void> {
    this.closed ??= this.closeOnce();
    return this.closed;
  }

  private async closeOnce(): Promise<void> {
    // A rebuild in progress finishes first: the calls it holds back are then decided.
    await this.rebuilding;
    if (this.lifecycle === "open") {
      this.lifecycle = "closing";
      for (;;) {
        await this.quiet();
        if (this.holders === 0 && this.held.length === 0) break;
        // A read (balance, verify) is still running or held calls are being decided.
        await new Promise(setImmediate);
      }
      // The reader first: the last connection to close checkpoints the WAL into the file.
      this.reader.close();
      this.worker.ref();
      this.post({ type: "close" });
      await this.exited;
    } else {
      this.reader.close();
      if (this.lifecycle === "failed") await this.worker.terminate();
    }
    this.lifecycle = "closed";
  }

  protected submit(call: BatchCall): Promise<unknown> {
    let weight: number;
    try {
      weight = this.admit(call, this.refusal());
    } catch (error) {
      return Promise.reject(error);
    }
    this.weightQueued += weight;
    if (this.weightQueued === weight) this.worker.ref();
    // Nothing kept until the answer refers to `call`: a call in flight keeps its answer alive
    // until its batch commits, not its request (a planned request is a few kilobytes of objects).
    const pending = new PendingCall(weight);
    if (this.holders > 0 || this.held.length > 0) this.held.push({ call, pending });
    else this.decide(call, pending);
    return pending.promise;
  }

  /** Gives the call its answer, and its weight back to the queue. */
  private answer(pending: PendingCall): void {
    this.answered(pending.weight);
    pending.resolve(pending.value);
  }

  private failCall(pending: PendingCall, error: Error): void {
    this.answered(pending.weight);
    pending.reject(error);
  }

  /** Why no call may be taken now, if so. */
  private refusal(): LedgerStoreError | undefined {
    switch (this.lifecycle) {
      case "open":
        return undefined;
      case "recovering":
        return new LedgerStoreError(
          "recovering",
          "a write failed; the counters are being rebuilt from the ledger",
        );
      case "failed":
        return this.failure;
      default:
        return new LedgerStoreError("closed", "the store is closing or closed");
    }
  }

  /**
   * Why a reserve call must be refused for room, if so: its new payments (a replay adds nothing)
   * could take the counters held in memory past `accountsMax`. Checked as the call is decided, so
   * that calls held back meanwhile count what was decided before them.
   */
  private noRoomFor(call: BatchCall): LedgerStoreError | undefined {
    if (call.kind !== "reserve") return undefined;
    const held = this.state.accountCount();
    let debits = 0;
    for (const request of call.requests) debits += debitsOf(request);
    // Far from the limit — nearly always — no payment needs looking up.
    if (held + debits <= this.settings.accountsMax) return undefined;
    debits = 0;
    for (const request of call.requests) {
      if (this.state.payment(request.paymentId) === undefined) debits += debitsOf(request);
    }
    if (held + debits <= this.settings.accountsMax) return undefined;
    return new LedgerStoreError(
      "memory_full",
      `${held} accounts are held in memory and this reserve may add ${debits}; the limit is ${this.settings.accountsMax}`,
    );
  }

  private answered(weight: number): void {
    this.weightQueued -= weight;
    if (this.weightQueued === 0 && this.lifecycle === "open") this.worker.unref();
  }

  /** Decides the call now into the gathering batch; it is answered when the batch commits. */
  private decide(call: BatchCall, pending: PendingCall): void {
    // A call admitted before the store began closing is still decided; one admitted before a
    // failure is not.
    if (this.lifecycle === "failed" || this.lifecycle === "recovering") {
      this.failCall(pending, this.refusal()!);
      return;
    }
    const noRoom = this.noRoomFor(call);
    if (noRoom !== undefined) {
      this.failCall(pending, noRoom);
      return;
    }
    const batch = this.gathering;
    const mark = batch.mark();
    try {
      pending.value = this.execute(call);
    } catch (error) {
      // A bug or a broken invariant: nothing of the call is written, but the counters in memory
      // may hold part of it, so they are rebuilt from the file before anything else is decided.
      batch.truncate(mark);
      this.failCall(
        pending,
        new LedgerStoreError("write_failed", `the ledger could not decide it: ${messageOf(error)}`),
      );
      this.rebuild();
      return;
    }
    batch.calls.push(pending);
    batch.weight += pending.weight;
    if (batch.weight >= this.settings.batchSizeMax) this.sendGathering();
    else this.scheduleSend();
  }

  private execute(call: BatchCall): unknown {
    // Loops rather than callbacks: under tsx (ADR 0005) every function created at run time also
    // gets its name defined, and this runs for every payment.
    switch (call.kind) {
      case "reserve": {
        const results = [];
        for (const request of call.requests) results.push(this.book.reserve(request));
        return results;
      }
      case "settle": {
        const answers = [];
        for (const command of call.commands) answers.push(this.book.settle(command));
        return answers;
      }
      case "refund": {
        const answers = [];
        for (const command of call.commands) answers.push(this.book.refund(command));
        return answers;
      }
      case "fund":
        return this.book.fund(call.account, call.amountMinor, call.reason, call.atMs);
      case "fundUpTo":
        return this.book.fundUpTo(call.targets, call.reason, call.atMs);
      case "expireDue":
        return this.book.expireDue(call.nowMs, call.limit);
    }
  }

  /**
   * When the writer is idle, a batch waits `batchWaitMs` for company; while a batch commits, the
   * next one gathers and goes as soon as it has committed.
   */
  private scheduleSend(): void {
    if (this.sendTimer !== undefined || this.sent.length > 0) return;
    const send = () => {
      this.sendTimer = undefined;
      if (this.sent.length === 0) this.sendGathering();
    };
    this.sendTimer =
      this.settings.batchWaitMs === 0
        ? setImmediate(send)
        : setTimeout(send, this.settings.batchWaitMs);
  }

  private cancelScheduledSend(): void {
    if (this.sendTimer === undefined) return;
    clearTimeout(this.sendTimer as NodeJS.Timeout);
    clearImmediate(this.sendTimer as NodeJS.Immediate);
    this.sendTimer = undefined;
  }

  private newBatch(): WriteBatch {
    const batch = new WriteBatch(this.nextSequence);
    this.nextSequence += 1;
    this.state.gatherInto(batch);
    return batch;
  }

  private sendGathering(): void {
    this.cancelScheduledSend();
    const batch = this.gathering;
    if (batch.calls.length === 0) return;
    this.gathering = this.newBatch();
    this.sent.push(batch);
    const hasWrites = batch.writes.length > 0;
    if (hasWrites) {
      batch.sentAtMs = performance.now();
      this.post({
        type: "batch",
        epoch: this.epoch,
        sequence: batch.sequence,
        writes: batch.writes,
      });
    }
    batch.sent();
    if (!hasWrites && this.sent.length === 1) {
      // Nothing to write and nothing before it: its answers rest only on committed rows.
      this.completeHead();
    }
  }

  private receive(message: FromWriter): void {
    if (message.type === "committed") {
      const batch = this.sent[0];
      if (batch?.sequence !== message.sequence) return;
      this.completeHead();
    } else if (message.type === "failed") {
      this.batchFailed(message.sequence, message.message);
    }
  }

  /** The first sent batch is durable: answer its calls, and any later one without writes. */
  private completeHead(): void {
    do {
      const batch = this.sent.shift()!;
      this.state.committed(batch);
      if (batch.wrote) {
        this.settings.onBatchCommitted?.(batch.weight, performance.now() - batch.sentAtMs);
      }
      for (const pending of batch.calls) this.answer(pending);
    } while (this.sent.length > 0 && !this.sent[0]!.wrote);
    if (this.sent.length === 0) {
      if (this.gathering.calls.length > 0) this.sendGathering();
      else this.notifyQuiet();
    }
  }

  /**
   * A batch failed to commit (the writer rolled it back): it, every batch decided after it and
   * the gathering one fail without writing, and the counters are rebuilt from the file.
   */
  private batchFailed(sequence: number, message: string): void {
    if (this.sent[0]?.sequence !== sequence) return;
    this.writerStopped = true;
    const failed = [...this.sent.splice(0), this.gathering];
    this.cancelScheduledSend();
    this.gathering = this.newBatch();
    failed.forEach((batch, index) => {
      const error = new LedgerStoreError(
        "write_failed",
        index === 0
          ? `the transaction failed and wrote nothing: ${message}`
          : `decided after a batch that failed to commit (${message}); nothing was written`,
      );
      for (const pending of batch.calls) this.failCall(pending, error);
    });
    this.rebuild();
    this.notifyQuiet();
  }

  /** Refuses calls until the counters are rebuilt from the file, once every sent batch is done. */
  private rebuild(): void {
    if (this.lifecycle !== "open") return;
    this.lifecycle = "recovering";
    this.rebuilding = (async () => {
      this.sendGathering();
      await this.quiet();
      try {
        await this.state.rebuild();
      } catch (error) {
        this.fail(`the counters could not be rebuilt from the ledger: ${messageOf(error)}`);
        return;
      }
      if (this.writerStopped) {
        this.writerStopped = false;
        this.epoch += 1;
        this.post({ type: "resume", epoch: this.epoch });
      }
      if (this.lifecycle === "recovering") this.lifecycle = "open";
      this.releaseHeld();
    })();
  }

  /**
   * Runs `read` once every call decided so far is durable, holding new calls back meanwhile, so
   * that what it reads in memory equals the file.
   */
  private async whenQuiet<T>(read: () => T): Promise<T> {
    const refusal = this.refusal();
    if (refusal !== undefined) throw refusal;
    this.holders += 1;
    try {
      this.sendGathering();
      await this.quiet();
      const again = this.refusal();
      if (again !== undefined) throw again;
      return read();
    } finally {
      this.holders -= 1;
      this.releaseHeld();
    }
  }

  private releaseHeld(): void {
    if (this.holders > 0 || this.lifecycle === "recovering") return;
    for (const held of this.held.splice(0)) {
      this.decide(held.call, held.pending);
    }
  }

  /** Resolves when no sent batch is outstanding and nothing is gathering. */
  private quiet(): Promise<void> {
    if (this.sent.length === 0 && this.gathering.calls.length === 0) return Promise.resolve();
    this.sendGathering();
    return new Promise((done) => this.quietWaiters.push(done));
  }

  private notifyQuiet(): void {
    if (this.sent.length > 0 || this.gathering.calls.length > 0) return;
    for (const done of this.quietWaiters.splice(0)) done();
  }

  private post(message: ToWriter): void {
    this.worker.postMessage(message);
  }

  /** The writer thread is gone or the counters cannot be rebuilt: every call fails from now on. */
  private fail(detail: string): void {
    if (this.lifecycle === "failed" || this.lifecycle === "closed") return;
    this.lifecycle = "failed";
    const code = detail.startsWith("the writer thread") ? "worker_failed" : "store_failed";
    this.failure = new LedgerStoreError(code, detail);
    this.cancelScheduledSend();
    const batches = [...this.sent.splice(0), this.gathering];
    this.gathering = this.newBatch();
    for (const batch of batches) {
      for (const pending of batch.calls) this.failCall(pending, this.failure);
    }
    for (const held of this.held.splice(0)) this.failCall(held.pending, this.failure);
    for (const done of this.quietWaiters.splice(0)) done();
  }
}

/** The limits a request draws on: at most this many accounts it could add. */
function debitsOf(request: ReservationRequest): number {
  let debits = 0;
  for (const subsidy of request.subsidies) debits += subsidy.debits.length;
  return debits;
}

function option(options: SqliteLedgerStoreOptions, name: keyof typeof LIMITS): number {
  const [minimum, maximum] = LIMITS[name];
  return storeOption(name, options[name] ?? SQLITE_LEDGER_DEFAULTS[name], minimum, maximum);
}

/** The migrations the writer applied, once it holds the lock and the file is open. */
function writerReady(worker: Worker, path: string, openTimeoutMs: number): Promise<number[]> {
  return new Promise((resolveOpen, rejectOpen) => {
    const stopListening = () => {
      clearTimeout(timer);
      worker.off("message", onMessage);
      worker.off("error", onError);
      worker.off("exit", onExit);
    };
    const fail = (detail: string) => {
      stopListening();
      void worker.terminate();
      rejectOpen(new LedgerStoreError("open_failed", `${path}: ${detail}`));
    };
    const onMessage = (message: FromWriter) => {
      if (message.type !== "ready") {
        fail(message.type === "open_failed" ? message.message : `unexpected ${message.type}`);
        return;
      }
      stopListening();
      resolveOpen([...message.migrationsApplied]);
    };
    const onError = (error: Error) => fail(error.message);
    const onExit = (code: number) => fail(`the writer exited (code ${code}) before opening`);
    const timer = setTimeout(() => fail(`not open after ${openTimeoutMs} ms`), openTimeoutMs);
    worker.on("message", onMessage);
    worker.on("error", onError);
    worker.on("exit", onExit);
  });
}

/**
 * The writer runs this folder's TypeScript directly. Node 20 workers inherit neither a loader
 * installed with tsx's `register()` nor one preloaded through `execArgv: ["--import", "tsx"]`
 * (measured: both fail with "Unknown file extension .ts"), so while the sources are TypeScript
 * a two-line bootstrap registers tsx inside the worker first. tsx is found from this file, so
 * the caller's working directory does not matter. A build to JavaScript (ADR 0005) would start
 * the writer's .js file directly instead.
 */
function startWriter(settings: WriterSettings): Worker {
  const entry = new URL("./sqlite-ledger-writer.ts", import.meta.url);
  const tsxApi = import.meta.resolve("tsx/esm/api");
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(bootstrap, { eval: true, workerData: settings });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
