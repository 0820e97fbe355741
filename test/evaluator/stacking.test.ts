/**
 * The written-down rules for combining campaigns (docs/reference/evaluator.md), on small
 * readable configurations, through both evaluators.
 */
import { describe, expect, test } from "vitest";
import type { Decision } from "../../src/core/evaluator/decision.ts";
import { createFastEvaluator } from "../../src/core/evaluator/fast-evaluator.ts";
import { quoteReference } from "../../src/core/evaluator/reference-evaluator.ts";
import { buildSnapshot } from "../../src/core/evaluator/snapshot.ts";
import { resolveConfig } from "../../src/core/model/config-set.ts";
import { validateDocument } from "../../src/core/model/document.ts";
import { validCampaign, validEnvelope, validTemplate, withField } from "../support/documents.ts";

const PAYMENT = {
  paymentId: "p-stack",
  userId: "u1",
  amountMinor: 10_000,
  currency: "CNY",
  scenario: "merchant_qr",
  payeeKind: "merchant",
  merchantId: "m1",
  merchantCategory: "5814",
  region: "CN-SH",
  channel: "app",
  paymentMethod: "balance",
  atMs: Date.UTC(2025, 0, 16, 0, 30), // 08:30 in Shanghai, inside the 07:00–10:00 window
};

function campaign(id: string, amountMinor: number, priority: number, exclusiveGroup?: string) {
  return {
    ...withField(validCampaign(), "offer", { amountMinor }),
    id,
    stacking: exclusiveGroup === undefined ? { priority } : { priority, exclusiveGroup },
  };
}

/** Both evaluators' decisions for PAYMENT; the test fails if they differ. */
function decide(perPaymentMaxMinor: number, ...campaigns: Record<string, unknown>[]): Decision {
  const envelope = withField(validEnvelope(), "currencies", [
    {
      currency: "CNY",
      perPaymentMaxRateBps: 3000,
      perPaymentMaxMinor,
      minPayableMinor: 1,
      perUserDailyMaxMinor: 50_000,
    },
  ]);
  // The template's band would refuse large fixed amounts; these tests are about stacking.
  const template = withField(validTemplate(), "bands", undefined);
  const documents = [template, envelope, ...campaigns].map((raw, index) => {
    const result = validateDocument(raw);
    if (!result.ok) throw new Error(`document ${index}: ${JSON.stringify(result.issues)}`);
    return { source: String(index), document: result.document };
  });
  const { config, issues } = resolveConfig(documents);
  expect(issues).toEqual([]);
  const built = buildSnapshot(config, { version: 1, randomSeed: 0 });
  if (!built.ok) throw new Error(built.message);
  const reference = quoteReference(built.snapshot, PAYMENT);
  expect(createFastEvaluator(built.snapshot).quote(PAYMENT)).toEqual(reference);
  return reference;
}

const granted = (decision: Decision) =>
  decision.subsidies.map((subsidy) => [
    subsidy.campaignId,
    subsidy.amountMinor,
    subsidy.offerMinor,
  ]);
const rejected = (decision: Decision) =>
  decision.rejected.map((rejection) => [rejection.campaignId, rejection.reason]);

describe("stacking and the envelope bound", () => {
  test("the bound is filled in priority order: the higher priority first, the next clamped, the last gets nothing", () => {
    const decision = decide(
      1000,
      campaign("low", 500, 1),
      campaign("high", 700, 9),
      campaign("mid", 400, 5),
    );
    expect(granted(decision)).toEqual([
      ["high", 700, 700],
      ["mid", 300, 400],
    ]);
    expect(rejected(decision)).toEqual([["low", "envelope.total_bound_reached"]]);
    expect(decision.totalSubsidyMinor).toBe(1000);
  });

  test("equal priorities are taken in campaign id order", () => {
    const decision = decide(600, campaign("b-second", 500, 3), campaign("a-first", 500, 3));
    expect(granted(decision)).toEqual([
      ["a-first", 500, 500],
      ["b-second", 100, 500],
    ]);
  });

  test("one winner per exclusive group: priority, then the larger offer, then the smaller id", () => {
    const byPriority = decide(
      20_000,
      campaign("big", 900, 1, "qr"),
      campaign("preferred", 100, 2, "qr"),
    );
    expect(granted(byPriority)).toEqual([["preferred", 100, 100]]);
    expect(rejected(byPriority)).toEqual([["big", "stacking.exclusive_group_lost"]]);

    const byOffer = decide(
      20_000,
      campaign("small", 100, 2, "qr"),
      campaign("large", 900, 2, "qr"),
    );
    expect(granted(byOffer)).toEqual([["large", 900, 900]]);

    const byId = decide(20_000, campaign("zeta", 500, 2, "qr"), campaign("alpha", 500, 2, "qr"));
    expect(granted(byId)).toEqual([["alpha", 500, 500]]);
  });

  test("the bound is the least of the absolute cap, the rate cap and the amount less the minimum payable", () => {
    // 30 % of 100.00 yuan is 30.00: below the 200.00 absolute cap, so the rate binds.
    const decision = decide(20_000, campaign("huge", 9000, 1));
    expect(granted(decision)).toEqual([["huge", 3000, 9000]]);
  });
});
