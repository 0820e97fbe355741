/**
 * The fast evaluator is proven equal to the reference evaluator (the oracle) by differential
 * property tests over generated snapshots and payments: every decision deep-equal, with and
 * without `explain`, for valid, corrupted and wild inputs.
 *
 * The seed is printed at start; replay a failure with
 *   FC_SEED=<seed> npx vitest run test/evaluator/differential.test.ts
 * (fast-check also prints the seed and the shrunk counterexample of a failing property).
 */
import { join } from "node:path";
import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { loadConfig } from "../../src/config/load-config.ts";
import type { Decision, QuoteOptions } from "../../src/core/evaluator/decision.ts";
import { createFastEvaluator } from "../../src/core/evaluator/fast-evaluator.ts";
import {
  CheckedPayment,
  fastPaymentCheck,
  PAYMENT_AT_MS_MAX,
} from "../../src/core/evaluator/fast-payment-check.ts";
import { FastZoneClock } from "../../src/core/evaluator/fast-zone-clock.ts";
import { quoteReference } from "../../src/core/evaluator/reference-evaluator.ts";
import { buildSnapshot, type Snapshot } from "../../src/core/evaluator/snapshot.ts";
import { paymentSchema } from "../../src/core/model/payment.ts";
import { zonedParts } from "../../src/core/time-zone.ts";
import {
  paymentsArbitrary,
  snapshotWithPaymentsArbitrary,
} from "../support/evaluator-arbitraries.ts";

const seed = Number(process.env.FC_SEED ?? Math.floor(Math.random() * 2 ** 31));
fc.configureGlobal({ seed });
console.log(`differential.test.ts: fast-check seed ${seed} (replay with FC_SEED=${seed})`);

type Outcome = { readonly decision: Decision } | { readonly thrown: string };

/** A decision, or what was thrown: wild snapshots make both evaluators throw at the same point. */
function outcomeOf(quote: () => Decision): Outcome {
  try {
    return { decision: quote() };
  } catch (error) {
    return { thrown: String(error) };
  }
}

/** Options per payment: explain three times in four, and every way of not asking for it. */
const optionsListArbitrary = fc.array(
  fc.oneof(
    { weight: 3, arbitrary: fc.constant<QuoteOptions>({ explain: true }) },
    {
      weight: 1,
      arbitrary: fc.constantFrom<QuoteOptions | undefined>(undefined, {}, { explain: false }),
    },
  ),
  { minLength: 10, maxLength: 10 },
);

function expectSameDecisions(
  snapshot: Snapshot,
  payments: readonly unknown[],
  optionsList: readonly (QuoteOptions | undefined)[],
): void {
  const fast = createFastEvaluator(snapshot);
  // One evaluator answers every payment in turn, so leftover scratch state would show.
  payments.forEach((payment, index) => {
    const options = optionsList[index % optionsList.length];
    const expected = outcomeOf(() => quoteReference(snapshot, payment, options));
    const actual = outcomeOf(() => fast.quote(payment, options));
    expect(actual).toStrictEqual(expected);
  });
}

const ordinary = { wild: false } as const;
const wild = { wild: true } as const;

describe("fast evaluator equals the reference evaluator", () => {
  test.prop([snapshotWithPaymentsArbitrary(ordinary, { paymentsMax: 8 }), optionsListArbitrary], {
    numRuns: 3000,
  })("valid payments on generated snapshots", ({ snapshot, payments }, optionsList) => {
    expect(createFastEvaluator(snapshot).compiled).toBe(true);
    expectSameDecisions(snapshot, payments, optionsList);
  });

  test.prop([snapshotWithPaymentsArbitrary(ordinary, { mix: "corrupted" }), optionsListArbitrary], {
    numRuns: 2000,
  })(
    "corrupted payments: wrong types, floats, unsafe integers, missing and extra fields",
    ({ snapshot, payments }, optionsList) => expectSameDecisions(snapshot, payments, optionsList),
  );

  test.prop([snapshotWithPaymentsArbitrary(wild, { mix: "both" }), optionsListArbitrary], {
    numRuns: 2000,
  })(
    "wild snapshots: odd parameters, unreadable schedules, unsorted or repeated campaigns",
    ({ snapshot, payments }, optionsList) => expectSameDecisions(snapshot, payments, optionsList),
  );

  test.prop(
    [
      snapshotWithPaymentsArbitrary(ordinary, { campaignsMax: 140, paymentsMax: 10 }),
      optionsListArbitrary,
    ],
    { numRuns: 200 },
  )("snapshots spanning several bitset words", ({ snapshot, payments }, optionsList) => {
    expect(snapshot.campaigns.length).toBeLessThanOrEqual(140);
    expectSameDecisions(snapshot, payments, optionsList);
  });

  test("the examples/ configuration, on payments around its schedules", async () => {
    const loaded = await loadConfig([join(import.meta.dirname, "..", "..", "examples")]);
    const built = buildSnapshot(loaded.config, { version: 1, randomSeed: 20250116 });
    if (!built.ok) throw new Error(built.message);
    const snapshot = built.snapshot;
    fc.assert(
      fc.property(
        paymentsArbitrary(snapshot, { mix: "both", paymentsMax: 10 }),
        optionsListArbitrary,
        (payments, optionsList) => {
          expectSameDecisions(snapshot, payments, optionsList);
        },
      ),
      { numRuns: 300 },
    );
  });

  test.prop([snapshotWithPaymentsArbitrary(ordinary)], { numRuns: 300 })(
    "a retry of the same payment gets the same decision, random draws included",
    ({ snapshot, payments }) => {
      const fast = createFastEvaluator(snapshot);
      for (const payment of payments) {
        expect(fast.quote(structuredClone(payment))).toStrictEqual(fast.quote(payment));
      }
    },
  );
});

describe("fastPaymentCheck accepts exactly what paymentSchema accepts", () => {
  const schemaAccepts = (input: unknown) => paymentSchema.safeParse(input).success;
  const fastAccepts = (input: unknown) => fastPaymentCheck(input, new CheckedPayment());

  test.prop(
    [
      snapshotWithPaymentsArbitrary(ordinary, { mix: "both", campaignsMax: 2 }),
      fc.anything({ withNullPrototype: true, withBigInt: true, withDate: true, withMap: true }),
    ],
    { numRuns: 3000 },
  )("on valid, corrupted and arbitrary inputs", ({ payments }, anything) => {
    for (const input of [...payments, anything]) {
      expect(fastAccepts(input)).toBe(schemaAccepts(input));
    }
  });

  const valid = {
    paymentId: "p-1",
    userId: "u-1",
    amountMinor: 5000,
    currency: "CNY",
    scenario: "merchant_qr",
    payeeKind: "merchant",
    merchantId: "m-1",
    region: "CN-SH",
    channel: "app",
    paymentMethod: "balance",
    atMs: 0,
  };
  const boundaries: readonly [string, Record<string, unknown>][] = [
    ["the largest atMs", { ...valid, atMs: PAYMENT_AT_MS_MAX }],
    ["one past the largest atMs", { ...valid, atMs: PAYMENT_AT_MS_MAX + 1 }],
    ["atMs -0", { ...valid, atMs: -0 }],
    ["a 64-character id", { ...valid, paymentId: "p".repeat(64) }],
    ["a 65-character id", { ...valid, paymentId: "p".repeat(65) }],
    ["the largest amount", { ...valid, amountMinor: 1_000_000_000_000_000 }],
    ["one past the largest amount", { ...valid, amountMinor: 1_000_000_000_000_001 }],
    ["four segments, repeated", { ...valid, segments: ["vip", "vip", "vip", "vip"] }],
    ["five segments", { ...valid, segments: ["vip", "vip", "vip", "vip", "vip"] }],
    ["an id with a newline at the end", { ...valid, userId: "u-1\n" }],
    ["a category with a newline at the end", { ...valid, merchantCategory: "5411\n" }],
    ["a currency from Object.prototype", { ...valid, currency: "toString" }],
  ];
  test.each(boundaries)("%s", (_, input) => {
    expect(fastAccepts(input)).toBe(schemaAccepts(input));
  });
});

describe("FastZoneClock reads local time exactly as zonedParts does", () => {
  // Zones with DST, half- and quarter-hour offsets, and (Monrovia, 1972) a change that does
  // not fall on a quarter hour of UTC — the bucket holding it must be read exactly.
  const zones = [
    "Asia/Shanghai",
    "America/New_York",
    "UTC",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "America/St_Johns",
    "Pacific/Chatham",
    "Africa/Monrovia",
  ];
  const interesting = [
    Date.UTC(2025, 2, 9, 7, 0),
    Date.UTC(2025, 10, 2, 6, 0),
    Date.UTC(1986, 4, 3, 18, 0), // Shanghai's DST began in 1986
    Date.UTC(1972, 0, 7, 0, 44, 30), // Monrovia: -0:44:30 became UTC
    Date.UTC(2025, 3, 5, 15, 0), // Lord Howe: a 30-minute DST change
    0,
  ];
  const instant = fc.oneof(
    fc
      .tuple(
        fc.constantFrom(...interesting),
        fc.integer({ min: -3 * 86_400_000, max: 3 * 86_400_000 }),
      )
      .map(([base, offset]) => Math.max(0, base + offset)),
    fc.integer({ min: 0, max: PAYMENT_AT_MS_MAX }),
  );

  test.prop(
    [
      fc.array(fc.tuple(fc.integer({ min: 0, max: zones.length - 1 }), instant), {
        minLength: 1,
        maxLength: 40,
      }),
      fc.boolean(),
    ],
    {
      numRuns: 1500,
    },
  )("in time order and out of it", (reads, inOrder) => {
    const clock = new FastZoneClock(zones);
    const ordered = inOrder ? [...reads].sort((left, right) => left[1] - right[1]) : reads;
    for (const [zoneId, atMs] of ordered) {
      clock.read(zoneId, atMs);
      const local = zonedParts(atMs, zones[zoneId]!);
      expect([clock.minuteOfDay, clock.weekday]).toEqual([
        local.hour * 60 + local.minute,
        local.weekday,
      ]);
    }
  });

  test("a bucket holding an offset change off the quarter hour is read exactly", () => {
    // Monrovia moved from -0:44:30 to UTC at 1972-01-07T00:44:30Z, inside the 00:30 bucket.
    const changeMs = Date.UTC(1972, 0, 7, 0, 44, 30);
    expect(zonedParts(changeMs - 1000, "Africa/Monrovia").day).toBe(6);
    expect(zonedParts(changeMs, "Africa/Monrovia").day).toBe(7);
    const clock = new FastZoneClock(["Africa/Monrovia"]);
    for (let atMs = changeMs - 900_000; atMs < changeMs + 900_000; atMs += 10_000) {
      clock.read(0, atMs);
      const local = zonedParts(atMs, "Africa/Monrovia");
      expect([atMs, clock.minuteOfDay, clock.weekday]).toEqual([
        atMs,
        local.hour * 60 + local.minute,
        local.weekday,
      ]);
    }
  });

  test("time-ordered traffic reads Intl about once per zone and 15 minutes", () => {
    const clock = new FastZoneClock(["Asia/Shanghai"]);
    const startMs = Date.UTC(2025, 0, 16, 6, 40);
    for (let atMs = startMs; atMs < startMs + 3_600_000; atMs += 250) clock.read(0, atMs);
    expect(clock.bucketReads).toBeLessThanOrEqual(5);
  });
});
