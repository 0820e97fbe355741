/**
 * `bursar ledger verify`'s invariants (CONTRACTS.md), computed from scratch over a ledger's
 * records with the same definition of a counter the book moves them by (`contributionOf`), so a
 * store's counters, its records and the rules are checked against each other.
 */
import { type AccountCounters, contributionOf, type PaymentRecord } from "./ledger-book.ts";

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
  readonly accounts: Iterable<readonly [string, Readonly<AccountCounters>]>;
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

export type LedgerSums = Map<string, AccountCounters>;

/** What every account's counters must be: the funding records and the records' contributions. */
export function ledgerSums(
  payments: Iterable<PaymentLedgerPart>,
  fundedByAccount: ReadonlyMap<string, number>,
  onPayment: (record: PaymentLedgerPart) => void = () => {},
): LedgerSums {
  const sums: LedgerSums = new Map();
  const sumsOf = (account: string) => {
    let counters = sums.get(account);
    if (counters === undefined) {
      counters = {
        fundedMinor: 0,
        reservedMinor: 0,
        spentMinor: 0,
        reservedCount: 0,
        spentCount: 0,
      };
      sums.set(account, counters);
    }
    return counters;
  };
  for (const [account, fundedMinor] of fundedByAccount) sumsOf(account).fundedMinor = fundedMinor;
  for (const record of payments) {
    onPayment(record);
    for (const entry of record.entries) {
      for (const debit of entry.debits) {
        const contribution = contributionOf(record.state, entry, debit);
        const counters = sumsOf(debit.account);
        counters.reservedMinor += contribution.reservedMinor;
        counters.reservedCount += contribution.reservedCount;
        counters.spentMinor += contribution.spentMinor;
        counters.spentCount += contribution.spentCount;
      }
    }
  }
  return sums;
}

/** Every counter, next to the invariant that checks it against the ledger. */
export const COUNTER_INVARIANTS = [
  ["funded_equals_fundings", "fundedMinor"],
  ["reserved_equals_ledger", "reservedMinor"],
  ["spent_equals_ledger", "spentMinor"],
  ["reserved_count_equals_ledger", "reservedCount"],
  ["spent_count_equals_ledger", "spentCount"],
] as const;

export function verifyLedger(contents: LedgerContents): LedgerVerification {
  const violations: LedgerViolation[] = [];
  const violation = (invariant: string, budget: string, expected: unknown, actual: unknown) =>
    violations.push({ invariant, budget, expected: String(expected), actual: String(actual) });
  const sums = ledgerSums(contents.payments, contents.fundedByAccount, (record) => {
    const campaigns = new Set<string>();
    for (const entry of record.entries) {
      if (campaigns.has(entry.campaignId)) {
        violation("one_entry_per_payment_and_campaign", entry.campaignId, 1, "2 or more");
      }
      campaigns.add(entry.campaignId);
      if (entry.reversedMinor < 0 || entry.reversedMinor > entry.committedMinor) {
        violation(
          "reversed_within_committed",
          entry.campaignId,
          `0..${entry.committedMinor}`,
          entry.reversedMinor,
        );
      }
    }
    if (record.refundedMinor > record.paymentAmountMinor) {
      violation(
        "refunds_within_payment",
        record.paymentId,
        `<= ${record.paymentAmountMinor}`,
        record.refundedMinor,
      );
    }
    const refundRecords = contents.refundedByPayment.get(record.paymentId) ?? 0;
    if (refundRecords !== record.refundedMinor) {
      violation("refunded_equals_refunds", record.paymentId, refundRecords, record.refundedMinor);
    }
  });
  const leasedByAccount = new Map<string, number>();
  for (const lease of contents.leases ?? []) {
    leasedByAccount.set(lease.account, lease.leasedMinor);
    if (lease.leasedMinor !== lease.unusedInLeasesMinor) {
      violation(
        "leased_equals_leases",
        lease.account,
        lease.unusedInLeasesMinor,
        lease.leasedMinor,
      );
    }
  }
  let budgets = 0;
  const seen = new Set<string>();
  for (const [account, counters] of contents.accounts) {
    budgets += 1;
    seen.add(account);
    const expected = sums.get(account);
    for (const [invariant, counter] of COUNTER_INVARIANTS) {
      const want = expected?.[counter] ?? 0;
      if (want !== counters[counter]) violation(invariant, account, want, counters[counter]);
    }
    // available + leased + reserved + spent == funded, with nothing negative.
    const leased = leasedByAccount.get(account) ?? 0;
    if (
      contents.fundedByAccount.has(account) &&
      counters.reservedMinor + counters.spentMinor + leased > counters.fundedMinor
    ) {
      violation(
        "available_reserved_spent_equal_funded",
        account,
        `leased + reserved + spent <= ${counters.fundedMinor}`,
        counters.reservedMinor + counters.spentMinor + leased,
      );
    }
  }
  // An account the ledger draws on but whose counters are missing.
  for (const [account, expected] of sums) {
    if (seen.has(account)) continue;
    for (const [invariant, counter] of COUNTER_INVARIANTS) {
      if (expected[counter] !== 0) violation(invariant, account, expected[counter], 0);
    }
  }
  return { budgets, violations, ok: violations.length === 0 };
}
