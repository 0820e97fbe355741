import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { FUNDING_SOURCES } from "../../src/core/funding.ts";
import {
  copyPaymentRecord,
  type LedgerEntry,
  type PaymentRecord,
} from "../../src/core/ledger/ledger-book.ts";
import {
  entriesJsonOf,
  PAYMENT_COLUMNS,
  paymentOf,
  paymentRowOf,
  paymentRowValues,
} from "../../src/stores/ledger-rows.ts";

/** entries_json as ledger-rows.ts documents it, built the plain way: fresh arrays, one stringify. */
function referenceEntriesJson(record: PaymentRecord): string {
  return JSON.stringify(
    record.entries.map((entry) => [
      entry.campaignId,
      entry.reservedMinor,
      entry.committedMinor,
      entry.reversedMinor,
      entry.debits.map((debit) => [
        debit.account,
        debit.amountMinor,
        debit.count,
        debit.restoredByRefund ? 1 : 0,
        debit.funded ? 1 : 0,
      ]),
      entry.campaignVersion,
      entry.templateId,
      entry.funding,
      entry.programId,
    ]),
  );
}

const amount = fc.oneof(fc.nat(1_000), fc.constant(999_999_999_999_999));
const text = fc.oneof(
  fc.constantFrom("c1", "campaign/c1", 'quote"d', "back\\slash", "line\nbreak", "ünï"),
  fc.string({ maxLength: 12 }),
);

const entry: fc.Arbitrary<LedgerEntry> = fc.record({
  campaignId: text,
  campaignVersion: fc.nat(50),
  templateId: fc.option(text, { nil: null }),
  funding: fc.constantFrom(...FUNDING_SOURCES),
  programId: fc.option(text, { nil: null }),
  reservedMinor: amount,
  committedMinor: amount,
  reversedMinor: amount,
  // Up to the port's limit of debits per subsidy (LEDGER_CALL_LIMITS.debitsPerSubsidyMax).
  debits: fc.array(
    fc.record({
      account: text,
      amountMinor: amount,
      count: fc.nat(3),
      restoredByRefund: fc.boolean(),
      funded: fc.boolean(),
    }),
    { maxLength: 16 },
  ),
});

function recordWith(entries: LedgerEntry[]): PaymentRecord {
  return {
    paymentId: "p1",
    contentKey: "k",
    atMs: 0,
    userId: null,
    scenario: null,
    region: null,
    owner: "svc.checkout",
    answer: {
      paymentId: "p1",
      code: "no_subsidy",
      totalReservedMinor: 0,
      expiresAtMs: null,
      snapshotVersion: 1,
      subsidies: [],
    },
    state: entries.length === 0 ? null : "reserved",
    expiresAtMs: null,
    paymentAmountMinor: 100,
    refundedMinor: 0,
    entries,
  };
}

describe("entriesJsonOf", () => {
  // A sequence of records, not one: the function reuses its arrays from call to call, so a later
  // record with fewer (or as many) entries and debits must show nothing of an earlier one.
  test.prop([fc.array(fc.array(entry, { maxLength: 6 }), { minLength: 1, maxLength: 8 })])(
    "writes exactly the plain JSON of every record, in any order of shapes",
    (entryLists) => {
      for (const entries of entryLists) {
        const record = recordWith(entries);
        const json = entriesJsonOf(record);
        expect(json).toBe(referenceEntriesJson(record));
        const row = {
          payment_id: "p1",
          content_key: "k",
          answer_json: JSON.stringify(record.answer),
          state: record.state,
          expires_at_ms: null,
          payment_amount_minor: 100,
          refunded_minor: 0,
          entries_json: json,
          at_ms: 0,
          user_id: null,
          scenario: null,
          region: null,
          owner: record.owner,
        };
        expect(paymentOf(row).entries).toEqual(entries);
        expect(paymentOf(row).owner).toBe("svc.checkout");
      }
    },
  );
});

describe("copyPaymentRecord", () => {
  // The PostgreSQL batch copies records in and out with it, as the memory store does with
  // structuredClone: a change the book makes in place and does not save must not reach the row.
  test.prop([fc.array(entry, { maxLength: 6 }), amount, amount])(
    "equals a deep clone, and whatever the book changes in place in the copy leaves the original as it was",
    (entries, committedMinor, reversedMinor) => {
      const original = recordWith(entries);
      const before = structuredClone(original);
      const copy = copyPaymentRecord(original);
      expect(copy).toEqual(before);
      copy.state = "committed";
      copy.refundedMinor += 1;
      for (const each of copy.entries) {
        each.committedMinor = committedMinor;
        each.reversedMinor = reversedMinor;
      }
      copy.entries.push({ ...before.entries[0]!, campaignId: "added" });
      expect(original).toEqual(before);
    },
  );
});

describe("paymentRowOf", () => {
  // Every column a value of its own, so that two columns swapped in the row, or in the values'
  // order against PAYMENT_COLUMNS (what the PostgreSQL store's COPY writes), cannot pass.
  test.prop([fc.array(entry, { minLength: 1, maxLength: 4 }), fc.nat(1_000_000)])(
    "is paymentOf's inverse, and its values follow PAYMENT_COLUMNS",
    (entries, atMs) => {
      const record: PaymentRecord = {
        ...recordWith(entries),
        paymentId: "pay-1",
        contentKey: "content-1",
        atMs,
        userId: "user-1",
        scenario: "merchant",
        region: "310000",
        owner: "svc.checkout",
        expiresAtMs: 2_000_000_001,
        paymentAmountMinor: 12_345,
        refundedMinor: 45,
      };
      const row = paymentRowOf(record);
      expect(paymentOf(row)).toEqual(record);
      const values = paymentRowValues(row);
      const byColumn = Object.fromEntries(
        PAYMENT_COLUMNS.split(", ").map((column, index) => [column, values[index]]),
      );
      expect(byColumn).toEqual(row);
    },
  );
});
