import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { refundRestoresDebit, reversedAfter } from "../../src/core/ledger/refund.ts";
import { AMOUNT_MINOR_MAX } from "../../src/core/money.ts";

const amount = fc.integer({ min: 1, max: AMOUNT_MINOR_MAX });

describe("reversedAfter", () => {
  test.prop([amount, amount, fc.array(amount, { minLength: 1, maxLength: 6 })])(
    "refunds in steps reverse what one refund of the same total would, never more than committed, all of it at the full amount",
    (committedMinor, paymentAmountMinor, steps) => {
      let refundedMinor = 0;
      let previous = 0;
      for (const step of steps) {
        refundedMinor = Math.min(paymentAmountMinor, refundedMinor + step);
        const reversed = reversedAfter(committedMinor, refundedMinor, paymentAmountMinor);
        expect(reversed).toBeGreaterThanOrEqual(previous);
        expect(reversed).toBeLessThanOrEqual(committedMinor);
        // Exact: compared with arbitrary-precision arithmetic, not with the same formula.
        expect(BigInt(reversed)).toBe(
          (BigInt(committedMinor) * BigInt(refundedMinor)) / BigInt(paymentAmountMinor),
        );
        previous = reversed;
      }
      expect(reversedAfter(committedMinor, paymentAmountMinor, paymentAmountMinor)).toBe(
        committedMinor,
      );
    },
  );

  test("nothing refunded reverses nothing; products beyond 2^53 stay exact", () => {
    expect(reversedAfter(500, 0, 1000)).toBe(0);
    expect(reversedAfter(AMOUNT_MINOR_MAX, AMOUNT_MINOR_MAX - 1, AMOUNT_MINOR_MAX)).toBe(
      AMOUNT_MINOR_MAX - 1,
    );
  });
});

describe("refundRestoresDebit", () => {
  test("budgets_and_caps restores every limit, budgets only the budgets, nothing none", () => {
    const limits = [
      "budget_exhausted",
      "daily_budget_exhausted",
      "program_budget_exhausted",
      "identity_cap_reached",
      "platform_ceiling_reached",
    ] as const;
    expect(limits.map((limit) => refundRestoresDebit("budgets_and_caps", limit))).toEqual([
      true,
      true,
      true,
      true,
      true,
    ]);
    expect(limits.map((limit) => refundRestoresDebit("budgets", limit))).toEqual([
      true,
      true,
      true,
      false,
      false,
    ]);
    expect(limits.map((limit) => refundRestoresDebit("nothing", limit))).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
  });
});
