/**
 * One group-committed transaction of the PostgreSQL ledger: it locks what the batch's calls
 * name, loads those rows, lets the ledger book decide every call in memory, and writes the
 * changes back before COMMIT: new payments and their subsidies by COPY (ADR 0026), the rest with
 * a few array statements.
 *
 * Locks, always in this order so that processes never deadlock one another: the payment ids
 * (transaction-scoped advisory locks, sorted, so concurrent duplicates of one id wait for each
 * other and the second sees the first's row), then every per-identity and daily account the
 * batch may touch (created at zero if missing, then `SELECT … FOR UPDATE`, sorted, so a new
 * per-identity account is locked like any other and two processes cannot both decide on its
 * empty state), then the funded budgets (sorted). Accounts created only to be locked and left
 * untouched are removed before COMMIT.
 *
 * Funded budgets are decided in one of two modes (ADR 0008):
 * - `leased`: the book sees, for each budget, only this process's lease on it (unused money, no
 *   counters), so the budget's row is not locked while the batch decides: it is locked at the
 *   end, once the batch's payment rows are written, for its own update and the COMMIT, and the
 *   lease is charged with what was reserved from it. A batch whose
 *   lease falls short (a subsidy refused for a budget, a lease expired) is decided again in
 *   `locked` mode, so a lease never makes an answer differ from the exact one.
 * - `locked`: the budget's row is locked from the start, this process gives its own lease on it
 *   back, and the book sees the budget's real counters, less the money other leases hold.
 */
import type pg from "pg";
import {
  type AccountCounters,
  copyPaymentRecord,
  LedgerBook,
  type LedgerBookState,
  type PaymentRecord,
  type RefundRecord,
  zeroCounters,
} from "../../core/ledger/ledger-book.ts";
import type { RefundAnswer } from "../../core/ledger/refund.ts";
import type { ReserveResult } from "../../core/ledger/reservation.ts";
import type { BatchCall } from "../../ledger/queued-ledger-store.ts";
import {
  ACCOUNT_COLUMNS,
  type AccountRow,
  countersOf,
  entriesJsonOf,
  PAYMENT_COLUMNS,
  type PaymentRow,
  paymentOf,
  paymentRowOf,
  paymentRowValues,
} from "../ledger-rows.ts";
import { type CopyValue, copyRows } from "./postgres-copy.ts";
import { compareCodeUnits, type LeaseHolder } from "./postgres-ledger-leases.ts";

/** The payments table's columns in `PAYMENT_COLUMNS`' order, for COPY. */
const PAYMENT_COLUMN_NAMES = PAYMENT_COLUMNS.split(", ");

/** Namespace of the ledger's advisory locks on payment ids (two-key form). */
const PAYMENT_LOCK_CLASS = 4_250_117;

interface PendingPayment {
  record: PaymentRecord;
  isNew: boolean;
}

class BatchState implements LedgerBookState {
  readonly accounts = new Map<string, AccountCounters>();
  /** Locked rows' leased_minor (money in live leases, outside what the book sees). */
  readonly leasedOf = new Map<string, number>();
  /** Leased mode: each budget's view as the book first saw it; its changes are the deltas. */
  readonly leasedViews = new Map<string, AccountCounters>();
  /** Leased mode: the budgets' rows, locked for the writes at the end. */
  readonly lockedRows = new Map<string, AccountCounters>();
  readonly created = new Set<string>();
  readonly changed = new Set<string>();
  readonly payments = new Map<string, PaymentRecord>();
  readonly paymentWrites = new Map<string, PendingPayment>();
  readonly refunds = new Map<string, RefundRecord>();
  readonly refundWrites: RefundRecord[] = [];
  readonly fundingWrites: { account: string; amountMinor: number; reason: string; atMs: number }[] =
    [];
  due: readonly string[] = [];

  account(name: string): AccountCounters | undefined {
    if (this.created.has(name) && !this.changed.has(name)) return undefined;
    return this.accounts.get(name);
  }

  accountForUpdate(name: string): AccountCounters {
    const account = this.accounts.get(name);
    // Every account a call can touch was locked before deciding; anything else is a bug.
    if (account === undefined) throw new Error(`ledger account ${name} was not locked`);
    this.changed.add(name);
    return account;
  }

  payment(paymentId: string): PaymentRecord | undefined {
    const record = this.payments.get(paymentId);
    return record === undefined ? undefined : copyPaymentRecord(record);
  }

  savePayment(record: PaymentRecord, isNew: boolean): void {
    const saved = copyPaymentRecord(record);
    this.payments.set(record.paymentId, saved);
    const pending = this.paymentWrites.get(record.paymentId);
    this.paymentWrites.set(record.paymentId, {
      record: saved,
      isNew: isNew || pending?.isNew === true,
    });
  }

  refund(paymentId: string, refundId: string): RefundRecord | undefined {
    return this.refunds.get(refundKey(paymentId, refundId));
  }

  saveRefund(record: RefundRecord): void {
    this.refunds.set(refundKey(record.paymentId, record.refundId), record);
    this.refundWrites.push(record);
  }

  saveFunding(account: string, amountMinor: number, reason: string, atMs: number): void {
    this.fundingWrites.push({ account, amountMinor, reason, atMs });
  }

  dueReservations(): readonly string[] {
    return this.due;
  }
}

export type BudgetMode = "leased" | "locked";

export type BatchOutcome =
  | {
      readonly kind: "decided";
      readonly values: unknown[];
      /** Leased mode: money reserved from each lease, to charge locally after COMMIT. */
      readonly usedFromLeases: ReadonlyMap<string, number>;
      /** Locked mode: budgets whose leases this process gave back, to forget after COMMIT. */
      readonly leasesGivenBack: readonly string[];
    }
  | { readonly kind: "call_failed"; readonly index: number; readonly message: string }
  | { readonly kind: "needs_locks" };

/** Funded money each funded budget may be asked for by the batch's reservations. */
export function leaseDemand(calls: readonly (BatchCall | undefined)[]): Map<string, number> {
  const demand = new Map<string, number>();
  for (const call of calls) {
    if (call?.kind !== "reserve") continue;
    for (const request of call.requests) {
      for (const subsidy of request.subsidies) {
        for (const debit of subsidy.debits) {
          if (debit.funded)
            demand.set(debit.account, (demand.get(debit.account) ?? 0) + debit.amountMinor);
        }
      }
    }
  }
  return demand;
}

/**
 * Decides `calls` (skipping `skipped`) inside the transaction the caller opened on `client`, and
 * writes the changes; the caller commits. A call that throws is reported, and the caller rolls
 * back and runs the batch again without it; `needs_locks` asks for the batch again in locked mode.
 */
export async function decideBatch(
  client: pg.ClientBase,
  calls: readonly BatchCall[],
  skipped: ReadonlySet<number>,
  leases: LeaseHolder,
  requestedMode: BudgetMode,
): Promise<BatchOutcome> {
  const state = new BatchState();
  const active = calls.map((call, index) => (skipped.has(index) ? undefined : call));
  // Funding reads and changes the budget itself: only ever decided on its locked row.
  const mode: BudgetMode = active.some((call) => call?.kind === "fund" || call?.kind === "fundUpTo")
    ? "locked"
    : requestedMode;
  const dueByCall = new Map<number, string[]>();
  for (const [index, call] of active.entries()) {
    if (call?.kind !== "expireDue") continue;
    const { rows } = await client.query<{ payment_id: string }>(
      `SELECT payment_id FROM payments WHERE state = 'reserved' AND expires_at_ms <= $1
       ORDER BY expires_at_ms, payment_id LIMIT $2`,
      [call.nowMs, call.limit],
    );
    dueByCall.set(
      index,
      rows.map((row) => row.payment_id),
    );
  }
  const paymentIds = sortedUnique([
    ...active.flatMap((call) => paymentIdsOf(call)),
    ...[...dueByCall.values()].flat(),
  ]);
  await lockPayments(client, paymentIds);
  await loadPayments(client, state, paymentIds);
  const funded = new Set(fundedAccountsOf(active, state));
  const accountNames = sortedUnique([
    ...active.flatMap((call) => accountsOf(call)),
    ...[...state.payments.values()].flatMap((record) =>
      record.entries.flatMap((entry) => entry.debits.map((debit) => debit.account)),
    ),
  ]);
  await lockAccounts(
    client,
    state,
    accountNames.filter((name) => !funded.has(name)),
  );
  const budgets = sortedUnique([...funded]);
  const leasesGivenBack: string[] = [];
  if (mode === "locked") {
    await lockAccounts(client, state, budgets);
    // Expired leases (a holder that died) and this process's own come back to the budget.
    const expired = await leases.reclaimExpired(client, budgets);
    const returned = await leases.giveBack(client, budgets);
    for (const [budget, minor] of expired)
      returned.set(budget, (returned.get(budget) ?? 0) + minor);
    leasesGivenBack.push(...budgets);
    for (const budget of budgets) {
      const row = state.accounts.get(budget);
      if (row === undefined) continue;
      const leased = (state.leasedOf.get(budget) ?? 0) - (returned.get(budget) ?? 0);
      state.leasedOf.set(budget, leased);
      // The money given back is written with the batch even if nothing else changes the row.
      if (returned.has(budget)) state.changed.add(budget);
      // What other processes' leases hold is not this batch's to give: the book sees it as
      // reserved, so it fits no new debit, while the funded amount stays true for funding.
      row.reservedMinor += leased;
    }
  } else {
    for (const budget of budgets) {
      const view = { ...zeroCounters(), fundedMinor: leases.unused(budget) };
      state.accounts.set(budget, view);
      state.leasedViews.set(budget, { ...view });
    }
  }

  const book = new LedgerBook(state);
  const values: unknown[] = new Array(calls.length);
  const usedFromLeases = new Map<string, number>();
  for (const [index, call] of active.entries()) {
    if (call === undefined) continue;
    try {
      state.due = dueByCall.get(index) ?? [];
      values[index] = decide(book, call);
    } catch (error) {
      return {
        kind: "call_failed",
        index,
        message: error instanceof Error ? error.message : String(error),
      };
    }
    if (mode === "leased" && call.kind === "reserve") {
      const refused = chargeLeases(call, values[index] as ReserveResult[], usedFromLeases);
      // A subsidy refused for a budget: maybe the lease's shortfall, not the budget's.
      if (refused) return { kind: "needs_locks" };
    }
  }
  for (const [budget, used] of usedFromLeases) {
    if (used > leases.unused(budget)) return { kind: "needs_locks" }; // a lease short of what the batch reserved
  }
  // The rows no other process waits for go first (payments, their subsidies, refunds, fundings),
  // so that a leased batch locks its hot budget rows after its inserts: it holds them for their
  // own update and the COMMIT alone. Locked before the inserts, two processes on one hot budget
  // took turns for the whole of each other's writes.
  await writeRecords(client, state);
  if (mode === "leased") {
    // Only now, and only the budgets the batch changed: the hot rows are held until COMMIT.
    await lockAccounts(
      client,
      state,
      budgets.filter((budget) => state.changed.has(budget)),
      true,
    );
    if (!(await leases.spend(client, usedFromLeases))) {
      // A lease expired or was reclaimed meanwhile; the caller rolls the records back too.
      return { kind: "needs_locks" };
    }
  }
  await writeAccounts(client, state, usedFromLeases);
  return { kind: "decided", values, usedFromLeases, leasesGivenBack };
}

/**
 * Adds what a reserve call's accepted subsidies took from funded budgets; true when a subsidy was
 * refused with the code of one of its leased budgets (in leased mode that may be the lease's
 * shortfall, not the budget's).
 */
function chargeLeases(
  call: Extract<BatchCall, { kind: "reserve" }>,
  results: readonly ReserveResult[],
  used: Map<string, number>,
): boolean {
  let budgetRefused = false;
  call.requests.forEach((request, requestIndex) => {
    const result = results[requestIndex];
    if (result?.code !== "answered" || result.replayed) return;
    request.subsidies.forEach((subsidy, subsidyIndex) => {
      const answered = result.answer.subsidies[subsidyIndex];
      if (answered === undefined) return;
      if (answered.code !== "reserved") {
        // The answer names the refusal, not the debit: any leased budget that could have given
        // it may have been short only of its lease.
        if (subsidy.debits.some((debit) => debit.funded && debit.refusal === answered.code)) {
          budgetRefused = true;
        }
        return;
      }
      for (const debit of subsidy.debits) {
        if (debit.funded)
          used.set(debit.account, (used.get(debit.account) ?? 0) + debit.amountMinor);
      }
    });
  });
  return budgetRefused;
}

function fundedAccountsOf(calls: readonly (BatchCall | undefined)[], state: BatchState): string[] {
  const accounts: string[] = [...leaseDemand(calls).keys()];
  for (const call of calls) {
    if (call?.kind === "fund") accounts.push(call.account);
    if (call?.kind === "fundUpTo") accounts.push(...call.targets.map((target) => target.account));
  }
  for (const record of state.payments.values()) {
    for (const entry of record.entries) {
      for (const debit of entry.debits) if (debit.funded) accounts.push(debit.account);
    }
  }
  return accounts;
}

function decide(book: LedgerBook, call: BatchCall): unknown {
  switch (call.kind) {
    case "reserve":
      return call.requests.map((request) => book.reserve(request));
    case "settle":
      return call.commands.map((command) => book.settle(command));
    case "refund":
      return call.commands.map((command) => book.refund(command));
    case "fund":
      return book.fund(call.account, call.amountMinor, call.reason, call.atMs);
    case "fundUpTo":
      return book.fundUpTo(call.targets, call.reason, call.atMs);
    case "expireDue":
      return book.expireDue(call.nowMs, call.limit);
  }
}

function paymentIdsOf(call: BatchCall | undefined): string[] {
  if (call === undefined) return [];
  if (call.kind === "reserve") return call.requests.map((request) => request.paymentId);
  if (call.kind === "settle" || call.kind === "refund") {
    return call.commands.map((command) => command.paymentId);
  }
  return [];
}

function accountsOf(call: BatchCall | undefined): string[] {
  if (call === undefined) return [];
  switch (call.kind) {
    case "reserve":
      return call.requests.flatMap((request) =>
        request.subsidies.flatMap((subsidy) => subsidy.debits.map((debit) => debit.account)),
      );
    case "fund":
      return [call.account];
    case "fundUpTo":
      return call.targets.map((target) => target.account);
    default:
      // Settling, refunding and expiring touch the accounts of the payments' entries.
      return [];
  }
}

function sortedUnique(values: readonly string[]): string[] {
  // Code-unit order, the same in every process (no locale).
  return [...new Set(values)].sort(compareCodeUnits);
}

async function lockPayments(client: pg.ClientBase, paymentIds: readonly string[]): Promise<void> {
  if (paymentIds.length === 0) return;
  await client.query(
    `SELECT pg_advisory_xact_lock($1, key)
     FROM (SELECT DISTINCT hashtext(id) AS key FROM unnest($2::text[]) AS id ORDER BY 1) AS keys`,
    [PAYMENT_LOCK_CLASS, paymentIds],
  );
}

async function loadPayments(
  client: pg.ClientBase,
  state: BatchState,
  paymentIds: readonly string[],
): Promise<void> {
  if (paymentIds.length === 0) return;
  const payments = await client.query<PaymentRow>(
    `SELECT ${PAYMENT_COLUMNS} FROM payments WHERE payment_id = ANY($1::text[])`,
    [paymentIds],
  );
  for (const row of payments.rows) state.payments.set(row.payment_id, paymentOf(row));
  // Refunds only of the payments found: a refund's row needs its payment's (a foreign key), and
  // none can appear meanwhile, the batch holding each id's lock. New payments, most of a
  // busy batch, cost no second query.
  const found = payments.rows.map((row) => row.payment_id);
  if (found.length === 0) return;
  const refunds = await client.query<{
    payment_id: string;
    refund_id: string;
    amount_minor: number;
    at_ms: number;
    answer_json: string;
  }>(
    "SELECT payment_id, refund_id, amount_minor, at_ms, answer_json FROM refunds WHERE payment_id = ANY($1::text[])",
    [found],
  );
  for (const row of refunds.rows) {
    state.refunds.set(refundKey(row.payment_id, row.refund_id), {
      paymentId: row.payment_id,
      refundId: row.refund_id,
      amountMinor: row.amount_minor,
      atMs: row.at_ms,
      answer: JSON.parse(row.answer_json) as RefundAnswer,
    });
  }
}

async function lockAccounts(
  client: pg.ClientBase,
  state: BatchState,
  names: readonly string[],
  leasedBudgets = false,
): Promise<void> {
  if (names.length === 0) return;
  if (!leasedBudgets) {
    const created = await client.query<{ account: string }>(
      `INSERT INTO accounts (account) SELECT name FROM unnest($1::text[]) AS name ORDER BY 1
       ON CONFLICT (account) DO NOTHING RETURNING account`,
      [names],
    );
    for (const row of created.rows) state.created.add(row.account);
  }
  const locked = await client.query<AccountRow & { leased_minor: number }>(
    `SELECT ${ACCOUNT_COLUMNS}, leased_minor FROM accounts WHERE account = ANY($1::text[])
     ORDER BY account FOR UPDATE`,
    [names],
  );
  for (const row of locked.rows) {
    state.leasedOf.set(row.account, row.leased_minor);
    if (leasedBudgets) state.lockedRows.set(row.account, countersOf(row));
    else state.accounts.set(row.account, countersOf(row));
  }
}

/** The accounts the batch changed: counters and leased money, on rows it holds locked. */
async function writeAccounts(
  client: pg.ClientBase,
  state: BatchState,
  usedFromLeases: ReadonlyMap<string, number>,
): Promise<void> {
  const rows = new Map<string, { counters: AccountCounters; leased: number }>();
  for (const name of state.changed) {
    const view = state.accounts.get(name)!;
    const base = state.leasedViews.get(name);
    if (base === undefined) {
      // A locked row: the book saw what leases hold as reserved.
      const leased = state.leasedOf.get(name) ?? 0;
      rows.set(name, { counters: { ...view, reservedMinor: view.reservedMinor - leased }, leased });
      continue;
    }
    // A leased budget: the book's changes are deltas on the row locked just now.
    const fresh = state.lockedRows.get(name);
    if (fresh === undefined) throw new Error(`leased budget ${name} was not locked for writing`);
    const used = usedFromLeases.get(name) ?? 0;
    const counters = {
      fundedMinor: fresh.fundedMinor,
      reservedMinor: fresh.reservedMinor + view.reservedMinor - base.reservedMinor,
      spentMinor: fresh.spentMinor + view.spentMinor - base.spentMinor,
      reservedCount: fresh.reservedCount + view.reservedCount - base.reservedCount,
      spentCount: fresh.spentCount + view.spentCount - base.spentCount,
    };
    const leased = (state.leasedOf.get(name) ?? 0) - used;
    if (counters.reservedMinor + counters.spentMinor + leased > counters.fundedMinor) {
      throw new Error(`budget ${name} would be overspent; the lease accounting is broken`);
    }
    rows.set(name, { counters, leased });
  }
  const changed = [...rows.keys()];
  if (changed.length > 0) {
    const column = (pick: (counters: AccountCounters) => number) =>
      changed.map((name) => pick(rows.get(name)!.counters));
    await client.query(
      `UPDATE accounts AS a SET funded_minor = v.funded, reserved_minor = v.reserved,
         spent_minor = v.spent, reserved_count = v.reserved_count, spent_count = v.spent_count,
         leased_minor = v.leased
       FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[],
         $7::bigint[]) AS v(account, funded, reserved, spent, reserved_count, spent_count, leased)
       WHERE a.account = v.account`,
      [
        changed,
        column((counters) => counters.fundedMinor),
        column((counters) => counters.reservedMinor),
        column((counters) => counters.spentMinor),
        column((counters) => counters.reservedCount),
        column((counters) => counters.spentCount),
        changed.map((name) => rows.get(name)!.leased),
      ],
    );
  }
}

/**
 * Everything else the batch wrote: accounts created only to be locked and left untouched are
 * removed; new and changed payments with their subsidies, refunds and fundings are written.
 */
async function writeRecords(client: pg.ClientBase, state: BatchState): Promise<void> {
  const untouched = [...state.created].filter((name) => !state.changed.has(name));
  if (untouched.length > 0) {
    await client.query("DELETE FROM accounts WHERE account = ANY($1::text[])", [untouched]);
  }
  const writes = [...state.paymentWrites.values()];
  const inserts = writes.filter((write) => write.isNew).map((write) => write.record);
  const updates = writes.filter((write) => !write.isNew).map((write) => write.record);
  if (inserts.length > 0) {
    await copyRows(
      client,
      "payments",
      PAYMENT_COLUMN_NAMES,
      inserts.map((record) => paymentRowValues(paymentRowOf(record))),
    );
    await insertSubsidies(client, inserts);
  }
  if (updates.length > 0) {
    await client.query(
      `UPDATE payments AS p SET state = v.state, refunded_minor = v.refunded, entries_json = v.entries
       FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[]) AS v(payment_id, state, refunded, entries)
       WHERE p.payment_id = v.payment_id`,
      [
        updates.map((record) => record.paymentId),
        updates.map((record) => record.state),
        updates.map((record) => record.refundedMinor),
        updates.map((record) => entriesJsonOf(record)),
      ],
    );
    await updateSubsidies(client, updates);
  }
  if (state.refundWrites.length > 0) {
    const refunds = state.refundWrites;
    await client.query(
      `INSERT INTO refunds (payment_id, refund_id, amount_minor, at_ms, answer_json)
       SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::text[])`,
      [
        refunds.map((refund) => refund.paymentId),
        refunds.map((refund) => refund.refundId),
        refunds.map((refund) => refund.amountMinor),
        refunds.map((refund) => refund.atMs),
        refunds.map((refund) => JSON.stringify(refund.answer)),
      ],
    );
  }
  if (state.fundingWrites.length > 0) {
    const fundings = state.fundingWrites;
    await client.query(
      `INSERT INTO fundings (account, amount_minor, reason, at_ms)
       SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[])`,
      [
        fundings.map((funding) => funding.account),
        fundings.map((funding) => funding.amountMinor),
        fundings.map((funding) => funding.reason),
        fundings.map((funding) => funding.atMs),
      ],
    );
  }
}

/** The subsidies table's columns in the order insertSubsidies writes them (ADR 0015). */
const SUBSIDY_COLUMN_NAMES = [
  "payment_id",
  "entry_index",
  "campaign_id",
  "campaign_version",
  "template_id",
  "funding",
  "program_id",
  "at_ms",
  "user_id",
  "scenario",
  "region",
  "state",
  "reserved_minor",
  "committed_minor",
  "reversed_minor",
];

/** One `subsidies` row per entry of each new payment that holds a reservation (ADR 0015). */
async function insertSubsidies(
  client: pg.ClientBase,
  records: readonly PaymentRecord[],
): Promise<void> {
  const rows: CopyValue[][] = [];
  for (const record of records) {
    if (record.state === null) continue;
    record.entries.forEach((entry, index) => {
      rows.push([
        record.paymentId,
        index,
        entry.campaignId,
        entry.campaignVersion,
        entry.templateId,
        entry.funding,
        entry.programId,
        record.atMs,
        record.userId,
        record.scenario,
        record.region,
        record.state,
        entry.reservedMinor,
        entry.committedMinor,
        entry.reversedMinor,
      ]);
    });
  }
  await copyRows(client, "subsidies", SUBSIDY_COLUMN_NAMES, rows);
}

/** The settled payments' `subsidies` rows follow their state and amounts. */
async function updateSubsidies(
  client: pg.ClientBase,
  records: readonly PaymentRecord[],
): Promise<void> {
  const columns: unknown[][] = Array.from({ length: 5 }, () => []);
  for (const record of records) {
    record.entries.forEach((entry, index) => {
      const values = [
        record.paymentId,
        index,
        record.state,
        entry.committedMinor,
        entry.reversedMinor,
      ];
      values.forEach((value, column) => {
        columns[column]!.push(value);
      });
    });
  }
  if (columns[0]!.length === 0) return;
  await client.query(
    `UPDATE subsidies AS s SET state = v.state, committed_minor = v.committed,
       reversed_minor = v.reversed
     FROM unnest($1::text[], $2::smallint[], $3::text[], $4::bigint[], $5::bigint[])
       AS v(payment_id, entry_index, state, committed, reversed)
     WHERE s.payment_id = v.payment_id AND s.entry_index = v.entry_index`,
    columns,
  );
}

function refundKey(paymentId: string, refundId: string): string {
  return JSON.stringify([paymentId, refundId]);
}
