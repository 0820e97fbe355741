/**
 * The book's state (LedgerBookState) for the SQLite store, on the thread that decides.
 *
 * - **Counters** live here, in memory, and nowhere else: they are the ledger's sums (fundings and
 *   the payments' entries), rebuilt from the file at open (ADR 0009). Deciding therefore reads no
 *   account row and writes none; the durable record of every change is the payment row itself.
 * - **Payment ids** the file may hold are in a Bloom filter (`PaymentIdFilter`), so that a new
 *   payment — nearly every one — is known to be new without a read.
 * - **Records not yet committed** (a payment reserved, then committed, in batches still on their
 *   way to the disk) are kept here until their batch commits, so that a later call sees them;
 *   committed ones are read from the file through the reader.
 * - Every save appends its row write to the batch being gathered (`WriteBatch`), which the writer
 *   thread makes durable in one transaction.
 */
import type {
  AccountCounters,
  LedgerBookState,
  PaymentRecord,
  RefundRecord,
} from "../../core/ledger/ledger-book.ts";
import type { AccountNameParts, ReservationAnswer } from "../../core/ledger/reservation.ts";
import { entriesJsonOf, type PaymentRow, paymentOf } from "../ledger-rows.ts";
import { AccountIndex } from "./account-index.ts";
import { PaymentIdFilter } from "./payment-id-filter.ts";
import { WRITE_OPERATIONS, type WriteColumn } from "./sqlite-ledger-protocol.ts";
import type { SqliteLedgerReader } from "./sqlite-ledger-reader.ts";

/**
 * A call admitted by the store: its promise, and once decided, its answer, given out when the
 * batch holding it has committed. (One object rather than closures: thousands are in flight.)
 */
export class PendingCall {
  readonly promise: Promise<unknown>;
  /** The answer, once decided. */
  value: unknown;
  resolve!: (value: unknown) => void;
  reject!: (error: Error) => void;

  constructor(
    /** Requests the call counts for in the store's queue (`callWeight`). */
    readonly weight: number,
  ) {
    this.promise = new Promise((resolvePromise, rejectPromise) => {
      this.resolve = resolvePromise;
      this.reject = rejectPromise;
    });
  }
}

/** The writes of calls decided since the last batch was sent, and the calls waiting on them. */
export class WriteBatch {
  /** Emptied once posted (`sent`): the writer has its copy, and thousands of rows' strings go. */
  readonly writes: WriteColumn[] = [];
  /** Whether the batch had writes when it was sent: its answers then wait for its commit. */
  wrote = false;
  /** Payments and refunds this batch wrote, to forget once it has committed. */
  readonly paymentIds: string[] = [];
  readonly refundKeys: string[] = [];
  readonly calls: PendingCall[] = [];
  /** Requests decided into the batch (`callWeight`). */
  weight = 0;
  /** When it went to the writer thread (`performance.now()`), for the commit's duration. */
  sentAtMs = 0;

  constructor(readonly sequence: number) {}

  /** Where a call's writes start: `truncate` undoes the call's writes if it fails. */
  mark(): number {
    return this.writes.length;
  }

  truncate(mark: number): void {
    this.writes.length = mark;
  }

  /** The batch has gone to the writer (structured clone copied `writes`): its rows may go. */
  sent(): void {
    this.wrote = this.writes.length > 0;
    this.writes.length = 0;
  }
}

interface Uncommitted<T> {
  readonly record: T;
  /** The batch that wrote the record last. */
  readonly sequence: number;
}

/**
 * A payment written by a batch not yet committed. A new payment is kept as the row the batch
 * writes — strings already made for the writer — rather than as its objects: thousands of
 * payments can be on their way at once, and a few strings each cost the garbage collector far
 * less than a record's graph of entries and debits. Its answer is kept as the object the call
 * answers with, which lives until the batch commits anyway, not as `answer_json`: that string
 * goes once the batch is posted (`WriteBatch.sent`). A settled one keeps its record.
 */
type NewPaymentRow = Omit<PaymentRow, "answer_json">;

type UncommittedPayment =
  | {
      readonly row: NewPaymentRow;
      readonly answer: ReservationAnswer;
      readonly record?: undefined;
      readonly sequence: number;
    }
  | {
      readonly record: PaymentRecord;
      readonly row?: undefined;
      readonly answer?: undefined;
      readonly sequence: number;
    };

export class SqliteLedgerState implements LedgerBookState {
  private accounts = new AccountIndex();
  private readonly payments = new Map<string, UncommittedPayment>();
  private readonly refunds = new Map<string, Uncommitted<RefundRecord>>();
  /** Every id in the file, and every id saved since (a failed batch's ids stay: a false hit costs a read). */
  private paymentIds = new PaymentIdFilter();
  private batch: WriteBatch = new WriteBatch(0);

  constructor(private readonly reader: SqliteLedgerReader) {}

  /** The batch that saves go to from now on. */
  gatherInto(batch: WriteBatch): void {
    this.batch = batch;
  }

  /**
   * Rebuilds everything from the file — the counters as the ledger's sums, the id filter — and
   * forgets records waiting for a commit. At open, and after a failure once no batch is on its way.
   */
  async rebuild(): Promise<{ readonly paymentsRead: number; readonly accountsRebuilt: number }> {
    const accounts = new AccountIndex();
    const paymentIds = new PaymentIdFilter();
    const paymentsRead = await this.reader.sums(
      (account) => accounts.getOrCreate(account),
      (paymentId) => paymentIds.add(paymentId),
    );
    this.accounts = accounts;
    this.paymentIds = paymentIds;
    this.payments.clear();
    this.refunds.clear();
    return { paymentsRead, accountsRebuilt: accounts.size };
  }

  /** The batch has committed: its records are read from the file from now on. */
  committed(batch: WriteBatch): void {
    for (const paymentId of batch.paymentIds) {
      if (this.payments.get(paymentId)?.sequence === batch.sequence)
        this.payments.delete(paymentId);
    }
    for (const key of batch.refundKeys) {
      if (this.refunds.get(key)?.sequence === batch.sequence) this.refunds.delete(key);
    }
  }

  accountCount(): number {
    return this.accounts.size;
  }

  counterEntries(): Iterable<readonly [string, Readonly<AccountCounters>]> {
    return this.accounts.entries();
  }

  account(name: string, parts?: AccountNameParts): Readonly<AccountCounters> | undefined {
    return this.accounts.get(name, parts);
  }

  accountForUpdate(
    name: string,
    found?: Readonly<AccountCounters>,
    parts?: AccountNameParts,
  ): AccountCounters {
    // `found` is the live object `account(name)` gave out in this call: no second lookup.
    if (found !== undefined) return found as AccountCounters;
    return this.accounts.getOrCreate(name, parts);
  }

  /** A copy, as a database read would give: the book changes it, then saves it. */
  payment(paymentId: string): PaymentRecord | undefined {
    const uncommitted = this.payments.get(paymentId);
    if (uncommitted === undefined) {
      return this.paymentIds.mightHold(paymentId) ? this.reader.payment(paymentId) : undefined;
    }
    if (uncommitted.record === undefined) {
      // Rare (a replay or a settlement before the commit): the answer parsed from its JSON, as
      // the file will give it, never the object the first call answers with.
      return paymentOf({
        ...uncommitted.row,
        answer_json: JSON.stringify(uncommitted.answer),
      });
    }
    const { record } = uncommitted;
    return { ...record, entries: record.entries.map((entry) => ({ ...entry })) };
  }

  savePayment(record: PaymentRecord, isNew: boolean): void {
    const batch = this.batch;
    const entriesJson = entriesJsonOf(record);
    if (isNew) {
      const row: NewPaymentRow = {
        payment_id: record.paymentId,
        content_key: record.contentKey,
        state: record.state,
        expires_at_ms: record.expiresAtMs,
        payment_amount_minor: record.paymentAmountMinor,
        refunded_minor: record.refundedMinor,
        entries_json: entriesJson,
        at_ms: record.atMs,
        user_id: record.userId,
        scenario: record.scenario,
        region: record.region,
        owner: record.owner,
      };
      this.paymentIds.add(record.paymentId);
      // Column by column rather than a spread of `paymentRowValues`: no array made per payment.
      batch.writes.push(
        WRITE_OPERATIONS.insertPayment,
        row.payment_id,
        row.content_key,
        JSON.stringify(record.answer),
        row.state,
        row.expires_at_ms,
        row.payment_amount_minor,
        row.refunded_minor,
        row.entries_json,
        row.at_ms,
        row.user_id,
        row.scenario,
        row.region,
        row.owner,
      );
      this.payments.set(record.paymentId, {
        row,
        answer: record.answer,
        sequence: batch.sequence,
      });
    } else {
      batch.writes.push(
        WRITE_OPERATIONS.updatePayment,
        record.state,
        record.refundedMinor,
        entriesJson,
        record.paymentId,
      );
      // The book hands over the record it saves and does not change it afterwards.
      this.payments.set(record.paymentId, { record, sequence: batch.sequence });
    }
    batch.paymentIds.push(record.paymentId);
  }

  refund(paymentId: string, refundId: string): RefundRecord | undefined {
    const uncommitted = this.refunds.get(refundKey(paymentId, refundId));
    return uncommitted?.record ?? this.reader.refund(paymentId, refundId);
  }

  saveRefund(record: RefundRecord): void {
    const batch = this.batch;
    batch.writes.push(
      WRITE_OPERATIONS.insertRefund,
      record.paymentId,
      record.refundId,
      record.amountMinor,
      record.atMs,
      JSON.stringify(record.answer),
    );
    const key = refundKey(record.paymentId, record.refundId);
    this.refunds.set(key, { record, sequence: batch.sequence });
    batch.refundKeys.push(key);
  }

  saveFunding(account: string, amountMinor: number, reason: string, atMs: number): void {
    this.batch.writes.push(WRITE_OPERATIONS.insertFunding, account, amountMinor, reason, atMs);
  }

  /**
   * Reservations due at `nowMs`, earliest expiry first: the committed ones the file lists (less
   * those a batch on its way has changed since) and the uncommitted ones held here.
   */
  dueReservations(nowMs: number, limit: number): string[] {
    const due: { readonly paymentId: string; readonly expiresAtMs: number }[] = [];
    for (const row of this.reader.due(nowMs, limit + this.payments.size)) {
      if (!this.payments.has(row.payment_id)) {
        due.push({ paymentId: row.payment_id, expiresAtMs: row.expires_at_ms });
      }
    }
    for (const [paymentId, { record, row }] of this.payments) {
      const state = row === undefined ? record.state : row.state;
      const expiresAtMs = row === undefined ? record.expiresAtMs : row.expires_at_ms;
      if (state === "reserved" && expiresAtMs !== null && expiresAtMs <= nowMs) {
        due.push({ paymentId, expiresAtMs });
      }
    }
    // A stable sort: the file's rows keep their arrival order among equal expiries.
    due.sort((left, right) => left.expiresAtMs - right.expiresAtMs);
    return due.slice(0, limit).map((reservation) => reservation.paymentId);
  }
}

function refundKey(paymentId: string, refundId: string): string {
  return `${paymentId}\u0000${refundId}`;
}
