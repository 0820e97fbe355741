/**
 * The ledger's rows as the SQL stores keep them: a payment with its stored answer and its entries
 * as compact JSON (SQLite and PostgreSQL use the same columns), and an account's counters (only
 * PostgreSQL stores those; SQLite keeps them in memory, ADR 0009).
 *
 * entries_json: [[campaignId, reservedMinor, committedMinor, reversedMinor,
 *                 [[account, amountMinor, count, restoredByRefund 0|1, funded 0|1], ...],
 *                 campaignVersion, templateId|null, funding, programId|null], ...]
 * (rows written before `funded` was recorded lack it: read as 0, which only the PostgreSQL
 * store, which has no such rows, looks at; the last four, the grant's facts for impact reports,
 * were added by each store's facts migration, which wrote them into every older row)
 *
 * The payment's own facts (at_ms, user_id, scenario, region) are columns: the SQLite store's
 * impact report filters on them without parsing the answer. So is its owner (the principal whose
 * request made it; null for library callers and older rows), which every call on it compares.
 */
import type { FundingSource } from "../core/funding.ts";
import type {
  AccountCounters,
  EntryDebit,
  LedgerEntry,
  PaymentRecord,
} from "../core/ledger/ledger-book.ts";
import type { PaymentLedgerPart } from "../core/ledger/ledger-verification.ts";
import type { ReservationState } from "../core/ledger/reservation-lifecycle.ts";

export interface PaymentRow {
  readonly payment_id: string;
  readonly content_key: string;
  readonly answer_json: string;
  readonly state: ReservationState | null;
  readonly expires_at_ms: number | null;
  readonly payment_amount_minor: number;
  readonly refunded_minor: number;
  readonly entries_json: string;
  readonly at_ms: number | null;
  readonly user_id: string | null;
  readonly scenario: string | null;
  readonly region: string | null;
  readonly owner: string | null;
}

export interface AccountRow {
  readonly account: string;
  readonly funded_minor: number;
  readonly reserved_minor: number;
  readonly spent_minor: number;
  readonly reserved_count: number;
  readonly spent_count: number;
}

export const PAYMENT_COLUMNS =
  "payment_id, content_key, answer_json, state, expires_at_ms, payment_amount_minor, refunded_minor, entries_json, at_ms, user_id, scenario, region, owner";
/** A payment row's values, in the order of `PAYMENT_COLUMNS`. */
export function paymentRowValues(row: PaymentRow) {
  return [
    row.payment_id,
    row.content_key,
    row.answer_json,
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
  ] as const;
}

export const ACCOUNT_COLUMNS =
  "account, funded_minor, reserved_minor, spent_minor, reserved_count, spent_count";

export function countersOf(row: AccountRow): AccountCounters {
  return {
    fundedMinor: row.funded_minor,
    reservedMinor: row.reserved_minor,
    spentMinor: row.spent_minor,
    reservedCount: row.reserved_count,
    spentCount: row.spent_count,
  };
}

type EntryJson = [
  string,
  number,
  number,
  number,
  [string, number, number, 0 | 1, (0 | 1)?][],
  number,
  string | null,
  FundingSource,
  string | null,
];

/**
 * The arrays `entriesJsonOf` fills and stringifies, kept from call to call: the SQLite store saves
 * every payment on the deciding thread, and building a payment's ~25 small arrays afresh each time
 * was about a fifth of what an apply allocated there (ADR 0009). Nothing here is read after the
 * call returns. Each list is reused only at its own length, so that it stays a packed array
 * (JSON.stringify's fast path); the lists and tuples grow to the largest payment seen and keep the
 * last payment's strings until the next one overwrites them.
 */
const scratch = {
  /** By entry count: the list of entries. */
  entryLists: [] as EntryJson[][],
  /** By entry index: that entry's tuple. */
  entries: [] as EntryJson[],
  /** By entry index, then debit count: that entry's list of debits. */
  debitLists: [] as EntryJson[4][][],
  /** By the debit's place among the payment's debits: its tuple. */
  debits: [] as EntryJson[4][number][],
};

const PLACEHOLDER_DEBIT: EntryJson[4][number] = ["", 0, 0, 0, 0];
const PLACEHOLDER_ENTRY: EntryJson = ["", 0, 0, 0, [], 0, null, "platform", null];

/** `lists[length]`, made on first use as a list of `length` placeholders filled by pushing. */
function listOf<T>(lists: T[][], length: number, placeholder: T): T[] {
  let list = lists[length];
  if (list === undefined) {
    // Pushed rather than `new Array(length)`: a packed array, not a holey one.
    list = [];
    for (let index = 0; index < length; index += 1) list.push(placeholder);
    lists[length] = list;
  }
  return list;
}

/** `tuples[index]`, made on first use as a copy of `placeholder`. */
function tupleAt<T extends unknown[]>(tuples: T[], index: number, placeholder: T): T {
  let tuple = tuples[index];
  if (tuple === undefined) {
    tuple = [...placeholder] as T;
    tuples[index] = tuple;
  }
  return tuple;
}

/** The JSON of no entries: a payment nothing was reserved for. */
const NO_ENTRIES_JSON = "[]";

// Loops rather than callbacks: it runs for every payment the SQLite store saves (ADR 0009).
export function entriesJsonOf(record: PaymentRecord): string {
  const recordEntries = record.entries;
  const entryCount = recordEntries.length;
  if (entryCount === 0) return NO_ENTRIES_JSON;
  const entries = listOf(scratch.entryLists, entryCount, PLACEHOLDER_ENTRY);
  let debitsBefore = 0;
  for (let entryIndex = 0; entryIndex < entryCount; entryIndex += 1) {
    const entry = recordEntries[entryIndex]!;
    const entryDebits = entry.debits;
    const debitCount = entryDebits.length;
    let listsOfEntry = scratch.debitLists[entryIndex];
    if (listsOfEntry === undefined) {
      listsOfEntry = [];
      scratch.debitLists[entryIndex] = listsOfEntry;
    }
    const debits = listOf(listsOfEntry, debitCount, PLACEHOLDER_DEBIT);
    for (let index = 0; index < debitCount; index += 1) {
      const debit = entryDebits[index]!;
      const tuple = tupleAt(scratch.debits, debitsBefore + index, PLACEHOLDER_DEBIT);
      tuple[0] = debit.account;
      tuple[1] = debit.amountMinor;
      tuple[2] = debit.count;
      tuple[3] = debit.restoredByRefund ? 1 : 0;
      tuple[4] = debit.funded ? 1 : 0;
      debits[index] = tuple;
    }
    debitsBefore += debitCount;
    const tuple = tupleAt(scratch.entries, entryIndex, PLACEHOLDER_ENTRY);
    tuple[0] = entry.campaignId;
    tuple[1] = entry.reservedMinor;
    tuple[2] = entry.committedMinor;
    tuple[3] = entry.reversedMinor;
    tuple[4] = debits;
    tuple[5] = entry.campaignVersion;
    tuple[6] = entry.templateId;
    tuple[7] = entry.funding;
    tuple[8] = entry.programId;
    entries[entryIndex] = tuple;
  }
  return JSON.stringify(entries);
}

/** The columns the ledger's sums need: no stored answer to parse (recovery, verification). */
export const PAYMENT_LEDGER_COLUMNS =
  "payment_id, state, payment_amount_minor, refunded_minor, entries_json";

export type PaymentLedgerRow = Pick<
  PaymentRow,
  "payment_id" | "state" | "payment_amount_minor" | "refunded_minor" | "entries_json"
>;

export function paymentLedgerPartOf(row: PaymentLedgerRow): PaymentLedgerPart {
  return {
    paymentId: row.payment_id,
    state: row.state,
    paymentAmountMinor: row.payment_amount_minor,
    refundedMinor: row.refunded_minor,
    entries: entriesOf(row.entries_json),
  };
}

/**
 * The row a payment record is stored as: `paymentOf`'s inverse. The SQLite store builds its rows
 * column by column instead (no object per payment on its deciding thread, ADR 0009).
 */
export function paymentRowOf(record: PaymentRecord): PaymentRow {
  return {
    payment_id: record.paymentId,
    content_key: record.contentKey,
    answer_json: JSON.stringify(record.answer),
    state: record.state,
    expires_at_ms: record.expiresAtMs,
    payment_amount_minor: record.paymentAmountMinor,
    refunded_minor: record.refundedMinor,
    entries_json: entriesJsonOf(record),
    at_ms: record.atMs,
    user_id: record.userId,
    scenario: record.scenario,
    region: record.region,
    owner: record.owner,
  };
}

export function paymentOf(row: PaymentRow): PaymentRecord {
  return {
    ...paymentLedgerPartOf(row),
    contentKey: row.content_key,
    atMs: row.at_ms,
    userId: row.user_id,
    scenario: row.scenario,
    region: row.region,
    owner: row.owner,
    answer: JSON.parse(row.answer_json),
    expiresAtMs: row.expires_at_ms,
  };
}

function entriesOf(entriesJson: string): LedgerEntry[] {
  return (JSON.parse(entriesJson) as EntryJson[]).map(
    ([
      campaignId,
      reservedMinor,
      committedMinor,
      reversedMinor,
      debits,
      campaignVersion,
      templateId,
      funding,
      programId,
    ]): LedgerEntry => ({
      campaignId,
      campaignVersion,
      templateId: templateId ?? null,
      funding,
      programId: programId ?? null,
      reservedMinor,
      committedMinor,
      reversedMinor,
      debits: debits.map(
        ([account, amountMinor, count, restored, funded]): EntryDebit => ({
          account,
          amountMinor,
          count,
          restoredByRefund: restored === 1,
          funded: funded === 1,
        }),
      ),
    }),
  );
}
