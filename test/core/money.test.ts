import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import {
  AMOUNT_MINOR_MAX,
  allocateProportionally,
  applyRateBpsFloor,
  CURRENCIES,
  currencyExponent,
  formatMinor,
  isAmountMinor,
  parseMajorToMinor,
  sumMinor,
} from "../../src/core/money.ts";

const amountMinor = fc.integer({ min: 0, max: AMOUNT_MINOR_MAX });
const rateBps = fc.integer({ min: 0, max: 10_000 });

describe("currency exponents", () => {
  test("follow ISO 4217 for the currencies the design names", () => {
    expect(currencyExponent("CNY")).toBe(2);
    expect(currencyExponent("HKD")).toBe(2);
    expect(currencyExponent("JPY")).toBe(0);
    expect(currencyExponent("KWD")).toBe(3);
  });

  test("render one major unit as 10^exponent minor units", () => {
    expect(formatMinor(1, "JPY")).toBe("1");
    expect(formatMinor(1, "CNY")).toBe("0.01");
    expect(formatMinor(1, "KWD")).toBe("0.001");
    expect(parseMajorToMinor("1", "KWD")).toBe(1000);
    expect(parseMajorToMinor("1", "JPY")).toBe(1);
  });
});

describe("applyRateBpsFloor", () => {
  test.prop([amountMinor, rateBps])(
    "equals exact integer arithmetic, rounded down",
    (amount, rate) => {
      const exact = (BigInt(amount) * BigInt(rate)) / 10_000n;
      expect(applyRateBpsFloor(amount, rate)).toBe(Number(exact));
    },
  );

  test.prop([amountMinor, rateBps])("never gives more than the rate says", (amount, rate) => {
    expect(BigInt(applyRateBpsFloor(amount, rate)) * 10_000n <= BigInt(amount) * BigInt(rate)).toBe(
      true,
    );
  });

  test("20 % of 0.50 yuan is 10 fen; 0.01 % of 99 fen rounds down to nothing", () => {
    expect(applyRateBpsFloor(50, 2000)).toBe(10);
    expect(applyRateBpsFloor(99, 1)).toBe(0);
  });
});

describe("allocateProportionally", () => {
  const weights = fc.array(fc.integer({ min: 0, max: 1_000_000_000 }), {
    minLength: 1,
    maxLength: 12,
  });

  test.prop([amountMinor.filter((value) => value <= 1_000_000_000_000), weights])(
    "parts sum to the total and each is the floor or ceiling of its exact share",
    (total, rawWeights) => {
      const weightsUsed = rawWeights.some((weight) => weight > 0) ? rawWeights : [1, ...rawWeights];
      const parts = allocateProportionally(total, weightsUsed);
      expect(sumMinor(parts)).toBe(BigInt(total));
      const weightSum = weightsUsed.reduce((sum, weight) => sum + BigInt(weight), 0n);
      parts.forEach((part, index) => {
        const exact = BigInt(total) * BigInt(weightsUsed[index]!);
        const floor = exact / weightSum;
        const ceiling = exact % weightSum === 0n ? floor : floor + 1n;
        expect(BigInt(part) >= floor && BigInt(part) <= ceiling).toBe(true);
      });
    },
  );

  test("gives ties in the remainder to the earlier index, deterministically", () => {
    expect(allocateProportionally(1, [1, 1, 1])).toEqual([1, 0, 0]);
    expect(allocateProportionally(2, [1, 1, 1])).toEqual([1, 1, 0]);
    expect(allocateProportionally(100, [1, 1, 1])).toEqual([34, 33, 33]);
  });

  test("refuses a non-zero total over zero weights and non-integer input", () => {
    expect(() => allocateProportionally(5, [0, 0])).toThrow(RangeError);
    expect(() => allocateProportionally(1.5, [1])).toThrow(RangeError);
    expect(() => allocateProportionally(5, [0.5])).toThrow(RangeError);
    expect(allocateProportionally(0, [0, 0])).toEqual([0, 0]);
  });
});

describe("decimal rendering", () => {
  test.prop([
    fc.constantFrom(...CURRENCIES),
    fc.integer({ min: -AMOUNT_MINOR_MAX, max: AMOUNT_MINOR_MAX }),
  ])("parse(format(x)) is x in every currency", (currency, amount) => {
    expect(parseMajorToMinor(formatMinor(amount, currency), currency)).toBe(amount);
  });

  test("refuses more decimals than the currency has instead of rounding", () => {
    expect(parseMajorToMinor("0.505", "CNY")).toBeUndefined();
    expect(parseMajorToMinor("1.5", "JPY")).toBeUndefined();
    expect(parseMajorToMinor("0.125", "KWD")).toBe(125);
    expect(parseMajorToMinor("12.3", "CNY")).toBe(1230);
    expect(parseMajorToMinor("abc", "CNY")).toBeUndefined();
  });
});

describe("isAmountMinor", () => {
  test("accepts only non-negative safe integers up to the ceiling", () => {
    expect(isAmountMinor(0)).toBe(true);
    expect(isAmountMinor(AMOUNT_MINOR_MAX)).toBe(true);
    expect(isAmountMinor(AMOUNT_MINOR_MAX + 1)).toBe(false);
    expect(isAmountMinor(-1)).toBe(false);
    expect(isAmountMinor(0.5)).toBe(false);
    expect(isAmountMinor(Number.NaN)).toBe(false);
    expect(isAmountMinor("1")).toBe(false);
  });
});
