/**
 * The report's arithmetic on hand-made decisions: per-hour scaling by window and sample rate,
 * shares, deltas and ratios, worst cases per payment and per identity, funding counted once per
 * payment, exact sums past 2^53, merging tallies, and each flag raised exactly when its condition
 * holds.
 */
import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import type { Decision, Subsidy } from "../../src/core/evaluator/decision.ts";
import type { FundingSource } from "../../src/core/funding.ts";
import type { Payment } from "../../src/core/model/payment.ts";
import {
  SimulationAccumulator,
  type SimulationOptions,
} from "../../src/core/simulation/simulation-accumulator.ts";

const T0 = Date.UTC(2025, 0, 16, 6, 40);

function payment(id: string, overrides: Partial<Payment> = {}): Payment {
  return {
    paymentId: id,
    userId: "u1",
    amountMinor: 10_000,
    currency: "CNY",
    scenario: "merchant_qr",
    payeeKind: "merchant",
    merchantId: "m1",
    region: "CN-SH",
    channel: "app",
    paymentMethod: "balance",
    atMs: T0,
    ...overrides,
  };
}

function subsidy(
  campaignId: string,
  amountMinor: number,
  funding: FundingSource = "platform",
): Subsidy {
  return {
    campaignId,
    campaignVersion: 1,
    templateId: "t",
    amountMinor,
    offerMinor: amountMinor,
    funding,
    label: "instant_discount",
  };
}

function decision(subsidies: readonly Subsidy[] = [], reason: Decision["reason"] = null): Decision {
  return {
    paymentId: "x",
    snapshotVersion: 1,
    reason,
    subsidies,
    totalSubsidyMinor: subsidies.reduce((sum, item) => sum + item.amountMinor, 0),
    rejected: [],
    excludedByIndex: 0,
    subjectToBudget: subsidies.length > 0,
  };
}

const NONE = decision();

function accumulator(options: Partial<SimulationOptions> = {}): SimulationAccumulator {
  return new SimulationAccumulator({ currency: "CNY", sampleRateBps: 10_000, ...options });
}

describe("per-hour scaling and shares", () => {
  test("a full sample over 30 minutes doubles to an hour; shares and deltas in bps", () => {
    const sim = accumulator();
    sim.add(payment("p1"), decision([subsidy("a", 100)]), decision([subsidy("a", 300)]));
    sim.add(payment("p2", { atMs: T0 + 1_800_000 }), NONE, decision([subsidy("b", 50)]));
    sim.add(payment("p3", { atMs: T0 + 900_000 }), NONE, NONE);
    const report = sim.report();
    expect(report.windowMs).toBe(1_800_000);
    expect(report.payments).toBe(3);
    expect(report.current).toEqual({
      subsidisedPayments: 1,
      subsidisedShareBps: 3333,
      subsidyMinor: 100n,
      subsidyPerHourMinor: 200n,
      subsidyPerPaymentMilliMinor: 33_333,
    });
    expect(report.proposed.subsidyMinor).toBe(350n);
    expect(report.proposed.subsidyPerHourMinor).toBe(700n);
    expect(report.proposed.subsidisedShareBps).toBe(6666);
    expect(report.delta).toEqual({
      subsidisedPayments: 1,
      subsidisedShareBps: 3333,
      subsidyMinor: 250n,
      subsidyPerHourMinor: 500n,
    });
    expect(report.ratio).toEqual({ subsidyBps: 35_000, subsidisedPaymentsBps: 20_000 });
    expect(report.forecast.subsidyPerPaymentMilliMinor).toBe(116_666);
    expect(report.forecast.byCampaign).toEqual([
      { campaignId: "a", subsidyPerPaymentMilliMinor: 100_000, subsidisedShareBps: 3333 },
      { campaignId: "b", subsidyPerPaymentMilliMinor: 16_666, subsidisedShareBps: 3333 },
    ]);
  });

  test("a 1 % sample is scaled up 100 times; an explicit window overrides the payments' span", () => {
    const sim = accumulator({ sampleRateBps: 100, windowMs: 3_600_000 });
    sim.add(payment("p1"), decision([subsidy("a", 7)]), decision([subsidy("a", 7)]));
    const report = sim.report();
    expect(report.windowMs).toBe(3_600_000);
    expect(report.current.subsidyPerHourMinor).toBe(700n);
  });

  test("per hour rounds down; a single instant covers the one-second minimum window", () => {
    const sim = accumulator({ sampleRateBps: 3 });
    sim.add(payment("p1"), decision([subsidy("a", 1)]), NONE);
    const report = sim.report();
    expect(report.windowMs).toBe(1_000);
    // 1 × 3,600,000 × 10,000 / (1,000 × 3) = 12,000,000 exactly; then 1 more fen is not a third.
    expect(report.current.subsidyPerHourMinor).toBe(12_000_000n);
    expect(report.ratio.subsidyBps).toBe(0);
    expect(report.ratio.subsidisedPaymentsBps).toBe(0);
  });

  test("no current subsidy: ratios are null; nothing at all: zero shares", () => {
    const empty = accumulator().report();
    expect(empty.payments).toBe(0);
    expect(empty.current.subsidisedShareBps).toBe(0);
    expect(empty.ratio).toEqual({ subsidyBps: null, subsidisedPaymentsBps: null });
    expect(empty.firstAtMs).toBeNull();
  });

  test("invalid payments and other currencies are counted and kept out of the money", () => {
    const sim = accumulator();
    sim.add(payment("p1"), decision([], "payment.invalid"), decision([], "payment.invalid"));
    sim.add(payment("p2", { currency: "USD" }), decision([subsidy("a", 5)]), NONE);
    sim.addInvalid();
    const report = sim.report();
    expect(report.paymentsInvalid).toBe(2);
    expect(report.paymentsOtherCurrency).toBe(1);
    expect(report.payments).toBe(0);
    expect(report.current.subsidyMinor).toBe(0n);
  });
});

describe("groups", () => {
  test("scenario and region rows divide by their own payments; campaign and funding by all", () => {
    const sim = accumulator();
    sim.add(payment("p1"), decision([subsidy("a", 10), subsidy("b", 20)]), NONE);
    sim.add(payment("p2", { region: "CN-BJ", scenario: "online_checkout" }), NONE, NONE);
    const report = sim.report();
    expect(
      report.byRegion.map((row) => [row.key, row.payments, row.current.subsidisedShareBps]),
    ).toEqual([
      ["CN-BJ", 1, 0],
      ["CN-SH", 1, 10_000],
    ]);
    expect(
      report.byCampaign.map((row) => [row.key, row.payments, row.current.subsidisedShareBps]),
    ).toEqual([
      ["a", 2, 5_000],
      ["b", 2, 5_000],
    ]);
    expect(report.byCampaign[0]!.deltaSubsidyPerHourMinor).toBe(-(10n * 3_600_000n) / 1_000n);
  });

  test("a payment counts once per funding source, however many of its subsidies share it", () => {
    const sim = accumulator();
    sim.add(
      payment("p1"),
      decision([subsidy("a", 10), subsidy("b", 20), subsidy("c", 5, "bank")]),
      NONE,
    );
    const funding = sim.report().byFunding.filter((row) => row.current.subsidisedPayments > 0);
    expect(
      funding.map((row) => [row.key, row.current.subsidisedPayments, row.current.subsidyMinor]),
    ).toEqual([
      ["bank", 1, 5n],
      ["platform", 1, 30n],
    ]);
  });
});

describe("worst cases", () => {
  test("per payment: the largest subsidy, ties to the smaller payment id", () => {
    const sim = accumulator();
    sim.add(payment("p2", { amountMinor: 900 }), decision([subsidy("a", 90)]), NONE);
    sim.add(payment("p1", { amountMinor: 800 }), decision([subsidy("a", 90)]), NONE);
    sim.add(payment("p0"), decision([subsidy("a", 10)]), decision([subsidy("a", 11)]));
    const { worstPayment } = sim.report();
    expect(worstPayment.current).toEqual({
      paymentId: "p1",
      subsidyMinor: 90,
      paymentAmountMinor: 800,
      scenario: "merchant_qr",
      region: "CN-SH",
    });
    expect(worstPayment.proposed?.paymentId).toBe("p0");
  });

  test("per identity: totals over the sample for users, devices and cards, each on its own", () => {
    const sim = accumulator();
    // u1 gets most per user; d9 is shared by two users and gets most per device; c1 only once.
    sim.add(payment("p1", { userId: "u1", deviceId: "d1" }), decision([subsidy("a", 40)]), NONE);
    sim.add(payment("p2", { userId: "u1", deviceId: "d1" }), decision([subsidy("a", 40)]), NONE);
    sim.add(payment("p3", { userId: "u2", deviceId: "d9" }), decision([subsidy("a", 50)]), NONE);
    sim.add(payment("p4", { userId: "u3", deviceId: "d9" }), decision([subsidy("a", 50)]), NONE);
    sim.add(
      payment("p5", { userId: "u4", cardFingerprint: "c1" }),
      decision([subsidy("a", 60)]),
      decision([subsidy("a", 1)]),
    );
    const { worstIdentity } = sim.report();
    expect(worstIdentity.user.current).toEqual({
      identity: "u1",
      subsidyMinor: 80n,
      subsidisedPayments: 2,
    });
    expect(worstIdentity.device.current).toEqual({
      identity: "d9",
      subsidyMinor: 100n,
      subsidisedPayments: 2,
    });
    expect(worstIdentity.card.current).toEqual({
      identity: "c1",
      subsidyMinor: 60n,
      subsidisedPayments: 1,
    });
    expect(worstIdentity.user.proposed).toEqual({
      identity: "u4",
      subsidyMinor: 1n,
      subsidisedPayments: 1,
    });
    expect(worstIdentity.device.proposed).toBeNull();
  });
});

describe("exact sums", () => {
  test("sums past 2^53 stay exact, in one accumulator and across merged tallies", () => {
    const big = 1_000_000_000_000_000; // AMOUNT_MINOR_MAX
    const one = accumulator();
    const left = accumulator();
    const right = accumulator();
    for (let index = 0; index < 20; index += 1) {
      const item = payment(`p${index}`, { amountMinor: big, userId: "u1" });
      const current = decision([subsidy("a", big - index)]);
      one.add(item, current, NONE);
      (index % 2 === 0 ? left : right).add(item, current, NONE);
    }
    const expected = 20n * BigInt(big) - 190n;
    expect(one.report().current.subsidyMinor).toBe(expected);
    expect(one.report().worstIdentity.user.current?.subsidyMinor).toBe(expected);
    left.merge(right.tally());
    expect(left.report()).toEqual(one.report());
  });
});

const paymentArbitrary = fc.record({
  id: fc.integer({ min: 0, max: 50 }).map((index) => `p${index}`),
  user: fc.constantFrom("u1", "u2", "u3"),
  device: fc.option(fc.constantFrom("d1", "d2"), { nil: undefined }),
  card: fc.option(fc.constantFrom("c1", "c2"), { nil: undefined }),
  scenario: fc.constantFrom("merchant_qr", "online_checkout", "p2p_transfer", "utility_bill"),
  region: fc.constantFrom("CN-SH", "CN-BJ", "CN-GD"),
  individual: fc.boolean(),
  atOffsetMs: fc.integer({ min: 0, max: 7_200_000 }),
  current: fc.array(
    fc.tuple(
      fc.constantFrom("a", "b", "c"),
      fc.integer({ min: 1, max: 500 }),
      fc.constantFrom<FundingSource>("platform", "merchant", "bank", "government"),
    ),
    { maxLength: 3 },
  ),
  proposed: fc.array(
    fc.tuple(
      fc.constantFrom("a", "b", "d"),
      fc.integer({ min: 1, max: 500 }),
      fc.constantFrom<FundingSource>("platform", "merchant", "bank", "government"),
    ),
    { maxLength: 3 },
  ),
});

type Drawn = typeof paymentArbitrary extends fc.Arbitrary<infer T> ? T : never;

function feed(sim: SimulationAccumulator, drawn: Drawn): void {
  sim.add(
    payment(drawn.id, {
      userId: drawn.user,
      deviceId: drawn.device,
      cardFingerprint: drawn.card,
      scenario: drawn.scenario as Payment["scenario"],
      region: drawn.region as Payment["region"],
      payeeKind: drawn.individual ? "individual" : "merchant",
      atMs: T0 + drawn.atOffsetMs,
    }),
    decision(drawn.current.map(([id, amount, funding]) => subsidy(id, amount, funding))),
    decision(drawn.proposed.map(([id, amount, funding]) => subsidy(id, amount, funding))),
  );
}

describe("properties", () => {
  test.prop([
    fc.array(paymentArbitrary, { maxLength: 30 }),
    fc.nat(),
    fc.integer({ min: 0, max: 20_000 }),
  ])("each flag is raised exactly when its condition holds", (drawn, _split, thresholdBps) => {
    const sim = accumulator({
      spendGrowthThresholdBps: thresholdBps,
      protectedScenarios: ["utility_bill"],
    });
    for (const item of drawn) feed(sim, item);
    const report = sim.report();
    const codes = (code: string) =>
      report.flags.filter((flag) => flag.code === code).map((flag) => flag.key ?? "");
    const before = report.current.subsidyPerHourMinor;
    const after = report.proposed.subsidyPerHourMinor;
    expect(codes("simulation.spend_growth").length).toBe(
      after > before + (before * BigInt(thresholdBps)) / 10_000n ? 1 : 0,
    );
    const fresh = (key: (item: Drawn) => string | string[], side: "current" | "proposed") =>
      new Set(drawn.filter((item) => item[side].length > 0).flatMap((item) => key(item)));
    const expectFresh = (code: string, key: (item: Drawn) => string | string[]) => {
      const before = fresh(key, "current");
      const expected = [...fresh(key, "proposed")].filter((value) => !before.has(value)).sort();
      expect(codes(code).sort()).toEqual(expected);
    };
    expectFresh("simulation.new_scenario", (item) => item.scenario);
    expectFresh("simulation.new_region", (item) => item.region);
    const fundingBefore = new Set(
      drawn.flatMap((item) => item.current.map(([, , funding]) => funding)),
    );
    const fundingAfter = new Set(
      drawn.flatMap((item) => item.proposed.map(([, , funding]) => funding)),
    );
    expect(codes("simulation.new_funding").sort()).toEqual(
      [...fundingAfter].filter((funding) => !fundingBefore.has(funding)).sort(),
    );
    const protectedKeys = new Set<string>();
    for (const item of drawn) {
      if (item.current.length + item.proposed.length === 0) continue;
      if (item.scenario === "p2p_transfer" || item.scenario === "utility_bill")
        protectedKeys.add(item.scenario);
      if (item.individual) protectedKeys.add("individual_payee");
    }
    expect(codes("simulation.protected_scenario").sort()).toEqual([...protectedKeys].sort());
  });

  test.prop([fc.array(paymentArbitrary, { maxLength: 40 }), fc.nat()])(
    "tallies of two parts merged give the report of one pass",
    (drawn, split) => {
      const at = drawn.length === 0 ? 0 : split % (drawn.length + 1);
      const one = accumulator();
      const left = accumulator();
      const right = accumulator();
      drawn.forEach((item, index) => {
        feed(one, item);
        feed(index < at ? left : right, item);
      });
      // Through structured clone, as from a worker thread.
      left.merge(structuredClone(right.tally()));
      expect(left.report()).toEqual(one.report());
    },
  );
});
