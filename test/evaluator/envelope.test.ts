/**
 * The safety envelope holds on every payment, whatever the campaigns say (DESIGN §3.3), on both
 * evaluators: generated snapshots of every shape — campaigns that scope protected scenarios,
 * 100 % rates, huge caps, government funding without a program or with one for other regions —
 * and generated payments. Then readable examples on `examples/`.
 *
 * Replay a failing seed with FC_SEED=<seed> npx vitest run test/evaluator/envelope.test.ts
 */
import { join } from "node:path";
import { fc, test } from "@fast-check/vitest";
import { beforeAll, describe, expect } from "vitest";
import { loadConfig } from "../../src/config/load-config.ts";
import type { Decision } from "../../src/core/evaluator/decision.ts";
import {
  createFastEvaluator,
  type FastEvaluator,
} from "../../src/core/evaluator/fast-evaluator.ts";
import { quoteReference } from "../../src/core/evaluator/reference-evaluator.ts";
import {
  buildSnapshot,
  envelopeBoundsFor,
  type Snapshot,
} from "../../src/core/evaluator/snapshot.ts";
import { periodInstants } from "../../src/core/model/schedule.ts";
import { applyRateBpsFloor } from "../../src/core/money.ts";
import { CASH_EQUIVALENT_SCENARIOS } from "../../src/core/scenario.ts";
import { snapshotWithPaymentsArbitrary } from "../support/evaluator-arbitraries.ts";

const seed = Number(process.env.FC_SEED ?? Math.floor(Math.random() * 2 ** 31));
fc.configureGlobal({ seed });
console.log(`envelope.test.ts: fast-check seed ${seed} (replay with FC_SEED=${seed})`);

type Quote = (snapshot: Snapshot, payment: unknown) => Decision;

/** One fast evaluator per snapshot, compiled on first use, as a service would hold it. */
const fastEvaluators = new WeakMap<Snapshot, FastEvaluator>();

function quoteFast(snapshot: Snapshot, payment: unknown): Decision {
  let evaluator = fastEvaluators.get(snapshot);
  if (evaluator === undefined) {
    evaluator = createFastEvaluator(snapshot);
    fastEvaluators.set(snapshot, evaluator);
  }
  return evaluator.quote(payment);
}

const EVALUATORS: readonly [string, Quote][] = [
  ["reference", (snapshot, payment) => quoteReference(snapshot, payment)],
  ["fast", quoteFast],
];

interface PaymentFields {
  readonly amountMinor: number;
  readonly currency: string;
  readonly scenario: string;
  readonly payeeKind: string;
  readonly merchantCategory?: string;
  readonly region: string;
  readonly atMs: number;
}

/** Every envelope invariant for one decision; returns how many subsidies it checked. */
function expectWithinEnvelope(snapshot: Snapshot, payment: PaymentFields, decision: Decision) {
  const { subsidies } = decision;
  expect(decision.totalSubsidyMinor).toBe(
    subsidies.reduce((sum, subsidy) => sum + subsidy.amountMinor, 0),
  );
  expect(decision.subjectToBudget).toBe(subsidies.length > 0);
  if (subsidies.length === 0) return 0;

  const protectedScenarios: readonly string[] = [
    ...snapshot.envelope.protectedScenarios,
    ...CASH_EQUIVALENT_SCENARIOS,
  ];
  expect(protectedScenarios).not.toContain(payment.scenario);
  expect(payment.payeeKind).not.toBe("individual");
  const bounds = envelopeBoundsFor(snapshot.envelope, payment.currency);
  expect(bounds).toBeDefined();
  const boundMinor = Math.min(
    bounds!.perPaymentMaxMinor,
    applyRateBpsFloor(payment.amountMinor, bounds!.perPaymentMaxRateBps),
    payment.amountMinor - bounds!.minPayableMinor,
  );
  expect(decision.totalSubsidyMinor).toBeLessThanOrEqual(boundMinor);

  for (const subsidy of subsidies) {
    expect(subsidy.amountMinor).toBeGreaterThan(0);
    expect(subsidy.amountMinor).toBeLessThanOrEqual(subsidy.offerMinor);
    const campaign = snapshot.campaigns.find(
      (effective) => effective.campaign.id === subsidy.campaignId,
    );
    expect(campaign?.campaign.currency).toBe(payment.currency);
    if (subsidy.funding === "government" || subsidy.label === "government_subsidy") {
      const program = snapshot.programs.get(subsidy.programId ?? "");
      expect(program, `program of ${subsidy.campaignId}`).toBeDefined();
      const validity = periodInstants(program!.validity);
      expect(program!.currency).toBe(payment.currency);
      expect(program!.regions).toContain(payment.region);
      expect(program!.merchantCategories).toContain(payment.merchantCategory);
      expect(payment.atMs).toBeGreaterThanOrEqual(validity.startMs);
      expect(payment.atMs).toBeLessThan(validity.endMs);
    }
  }
  return subsidies.length;
}

describe.each(EVALUATORS)("the envelope holds on the %s evaluator", (_, quote) => {
  test.prop([snapshotWithPaymentsArbitrary({ wild: false }, { paymentsMax: 8 })], {
    numRuns: 1500,
  })("for generated snapshots and payments", ({ snapshot, payments }) => {
    for (const payment of payments) {
      expectWithinEnvelope(snapshot, payment as PaymentFields, quote(snapshot, payment));
    }
  });

  test("the generated cases do grant subsidies, government-funded and uncapped ones too", () => {
    // Guards the property above against passing vacuously.
    const samples = fc.sample(snapshotWithPaymentsArbitrary({ wild: false }, { paymentsMax: 8 }), {
      numRuns: 400,
      seed: 20250116,
    });
    let subsidies = 0;
    let government = 0;
    let fullRate = 0;
    let boundReached = 0;
    for (const { snapshot, payments } of samples) {
      for (const payment of payments) {
        const decision = quote(snapshot, payment);
        subsidies += expectWithinEnvelope(snapshot, payment as PaymentFields, decision);
        government += decision.subsidies.filter((s) => s.funding === "government").length;
        boundReached += decision.rejected.filter(
          (r) => r.reason === "envelope.total_bound_reached",
        ).length;
        fullRate += decision.subsidies.filter((subsidy) => {
          const campaign = snapshot.campaigns.find((c) => c.campaign.id === subsidy.campaignId);
          return campaign?.offer.kind === "percent" && campaign.offer.rateBps === 10_000;
        }).length;
      }
    }
    expect(subsidies).toBeGreaterThan(300);
    expect(government).toBeGreaterThan(5);
    expect(fullRate).toBeGreaterThan(0);
    expect(boundReached).toBeGreaterThan(20);
  });
});

describe("examples/ through both evaluators", () => {
  let snapshot: Snapshot;
  beforeAll(async () => {
    const loaded = await loadConfig([join(import.meta.dirname, "..", "..", "examples")]);
    expect(loaded.findings).toEqual([]);
    const built = buildSnapshot(loaded.config, { version: 7, randomSeed: 20250116 });
    if (!built.ok) throw new Error(built.message);
    snapshot = built.snapshot;
  });

  /** A Shanghai supermarket QR payment of 50.00 yuan at 2025-01-16 14:40 Beijing time. */
  const groceryPayment = {
    paymentId: "p-20250116-1440",
    userId: "u-1",
    amountMinor: 5000,
    currency: "CNY",
    scenario: "merchant_qr",
    payeeKind: "merchant",
    merchantId: "m-sh-market-1",
    merchantCategory: "5411",
    region: "CN-SH",
    channel: "app",
    paymentMethod: "balance",
    atMs: Date.UTC(2025, 0, 16, 6, 40),
  };

  describe.each(EVALUATORS)("on the %s evaluator", (_, quote) => {
    test("a Shanghai grocery QR payment gets the government subsidy and the 0.50 yuan discount", () => {
      const decision = quote(snapshot, groceryPayment);
      expect(decision.reason).toBeNull();
      expect(decision.subsidies).toEqual([
        {
          campaignId: "gov-sh-grocery-subsidy",
          campaignVersion: 1,
          templateId: "gov-consumption-subsidy",
          amountMinor: 500,
          offerMinor: 500,
          funding: "government",
          programId: "sh-consumption-2025",
          label: "government_subsidy",
        },
        {
          campaignId: "idc-sh-convenience-qr",
          campaignVersion: 1,
          templateId: "instant-discount",
          amountMinor: 50,
          offerMinor: 50,
          funding: "platform",
          label: "instant_discount",
        },
      ]);
      expect(decision.totalSubsidyMinor).toBe(550);
      expect(decision.snapshotVersion).toBe(7);
      // The nationwide 0.50 yuan discount shares the exclusive group and has a lower priority.
      expect(decision.rejected).toContainEqual({
        campaignId: "idc-national-qr-everyday",
        reason: "stacking.exclusive_group_lost",
      });
    });

    test("the same payment as a transfer, or to a person, gets nothing", () => {
      const transfer = quote(snapshot, { ...groceryPayment, scenario: "p2p_transfer" });
      expect(transfer.reason).toBe("envelope.protected_scenario");
      expect(transfer.subsidies).toEqual([]);
      expect(transfer.totalSubsidyMinor).toBe(0);
      const toPerson = quote(snapshot, { ...groceryPayment, payeeKind: "individual" });
      expect(toPerson.reason).toBe("envelope.individual_payee");
      expect(toPerson.subsidies).toEqual([]);
    });

    test("outside the programme's categories there is no government subsidy", () => {
      const cinema = quote(snapshot, { ...groceryPayment, merchantCategory: "7832" });
      expect(cinema.subsidies.some((subsidy) => subsidy.funding === "government")).toBe(false);
    });

    test("a random offer gives the same amount on a retry, within its bounds", () => {
      // lucky-mobile-topup: 0.01 .. 3.00 yuan on top-ups of 30 .. 200 yuan.
      const amounts = new Set<number>();
      for (let index = 0; index < 40; index += 1) {
        const topUp = {
          ...groceryPayment,
          paymentId: `topup-${index}`,
          scenario: "mobile_topup",
          merchantCategory: "4814",
          region: "CN-GD",
        };
        const first = quote(snapshot, topUp);
        expect(quote(snapshot, { ...topUp })).toEqual(first);
        const lucky = first.subsidies.find(
          (subsidy) => subsidy.campaignId === "lucky-mobile-topup",
        );
        expect(lucky).toBeDefined();
        expect(lucky!.amountMinor).toBeGreaterThanOrEqual(1);
        expect(lucky!.amountMinor).toBeLessThanOrEqual(300);
        amounts.add(lucky!.amountMinor);
      }
      // Different payments draw differently: a constant would not be random.
      expect(amounts.size).toBeGreaterThan(10);
    });

    test("an invalid payment gets payment.invalid, echoing its id, without throwing", () => {
      const decision = quote(snapshot, { ...groceryPayment, amountMinor: 50.5 });
      expect(decision).toEqual({
        paymentId: "p-20250116-1440",
        snapshotVersion: 7,
        reason: "payment.invalid",
        subsidies: [],
        totalSubsidyMinor: 0,
        rejected: [],
        excludedByIndex: 0,
        subjectToBudget: false,
      });
      expect(quote(snapshot, null).paymentId).toBeNull();
      expect(quote(snapshot, "not a payment").reason).toBe("payment.invalid");
    });
  });
});

describe("buildSnapshot", () => {
  test("refuses a snapshot whose offers their kinds would refuse, so the hot path never meets one", async () => {
    const loaded = await loadConfig([join(import.meta.dirname, "..", "..", "examples")]);
    const [first, ...rest] = loaded.config.campaigns;
    const broken = {
      ...first!,
      offer: { kind: "percent", rateBps: 2000 } as unknown as NonNullable<typeof first>["offer"],
    };
    const built = buildSnapshot(
      { ...loaded.config, campaigns: [broken, ...rest] },
      { version: 1, randomSeed: 0 },
    );
    expect(built.ok).toBe(false);
    expect(!built.ok && built.code).toBe("snapshot.invalid_offer");
  });

  test("refuses a configuration without an envelope: there is no switch that turns it off", async () => {
    const loaded = await loadConfig([join(import.meta.dirname, "..", "..", "examples")]);
    const { envelope: _envelope, ...withoutEnvelope } = loaded.config;
    const built = buildSnapshot(withoutEnvelope, { version: 1, randomSeed: 0 });
    expect(!built.ok && built.code).toBe("snapshot.envelope_missing");
  });
});
