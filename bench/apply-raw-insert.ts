/**
 * The baseline of apply.sqlite: the ledger rows one pass of `apply` left behind — each payment's
 * row with its stored answer and its entries — read back from the store's file
 * and inserted into a fresh database with better-sqlite3 directly: the same schema, the store's
 * own insert statement, the same batch size per transaction and the same durability (WAL,
 * synchronous=FULL), on the calling thread. No quote, no plan, no limit checks, no counters,
 * no writer thread: what the disk and SQLite cost for the ledger rows alone.
 */
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { type PaymentRow, paymentRowValues } from "../src/stores/ledger-rows.ts";
import { migrate } from "../src/stores/sqlite/sqlite-ledger-schema.ts";
import { prepareWriterStatements } from "../src/stores/sqlite/sqlite-ledger-statements.ts";
import { measureThroughput, type Throughput } from "./benchmark.ts";

export class PassRows {
  constructor(readonly payments: readonly PaymentRow[]) {}

  describe(): string {
    const bytes = this.payments.reduce(
      (sum, row) => sum + row.answer_json.length + row.entries_json.length + row.content_key.length,
      0,
    );
    return `${this.payments.length} payment rows, ${Math.round(bytes / Math.max(1, this.payments.length))} bytes of key, answer and entries each`;
  }
}

/** The rows of the payments from `firstPaymentId` to `lastPaymentId`, in the order written. */
export function readPassRows(
  path: string,
  firstPaymentId: string,
  lastPaymentId: string,
): PassRows {
  const database = new BetterSqlite3(path, { readonly: true });
  try {
    const rowidOf = (paymentId: string) => {
      const row = database
        .prepare("SELECT rowid FROM payments WHERE payment_id = ?")
        .get(paymentId) as { rowid: number } | undefined;
      if (row === undefined) throw new Error(`payment ${paymentId} is not in the ledger`);
      return row.rowid;
    };
    const rows = database
      .prepare("SELECT * FROM payments WHERE rowid BETWEEN ? AND ? ORDER BY rowid")
      .all(rowidOf(firstPaymentId), rowidOf(lastPaymentId)) as PaymentRow[];
    return new PassRows(rows);
  } finally {
    database.close();
  }
}

/** Opens a fresh database as the store opens its own: same pragmas, same migrations. */
function openLikeTheStore(path: string): BetterSqlite3.Database {
  const database = new BetterSqlite3(path);
  database.pragma("journal_mode = WAL");
  database.pragma("synchronous = FULL");
  database.pragma("foreign_keys = ON");
  database.pragma("temp_store = MEMORY");
  migrate(database, 0);
  return database;
}

function insertAll(
  database: BetterSqlite3.Database,
  rows: PassRows,
  count: number,
  batchSize: number,
): number {
  const { begin, commit, insertPayment } = prepareWriterStatements(database);
  for (let start = 0; start < count; start += batchSize) {
    begin.run();
    for (let index = start; index < Math.min(count, start + batchSize); index += 1) {
      const row = rows.payments[index]!;
      insertPayment.run(...paymentRowValues(row));
    }
    commit.run();
  }
  return count;
}

/** Payments' rows inserted per second: each pass into a fresh file in `directory`. */
export async function applyRawInsertOpsPerSecond(
  rows: PassRows,
  directory: string,
  batchSize: number,
): Promise<Throughput> {
  let database: BetterSqlite3.Database | undefined;
  let files = 0;
  try {
    return await measureThroughput({
      count: rows.payments.length,
      warmUpCount: Math.min(rows.payments.length, 10_000),
      setUp: () => {
        database?.close();
        files += 1;
        database = openLikeTheStore(join(directory, `raw-insert-${files}.sqlite`));
        return database;
      },
      pass: (opened, count) => insertAll(opened, rows, count, batchSize),
    });
  } finally {
    database?.close();
  }
}
