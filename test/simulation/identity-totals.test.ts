/**
 * Identity totals against a plain Map: many identities (the table grows several times and its
 * probes collide), the worst identity per side with its tie-break, and merged columns.
 */
import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { IdentityTotals } from "../../src/core/simulation/identity-totals.ts";

/** Short keys and long ones, of many lengths. */
const entryArbitrary = fc.tuple(
  fc
    .integer({ min: 0, max: 4_999 })
    .map((index) =>
      index % 3 === 0
        ? `a-long-user-identity-${index}`
        : index % 7 === 0
          ? `u${String(index).padStart(11 + (index % 2), "0")}`
          : `u${index}`,
    ),
  fc.integer({ min: 0, max: 1_000 }),
  fc.integer({ min: 0, max: 1_000 }),
);

function worstOf(entries: readonly (readonly [string, number, number])[], side: 1 | 2) {
  const totals = new Map<string, { total: number; count: number }>();
  for (const entry of entries) {
    const amount = entry[side];
    const row = totals.get(entry[0]) ?? { total: 0, count: 0 };
    if (amount > 0) {
      row.total += amount;
      row.count += 1;
    }
    totals.set(entry[0], row);
  }
  let worst: { identity: string; subsidyMinor: bigint; subsidisedPayments: number } | null = null;
  for (const [identity, row] of totals) {
    if (row.total === 0) continue;
    const better =
      worst === null ||
      BigInt(row.total) > worst.subsidyMinor ||
      (BigInt(row.total) === worst.subsidyMinor && identity < worst.identity);
    if (better)
      worst = { identity, subsidyMinor: BigInt(row.total), subsidisedPayments: row.count };
  }
  return worst;
}

describe("IdentityTotals", () => {
  test.prop([fc.array(entryArbitrary, { minLength: 0, maxLength: 6_000 }), fc.nat()], {
    numRuns: 40,
  })(
    "the worst identity per side equals a Map's, alone and merged from two parts",
    (entries, split) => {
      const whole = new IdentityTotals();
      const left = new IdentityTotals();
      const right = new IdentityTotals();
      const at = entries.length === 0 ? 0 : split % entries.length;
      entries.forEach(([key, subsidy0, subsidy1], index) => {
        whole.add(key, subsidy0, subsidy1);
        (index < at ? left : right).add(key, subsidy0, subsidy1);
      });
      left.merge(structuredClone(right.columns()));
      for (const [side, column] of [
        [0, 1],
        [1, 2],
      ] as const) {
        expect(whole.worst(side)).toEqual(worstOf(entries, column));
        expect(left.worst(side)).toEqual(worstOf(entries, column));
      }
      expect(left.size).toBe(new Set(entries.map(([key]) => key)).size);
    },
  );

  test.prop([fc.array(entryArbitrary, { minLength: 0, maxLength: 3_000 })], { numRuns: 20 })(
    "identities given as ranges of a line total as the same identities given as strings",
    (entries) => {
      const byKey = new IdentityTotals();
      const byRange = new IdentityTotals();
      for (const [key, subsidy0, subsidy1] of entries) {
        byKey.add(key, subsidy0, subsidy1);
        const line = `{"userId":"${key}","x":1}`;
        byRange.addRange(line, 11, 11 + key.length, subsidy0, subsidy1);
      }
      expect(byRange.columns()).toEqual(byKey.columns());
    },
  );
});
