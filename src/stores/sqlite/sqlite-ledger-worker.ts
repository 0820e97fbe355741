/**
 * The worker thread that owns the SQLite connection (started by `SqliteLedgerStore.open`).
 * Durable writes block on fsync; here they block this thread, never the caller's event loop.
 *
 * Group commit: calls queue up in arrival order. When the queue was empty, the worker waits up to
 * `batchWaitMs` for company; calls that arrive while a transaction commits wait for no timer, as
 * they have already waited for the disk. One batch takes calls while it holds fewer than
 * `batchSizeMax` requests, decides them in one transaction, and posts every answer after COMMIT.
 */
import { parentPort, workerData } from "node:worker_threads";
import { SqliteLedgerDatabase } from "./sqlite-ledger-database.ts";
import {
  type CallResult,
  callWeight,
  type FromWorker,
  type QueuedCall,
  type ToWorker,
  type WorkerSettings,
} from "./sqlite-ledger-protocol.ts";

interface Waiting extends QueuedCall {
  readonly weight: number;
}

class GroupCommitter {
  private readonly queue: Waiting[] = [];
  private head = 0;
  /** Requests queued and not yet taken into a batch. */
  private weightQueued = 0;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private closing = false;
  /** True from the end of a batch until the messages that came in meanwhile are delivered. */
  private justCommitted = false;

  constructor(
    private readonly database: SqliteLedgerDatabase,
    private readonly settings: WorkerSettings,
    private readonly post: (message: FromWorker) => void,
    private readonly exit: () => void,
  ) {}

  receive(message: ToWorker): void {
    if (message.type === "close") {
      this.closing = true;
      this.flushSoon();
      return;
    }
    const wasEmpty = this.pendingCount() === 0;
    for (const queued of message.calls) {
      const weight = callWeight(queued.call);
      this.queue.push({ ...queued, weight });
      this.weightQueued += weight;
    }
    // Calls delivered right after a commit arrived during it: they have waited long enough.
    if (this.weightQueued >= this.settings.batchSizeMax || this.justCommitted) this.flushSoon();
    else if (wasEmpty && this.immediate === undefined && this.timer === undefined) {
      this.timer = setTimeout(() => this.flush(), this.settings.batchWaitMs);
    }
  }

  private flushSoon(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.immediate === undefined) this.immediate = setImmediate(() => this.flush());
  }

  private flush(): void {
    this.timer = undefined;
    this.immediate = undefined;
    const batch: Waiting[] = [];
    let weight = 0;
    while (this.head < this.queue.length && weight < this.settings.batchSizeMax) {
      const next = this.queue[this.head]!;
      this.head += 1;
      batch.push(next);
      weight += next.weight;
    }
    this.weightQueued -= weight;
    this.compact();
    if (batch.length > 0) {
      const outcomes = this.database.runBatch(batch.map((waiting) => waiting.call));
      const results: CallResult[] = batch.map((waiting, index) => ({
        id: waiting.id,
        outcome: outcomes[index]!,
      }));
      this.post({ type: "results", results });
      // Messages are delivered in the poll phase, before this check-phase callback runs.
      this.justCommitted = true;
      setImmediate(() => {
        this.justCommitted = false;
      });
    }
    if (this.pendingCount() > 0) this.flushSoon();
    else if (this.closing) this.exit();
  }

  /** Drops answered calls from the front without shifting the array once per call. */
  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }

  private pendingCount(): number {
    return this.queue.length - this.head;
  }
}

function start(): void {
  const port = parentPort;
  if (port === null) throw new Error("sqlite-ledger-worker.ts runs only as a worker thread");
  const settings = workerData as WorkerSettings;
  const post = (message: FromWorker) => port.postMessage(message);
  let database: SqliteLedgerDatabase | undefined;
  try {
    const opened = SqliteLedgerDatabase.open(settings, settings.openedAtMs);
    database = opened.database;
    const recovery = database.recover(settings.openedAtMs);
    post({ type: "ready", recovery: { migrationsApplied: opened.migrationsApplied, ...recovery } });
  } catch (error) {
    database?.close();
    post({ type: "open_failed", message: error instanceof Error ? error.message : String(error) });
    port.close();
    return;
  }
  const open = database;
  // Closing the port ends the thread; the store's close() waits for that exit.
  const committer = new GroupCommitter(open, settings, post, () => {
    open.close();
    port.close();
  });
  port.on("message", (message: ToWorker) => committer.receive(message));
}

start();
