/**
 * `grantChecked`, the decision-free path a simulation uses, grants exactly what `quoteChecked`'s
 * decision lists: the same campaigns in the same order, the same amounts and total; it admits the
 * same candidates, and is refused (no candidates) exactly where the decision has a reason.
 */
import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { createFastEvaluator } from "../../src/core/evaluator/fast-evaluator.ts";
import { CheckedPayment, fastPaymentCheck } from "../../src/core/evaluator/fast-payment-check.ts";
import { paymentsArbitrary, snapshotArbitrary } from "../support/evaluator-arbitraries.ts";

const snapshotWithPayments = snapshotArbitrary({ wild: false }, 16).chain((snapshot) =>
  fc.record({
    snapshot: fc.constant(snapshot),
    payments: paymentsArbitrary(snapshot, { mix: "valid", paymentsMax: 24 }),
  }),
);

describe("grantChecked", () => {
  test.prop([snapshotWithPayments], { numRuns: 300 })(
    "grants what quoteChecked's decision lists",
    ({ snapshot, payments }) => {
      const evaluator = createFastEvaluator(snapshot);
      if (evaluator.grantChecked === undefined || evaluator.grants === undefined) return;
      const checked = new CheckedPayment();
      for (const payment of payments) {
        if (!fastPaymentCheck(payment, checked)) continue;
        const decision = evaluator.quoteChecked!(checked);
        const count = evaluator.grantChecked(checked);
        const grants = evaluator.grants;
        expect(count).toBe(grants.count);
        expect(grants.totalMinor).toBe(decision.totalSubsidyMinor);
        const granted = Array.from({ length: count }, (_, index) => ({
          campaignId: snapshot.campaigns[grants.positions[index]!]!.campaign.id,
          amountMinor: grants.amountsMinor[index]!,
        }));
        expect(granted).toEqual(
          decision.subsidies.map(({ campaignId, amountMinor }) => ({ campaignId, amountMinor })),
        );
        if (decision.reason === null)
          expect(grants.candidateCount).toBe(snapshot.campaigns.length - decision.excludedByIndex);
        else expect(grants.candidateCount).toBe(-1);
      }
    },
  );
});
