/**
 * The writer thread of the SQLite ledger (started by `SqliteLedgerStore.open`): it owns the only
 * writing connection and turns each batch of row writes the store decided into one transaction,
 * fsynced at COMMIT. Durable writes block on fsync here, never on the caller's event loop.
 *
 * It holds the ledger's writer lock for its whole life (`acquireWriterLock`): the store decides
 * on counters it keeps in memory, which would be wrong if a second process wrote the same file.
 * The operating system drops the lock when the process dies, so a SIGKILL leaves nothing to undo.
 *
 * A batch that fails is rolled back, and every later batch of the same epoch is dropped: they
 * were decided on top of it. The store rebuilds its counters from the file, then sends `resume`.
 */
import { parentPort, workerData } from "node:worker_threads";
import BetterSqlite3 from "better-sqlite3";
import {
  type FromWriter,
  type ToWriter,
  WRITE_OPERATIONS,
  type WriteColumn,
  type WriterSettings,
} from "./sqlite-ledger-protocol.ts";
import { migrate } from "./sqlite-ledger-schema.ts";
import { prepareWriterStatements, type WriterStatements } from "./sqlite-ledger-statements.ts";

/** The writer's page cache: the payments' index pages stay in memory as the ledger grows. */
const PAGE_CACHE_KIB = 65_536;

/** The writer lock's file, beside the ledger's. */
export function writerLockPath(path: string): string {
  return `${path}.writer-lock`;
}

/**
 * Takes the ledger's writer lock: an exclusive lock on a small SQLite file beside the ledger,
 * held until the connection closes (EXCLUSIVE locking mode keeps it after the first write). A
 * second writer, in this process or another, is refused at once with a clear message; readers
 * of the ledger itself (verification, reports) are not affected.
 */
export function acquireWriterLock(path: string): BetterSqlite3.Database {
  const lock = new BetterSqlite3(writerLockPath(path));
  try {
    lock.pragma("busy_timeout = 0");
    lock.pragma("locking_mode = EXCLUSIVE");
    lock.exec(`
      BEGIN EXCLUSIVE;
      CREATE TABLE IF NOT EXISTS writer (pid INTEGER NOT NULL, since_ms INTEGER NOT NULL);
      DELETE FROM writer;
    `);
    lock.prepare("INSERT INTO writer (pid, since_ms) VALUES (?, ?)").run(process.pid, Date.now());
    lock.exec("COMMIT");
    return lock;
  } catch (error) {
    lock.close();
    const busy = (error as { code?: string }).code === "SQLITE_BUSY";
    throw new Error(
      busy
        ? "the ledger is open for writing by another store (in this or another process); one writer per ledger file"
        : `could not take the writer lock: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/** Opens (creating if needed) and migrates the ledger for writing. */
function openLedger(settings: WriterSettings): {
  database: BetterSqlite3.Database;
  migrationsApplied: number[];
} {
  const database = new BetterSqlite3(settings.path);
  try {
    database.pragma(`busy_timeout = ${Math.trunc(settings.busyTimeoutMs)}`);
    const mode = database.pragma("journal_mode = WAL", { simple: true });
    if (mode !== "wal") throw new Error(`could not put ${settings.path} in WAL mode (got ${mode})`);
    // FULL: each commit is fsynced before it returns, so an answer is durable before it is sent.
    database.pragma("synchronous = FULL");
    database.pragma("foreign_keys = ON");
    database.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
    database.pragma("temp_store = MEMORY");
    return { database, migrationsApplied: migrate(database, settings.openedAtMs) };
  } catch (error) {
    database.close();
    throw error;
  }
}

/** Runs the writes of one batch inside the caller's transaction. */
function runWrites(statements: WriterStatements, writes: readonly WriteColumn[]): void {
  const w = writes;
  let at = 0;
  while (at < w.length) {
    const operation = w[at];
    switch (operation) {
      case WRITE_OPERATIONS.insertPayment:
        statements.insertPayment.run(
          w[at + 1],
          w[at + 2],
          w[at + 3],
          w[at + 4],
          w[at + 5],
          w[at + 6],
          w[at + 7],
          w[at + 8],
          w[at + 9],
          w[at + 10],
          w[at + 11],
          w[at + 12],
          w[at + 13],
        );
        at += 14;
        break;
      case WRITE_OPERATIONS.updatePayment:
        statements.updatePayment.run(w[at + 1], w[at + 2], w[at + 3], w[at + 4]);
        at += 5;
        break;
      case WRITE_OPERATIONS.insertRefund:
        statements.insertRefund.run(w[at + 1], w[at + 2], w[at + 3], w[at + 4], w[at + 5]);
        at += 6;
        break;
      case WRITE_OPERATIONS.insertFunding:
        statements.insertFunding.run(w[at + 1], w[at + 2], w[at + 3], w[at + 4]);
        at += 5;
        break;
      default:
        throw new Error(`unknown write operation ${String(operation)} at ${at}`);
    }
  }
}

class LedgerWriter {
  /** Batches of this epoch are written; -1 after a failure, until the store resumes. */
  private epoch = 0;

  constructor(
    private readonly database: BetterSqlite3.Database,
    private readonly statements: WriterStatements,
    private readonly post: (message: FromWriter) => void,
  ) {}

  receive(message: Exclude<ToWriter, { type: "close" }>): void {
    if (message.type === "resume") {
      this.epoch = message.epoch;
      return;
    }
    if (message.epoch !== this.epoch) return;
    try {
      this.statements.begin.run();
      runWrites(this.statements, message.writes);
      this.statements.commit.run();
      this.post({ type: "committed", sequence: message.sequence });
    } catch (error) {
      if (this.database.inTransaction) this.statements.rollback.run();
      this.epoch = -1;
      this.post({
        type: "failed",
        sequence: message.sequence,
        message: error instanceof Error ? error.message : String(error),
      });
    }
  }
}

function start(): void {
  const port = parentPort;
  if (port === null) throw new Error("sqlite-ledger-writer.ts runs only as a worker thread");
  const settings = workerData as WriterSettings;
  const post = (message: FromWriter) => port.postMessage(message);
  let lock: BetterSqlite3.Database | undefined;
  let database: BetterSqlite3.Database | undefined;
  try {
    lock = acquireWriterLock(settings.path);
    const opened = openLedger(settings);
    database = opened.database;
    post({ type: "ready", migrationsApplied: opened.migrationsApplied });
  } catch (error) {
    database?.close();
    lock?.close();
    post({ type: "open_failed", message: error instanceof Error ? error.message : String(error) });
    port.close();
    return;
  }
  const open = database;
  const held = lock;
  const writer = new LedgerWriter(open, prepareWriterStatements(open), post);
  port.on("message", (message: ToWriter) => {
    if (message.type !== "close") {
      writer.receive(message);
      return;
    }
    // Closing the port ends the thread; the store's close() waits for that exit.
    open.close();
    held.close();
    port.close();
  });
}

start();
