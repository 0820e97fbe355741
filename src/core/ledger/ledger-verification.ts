/**
 * `bursar ledger verify`'s invariants (CONTRACTS.md), computed from scratch over a ledger's
 * records with the same definition of a counter the book moves them by (`contributionOf`), so a
 * store's counters, its records and the rules are checked against each other.
 */
import {
  type AccountCounters,
  contributionOf,
  type PaymentRecord,
  zeroCounters,
} from "./ledger-book.ts";

/** What the invariants read of a payment: everything but its stored answer and content key. */
export type PaymentLedgerPart = Pick<
  PaymentRecord,
  "paymentId" | "state" | "paymentAmountMinor" | "refundedMinor" | "entries"
>;

export interface LedgerViolation {
  readonly invariant: string;
  readonly budget: string;
  readonly expected: string;
  readonly actual: string;
}

/** `bursar ledger verify`'s report (CONTRACTS.md). */
export interface LedgerVerification {
  readonly budgets: number;
  readonly violations: readonly LedgerViolation[];
  readonly ok: boolean;
}

/** What a store hands the verification; each stream is read once. */
export interface LedgerContents {
  /**
   * The counters the store keeps. Absent for a ledger read without its store (the SQLite file,
   * whose counters live in the running store's memory): the sums then stand for them, and only
   * the invariants over the sums and the records are checked.
   */
  readonly accounts?: Iterable<readonly [string, Readonly<AccountCounters>]>;
  /** The sum of the funding records per account. */
  readonly fundedByAccount: ReadonlyMap<string, number>;
  readonly payments: Iterable<PaymentLedgerPart>;
  /** The sum of the stored refunds per payment. */
  readonly refundedByPayment: ReadonlyMap<string, number>;
  /**
   * Stores with budget leases (PostgreSQL, ADR 0008): per leased account, the money its counters
   * say is leased and the unused money its lease rows hold.
   */
  readonly leases?: readonly {
    readonly account: string;
    readonly leasedMinor: number;
    readonly unusedInLeasesMinor: number;
  }[];
}

/**
 * One row of a store's per-subsidy table (PostgreSQL `subsidies`, ADR 0015), which repeats a
 * payment's entries for the impact report: verification compares it with the entry it copies.
 */
export interface SubsidyRowPart {
  readonly entryIndex: number;
  readonly campaignId: string;
  readonly campaignVersion: number;
  readonly funding: string;
  readonly state: string;
  readonly reservedMinor: number;
  readonly committedMinor: number;
  readonly reversedMinor: number;
}

/** A subsidy row, or the row an entry should have, as a violation shows it. */
function subsidyRowText(row: Omit<SubsidyRowPart, "entryIndex">): string {
  return `${row.campaignId}@${row.campaignVersion} ${row.funding} ${row.state} reserved ${row.reservedMinor} committed ${row.committedMinor} reversed ${row.reversedMinor}`;
}

export type LedgerSums = Map<string, AccountCounters>;

/** The sums before any payment: what was funded into each account. */
function fundedSums(fundedByAccount: ReadonlyMap<string, number>): LedgerSums {
  const sums: LedgerSums = new Map();
  for (const [account, fundedMinor] of fundedByAccount) {
    sums.set(account, { ...zeroCounters(), fundedMinor });
  }
  return sums;
}

/**
 * Adds what one payment's entries hold or spent to each account's counters, as `countersOf`
 * finds (or creates) them: the verification's sums here, the SQLite store's counters at open.
 */
export function addContributions(
  countersOf: (account: string) => AccountCounters,
  record: PaymentLedgerPart,
): void {
  for (const entry of record.entries) {
    for (const debit of entry.debits) {
      const contribution = contributionOf(record.state, entry, debit);
      const counters = countersOf(debit.account);
      counters.reservedMinor += contribution.reservedMinor;
      counters.reservedCount += contribution.reservedCount;
      counters.spentMinor += contribution.spentMinor;
      counters.spentCount += contribution.spentCount;
    }
  }
}

/** Every counter, next to the invariant that checks it against the ledger. */
const COUNTER_INVARIANTS = [
  ["funded_equals_fundings", "fundedMinor"],
  ["reserved_equals_ledger", "reservedMinor"],
  ["spent_equals_ledger", "spentMinor"],
  ["reserved_count_equals_ledger", "reservedCount"],
  ["spent_count_equals_ledger", "spentCount"],
] as const;

interface CounterDifference {
  readonly account: string;
  readonly counter: (typeof COUNTER_INVARIANTS)[number][1];
  readonly invariant: (typeof COUNTER_INVARIANTS)[number][0];
  /** The ledger's sum. */
  readonly expected: number;
  /** The stored counter (0 for an account the counters lack). */
  readonly actual: number;
}

/**
 * Compares every stored account's counters with the ledger's sums, and reports accounts the
 * ledger draws on that have no counters; `onAccount` sees each stored account once. Returns how
 * many accounts are stored. Verification reports the differences.
 */
function compareCounters(
  accounts: Iterable<readonly [string, Readonly<AccountCounters>]>,
  sums: LedgerSums,
  onDifference: (difference: CounterDifference) => void,
  onAccount: (account: string, counters: Readonly<AccountCounters>) => void = () => {},
): number {
  let stored = 0;
  const seen = new Set<string>();
  for (const [account, counters] of accounts) {
    stored += 1;
    seen.add(account);
    const expected = sums.get(account);
    for (const [invariant, counter] of COUNTER_INVARIANTS) {
      const sum = expected?.[counter] ?? 0;
      if (sum !== counters[counter]) {
        onDifference({ account, counter, invariant, expected: sum, actual: counters[counter] });
      }
    }
    onAccount(account, counters);
  }
  for (const [account, expected] of sums) {
    if (seen.has(account)) continue;
    for (const [invariant, counter] of COUNTER_INVARIANTS) {
      if (expected[counter] !== 0) {
        onDifference({ account, counter, invariant, expected: expected[counter], actual: 0 });
      }
    }
  }
  return stored;
}

/**
 * The verification, fed one payment at a time (a store can page through a large ledger without
 * holding it), then finished with the stored counters.
 */
export class LedgerAudit {
  private readonly sums: LedgerSums;
  private readonly violations: LedgerViolation[] = [];

  constructor(
    private readonly fundedByAccount: ReadonlyMap<string, number>,
    private readonly refundedByPayment: ReadonlyMap<string, number>,
  ) {
    this.sums = fundedSums(fundedByAccount);
  }

  private readonly countersOf = (account: string): AccountCounters => {
    let counters = this.sums.get(account);
    if (counters === undefined) {
      counters = zeroCounters();
      this.sums.set(account, counters);
    }
    return counters;
  };

  private violation(invariant: string, budget: string, expected: unknown, actual: unknown): void {
    this.violations.push({ invariant, budget, expected: String(expected), actual: String(actual) });
  }

  addPayment(record: PaymentLedgerPart): void {
    addContributions(this.countersOf, record);
    const campaigns = new Set<string>();
    for (const entry of record.entries) {
      if (campaigns.has(entry.campaignId)) {
        this.violation("one_entry_per_payment_and_campaign", entry.campaignId, 1, "2 or more");
      }
      campaigns.add(entry.campaignId);
      if (entry.reversedMinor < 0 || entry.reversedMinor > entry.committedMinor) {
        this.violation(
          "reversed_within_committed",
          entry.campaignId,
          `0..${entry.committedMinor}`,
          entry.reversedMinor,
        );
      }
    }
    if (record.refundedMinor > record.paymentAmountMinor) {
      this.violation(
        "refunds_within_payment",
        record.paymentId,
        `<= ${record.paymentAmountMinor}`,
        record.refundedMinor,
      );
    }
    const refundRecords = this.refundedByPayment.get(record.paymentId) ?? 0;
    if (refundRecords !== record.refundedMinor) {
      this.violation(
        "refunded_equals_refunds",
        record.paymentId,
        refundRecords,
        record.refundedMinor,
      );
    }
  }

  /**
   * A payment's subsidy rows against its entries (stores that keep them): one row per entry of
   * a payment holding a reservation, with the entry's campaign, version, funding and amounts and
   * the payment's state — what the impact report counts. `record` is undefined for rows whose
   * payment holds no reservation (or is absent): any row of it is one too many.
   */
  addSubsidyRows(
    paymentId: string,
    record: PaymentLedgerPart | undefined,
    rows: readonly SubsidyRowPart[],
  ): void {
    const state = record?.state ?? null;
    const entries = state === null ? [] : record!.entries;
    const rowsByIndex = new Map(rows.map((row) => [row.entryIndex, row]));
    entries.forEach((entry, index) => {
      const row = rowsByIndex.get(index);
      const expected = subsidyRowText({ ...entry, state: state! });
      const actual = row === undefined ? "no row" : subsidyRowText(row);
      if (actual !== expected) {
        this.violation(
          "subsidy_rows_equal_entries",
          paymentId,
          `entry ${index}: ${expected}`,
          `entry ${index}: ${actual}`,
        );
      }
    });
    for (const row of rows) {
      if (row.entryIndex >= 0 && row.entryIndex < entries.length) continue;
      this.violation(
        "subsidy_rows_equal_entries",
        paymentId,
        `entry ${row.entryIndex}: no row`,
        `entry ${row.entryIndex}: ${subsidyRowText(row)}`,
      );
    }
  }

  finish(
    accounts: LedgerContents["accounts"] = this.sums,
    leases: LedgerContents["leases"] = [],
  ): LedgerVerification {
    const leasedByAccount = new Map<string, number>();
    for (const lease of leases) {
      leasedByAccount.set(lease.account, lease.leasedMinor);
      if (lease.leasedMinor !== lease.unusedInLeasesMinor) {
        this.violation(
          "leased_equals_leases",
          lease.account,
          lease.unusedInLeasesMinor,
          lease.leasedMinor,
        );
      }
    }
    const budgets = compareCounters(
      accounts,
      this.sums,
      (difference) =>
        this.violation(
          difference.invariant,
          difference.account,
          difference.expected,
          difference.actual,
        ),
      (account, counters) => {
        // available + leased + reserved + spent == funded, with nothing negative.
        const leased = leasedByAccount.get(account) ?? 0;
        if (
          this.fundedByAccount.has(account) &&
          counters.reservedMinor + counters.spentMinor + leased > counters.fundedMinor
        ) {
          this.violation(
            "available_reserved_spent_equal_funded",
            account,
            `leased + reserved + spent <= ${counters.fundedMinor}`,
            counters.reservedMinor + counters.spentMinor + leased,
          );
        }
      },
    );
    return { budgets, violations: this.violations, ok: this.violations.length === 0 };
  }
}

export function verifyLedger(contents: LedgerContents): LedgerVerification {
  const audit = new LedgerAudit(contents.fundedByAccount, contents.refundedByPayment);
  for (const record of contents.payments) audit.addPayment(record);
  return audit.finish(contents.accounts, contents.leases);
}
