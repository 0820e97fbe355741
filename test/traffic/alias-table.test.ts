import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { AliasTable } from "../../src/traffic/alias-table.ts";

/** Probability of each index, measured exactly by sweeping the uniform over a fine grid. */
function sweep(table: AliasTable, steps: number): number[] {
  const counts = new Array<number>(table.size).fill(0);
  for (let step = 0; step < steps; step += 1) counts[table.sample((step + 0.5) / steps)]! += 1;
  return counts.map((count) => count / steps);
}

describe("AliasTable", () => {
  test.prop([fc.array(fc.integer({ min: 0, max: 1_000 }), { minLength: 1, maxLength: 40 })])(
    "draws each index with its weight's share",
    (weights) => {
      fc.pre(weights.some((weight) => weight > 0));
      const sum = weights.reduce((a, b) => a + b, 0);
      const shares = sweep(new AliasTable(weights), 200_000);
      weights.forEach((weight, index) => {
        expect(Math.abs(shares[index]! - weight / sum)).toBeLessThan(1e-3);
        if (weight === 0) expect(shares[index]).toBe(0);
      });
    },
  );

  it("refuses weights that are not a distribution", () => {
    expect(() => new AliasTable([])).toThrow(RangeError);
    expect(() => new AliasTable([0, 0])).toThrow(RangeError);
    expect(() => new AliasTable([1, -1])).toThrow(RangeError);
    expect(() => new AliasTable([1, Number.NaN])).toThrow(RangeError);
  });
});
