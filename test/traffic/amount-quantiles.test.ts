import { describe, expect, it } from "vitest";
import { AmountQuantiles, inverseStandardNormal } from "../../src/traffic/amount-quantiles.ts";

describe("inverseStandardNormal", () => {
  it("matches tabulated quantiles of the standard normal", () => {
    const table: [number, number][] = [
      [0.5, 0],
      [0.975, 1.959963985],
      [0.025, -1.959963985],
      [0.841344746, 1],
      [0.001, -3.090232306],
      [0.999, 3.090232306],
    ];
    for (const [p, z] of table) expect(inverseStandardNormal(p)).toBeCloseTo(z, 6);
  });

  it("refuses probabilities outside (0, 1)", () => {
    expect(() => inverseStandardNormal(0)).toThrow(RangeError);
    expect(() => inverseStandardNormal(1)).toThrow(RangeError);
  });
});

describe("AmountQuantiles", () => {
  it("puts the median where the parameters say and clamps to the bounds", () => {
    const amounts = new AmountQuantiles({
      medianMinor: 2_500,
      sigma: 1,
      amountMinorMin: 1,
      amountMinorMax: 20_000,
    });
    // The 50th percentile draw sits at the middle of the table.
    expect(Math.abs(amounts.sample(0x80000000) - 2_500)).toBeLessThanOrEqual(1);
    expect(amounts.sample(0xffffffff)).toBe(20_000);
    expect(amounts.sample(0)).toBeGreaterThanOrEqual(1);
    // e^(σ·z) at the 84th percentile: one sigma above the median.
    expect(amounts.sample(Math.floor(0.841344746 * 2 ** 32))).toBeCloseTo(2_500 * Math.E, -1);
  });

  it("returns whole minor units that never decrease along the quantiles", () => {
    const amounts = new AmountQuantiles({
      medianMinor: 888,
      sigma: 1.4,
      amountMinorMin: 1,
      amountMinorMax: 50_000_000,
    });
    let previous = 0;
    for (let index = 0; index < 65_536; index += 1) {
      const amount = amounts.sample(index * 65_536);
      expect(Number.isInteger(amount)).toBe(true);
      expect(amount).toBeGreaterThanOrEqual(previous);
      previous = amount;
    }
  });
});
