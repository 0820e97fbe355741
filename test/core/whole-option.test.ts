import { describe, expect, test } from "vitest";
import { wholeOption } from "../../src/core/whole-option.ts";

describe("wholeOption", () => {
  test("the caller's value, else the default, inside the range (bounds included)", () => {
    expect(wholeOption("pollMs", undefined, 250, [10, 60_000])).toBe(250);
    expect(wholeOption("pollMs", 10, 250, [10, 60_000])).toBe(10);
    expect(wholeOption("pollMs", 60_000, 250, [10, 60_000])).toBe(60_000);
  });

  test.each([9, 60_001, 1.5, Number.NaN, Number.POSITIVE_INFINITY])(
    "%s is refused with a RangeError naming the option and its range",
    (value) => {
      expect(() => wholeOption("pollMs", value, 250, [10, 60_000])).toThrow(
        new RangeError(`pollMs ${value} is not within 10..60000`),
      );
    },
  );

  test("a default outside its own range is refused too: a wrong constant fails at construction", () => {
    expect(() => wholeOption("attemptsMax", undefined, 0, [1, 1_000])).toThrow(RangeError);
  });
});
