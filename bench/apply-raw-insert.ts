/**
 * The baseline of apply.sqlite: the rows one pass of `apply` left in the ledger — each payment's
 * row with its stored answer, its entry rows and their debit rows — read back from the store's
 * file and inserted into a fresh database with better-sqlite3 directly: the same schema, the same
 * statements, the same batch size per transaction and the same durability (WAL,
 * synchronous=FULL), on the calling thread. No quote, no plan, no guarded debits, no worker: what
 * the disk and SQLite cost for the rows alone.
 */
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { migrate } from "../src/stores/sqlite/sqlite-ledger-schema.ts";
import { measureThroughput, type Throughput } from "./benchmark.ts";

interface DebitRow {
  readonly position: number;
  readonly account: string;
  readonly amountMinor: number;
  readonly count: number;
}

interface EntryRow {
  readonly position: number;
  readonly campaignId: string;
  readonly reservedMinor: number;
  readonly debits: DebitRow[];
}

interface PaymentRow {
  readonly paymentId: string;
  readonly contentKey: string;
  readonly answerJson: string;
  readonly state: string | null;
  readonly expiresAtMs: number | null;
  readonly entries: EntryRow[];
}

export class PassRows {
  constructor(readonly payments: readonly PaymentRow[]) {}

  describe(): string {
    const entries = this.payments.reduce((sum, payment) => sum + payment.entries.length, 0);
    const debits = this.payments.reduce(
      (sum, payment) =>
        sum + payment.entries.reduce((inner, entry) => inner + entry.debits.length, 0),
      0,
    );
    return `${this.payments.length} payment rows, ${entries} entry rows, ${debits} debit rows`;
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
    const first = rowidOf(firstPaymentId);
    const last = rowidOf(lastPaymentId);
    const payments = database
      .prepare(
        "SELECT payment_id, content_key, answer_json, state, expires_at_ms FROM payments WHERE rowid BETWEEN ? AND ? ORDER BY rowid",
      )
      .all(first, last) as {
      payment_id: string;
      content_key: string;
      answer_json: string;
      state: string | null;
      expires_at_ms: number | null;
    }[];
    const rows = new Map<string, PaymentRow>();
    for (const row of payments) {
      rows.set(row.payment_id, {
        paymentId: row.payment_id,
        contentKey: row.content_key,
        answerJson: row.answer_json,
        state: row.state,
        expiresAtMs: row.expires_at_ms,
        entries: [],
      });
    }
    const entries = database
      .prepare(`
        SELECT e.entry_id, e.payment_id, e.position, e.campaign_id, e.reserved_minor
        FROM entries e JOIN payments p ON p.payment_id = e.payment_id
        WHERE p.rowid BETWEEN ? AND ? ORDER BY e.entry_id
      `)
      .all(first, last) as {
      entry_id: number;
      payment_id: string;
      position: number;
      campaign_id: string;
      reserved_minor: number;
    }[];
    const entriesById = new Map<number, EntryRow>();
    for (const row of entries) {
      const entry: EntryRow = {
        position: row.position,
        campaignId: row.campaign_id,
        reservedMinor: row.reserved_minor,
        debits: [],
      };
      entriesById.set(row.entry_id, entry);
      rows.get(row.payment_id)!.entries.push(entry);
    }
    if (entries.length > 0) {
      const debits = database
        .prepare(
          "SELECT entry_id, position, account, amount_minor, count FROM entry_debits WHERE entry_id BETWEEN ? AND ? ORDER BY entry_id, position",
        )
        .all(entries[0]!.entry_id, entries[entries.length - 1]!.entry_id) as {
        entry_id: number;
        position: number;
        account: string;
        amount_minor: number;
        count: number;
      }[];
      for (const row of debits) {
        entriesById.get(row.entry_id)?.debits.push({
          position: row.position,
          account: row.account,
          amountMinor: row.amount_minor,
          count: row.count,
        });
      }
    }
    return new PassRows([...rows.values()]);
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
  const begin = database.prepare("BEGIN IMMEDIATE");
  const commit = database.prepare("COMMIT");
  // The store's own statements (src/stores/sqlite/sqlite-ledger-statements.ts).
  const insertPayment = database.prepare(
    "INSERT INTO payments (payment_id, content_key, answer_json, state, expires_at_ms) VALUES (?, ?, ?, ?, ?)",
  );
  const insertEntry = database.prepare(
    "INSERT INTO entries (payment_id, position, campaign_id, reserved_minor) VALUES (?, ?, ?, ?)",
  );
  const insertDebit = database.prepare(
    "INSERT INTO entry_debits (entry_id, position, account, amount_minor, count) VALUES (?, ?, ?, ?, ?)",
  );
  let written = 0;
  for (let start = 0; start < count; start += batchSize) {
    begin.run();
    for (let index = start; index < Math.min(count, start + batchSize); index += 1) {
      const payment = rows.payments[index]!;
      insertPayment.run(
        payment.paymentId,
        payment.contentKey,
        payment.answerJson,
        payment.state,
        payment.expiresAtMs,
      );
      for (const entry of payment.entries) {
        const entryId = insertEntry.run(
          payment.paymentId,
          entry.position,
          entry.campaignId,
          entry.reservedMinor,
        ).lastInsertRowid;
        for (const debit of entry.debits) {
          insertDebit.run(entryId, debit.position, debit.account, debit.amountMinor, debit.count);
        }
        written += 1;
      }
    }
    commit.run();
  }
  return written;
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
