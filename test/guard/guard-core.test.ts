import { fc, test as propertyTest } from "@fast-check/vitest";
import { describe, expect, test } from "vitest";
import {
  BREAKER_ACTIONS,
  BREAKER_STATES,
  BREAKER_TRANSITIONS,
  nextBreakerState,
} from "../../src/core/guard/breaker-lifecycle.ts";
import {
  DEFAULT_SEVERITY_POLICY,
  NO_IMPACT,
  severityOf,
} from "../../src/core/guard/severity-policy.ts";
import { SlidingWindow } from "../../src/core/guard/sliding-window.ts";
import {
  DEFAULT_VELOCITY_POLICY,
  SpendVelocityMonitor,
  shareOfFleetMinor,
  type VelocityLimit,
} from "../../src/core/guard/spend-velocity-monitor.ts";

describe("a sliding window", () => {
  const event = fc.record({
    deltaMs: fc.integer({ min: -3_000, max: 2_000 }),
    amount: fc.integer({ min: 0, max: 1_000 }),
  });

  propertyTest.prop([fc.array(event, { maxLength: 300 }), fc.integer({ min: 0, max: 5_000 })])(
    "sums exactly the events of its last buckets that were not too old when they came",
    (events, queryAfterMs) => {
      const window = new SlidingWindow(10_000, 10);
      const kept: { bucket: number; amount: number }[] = [];
      let clockMs = 1_000_000;
      let newestBucket = Number.NEGATIVE_INFINITY;
      for (const { deltaMs, amount } of events) {
        // Mostly forward, sometimes a little late: as decisions arrive from several threads.
        clockMs = Math.max(0, clockMs + deltaMs);
        const bucket = Math.floor(clockMs / 1_000);
        newestBucket = Math.max(newestBucket, bucket);
        const accepted = window.add(clockMs, amount);
        expect(accepted).toBe(bucket > newestBucket - 10);
        if (accepted) kept.push({ bucket, amount });
      }
      const nowMs = Math.max(clockMs, newestBucket * 1_000) + queryAfterMs;
      const current = Math.floor(nowMs / 1_000);
      const expected = kept.filter(({ bucket }) => bucket > current - 10 && bucket <= current);
      expect(window.sum(nowMs)).toEqual({
        amountMinor: expected.reduce((sum, { amount }) => sum + amount, 0),
        count: expected.length,
      });
    },
  );

  /**
   * The straightforward window the running sums replaced: every query scans the whole ring. The
   * optimised window must answer every query exactly as this does.
   */
  class ReferenceWindow {
    private readonly amounts: number[];
    private readonly counts: number[];
    private readonly slots: number[];
    private readonly bucketMs: number;
    private newestBucket = Number.NEGATIVE_INFINITY;

    constructor(windowMs: number, buckets: number) {
      this.bucketMs = windowMs / buckets;
      this.amounts = new Array<number>(buckets).fill(0);
      this.counts = new Array<number>(buckets).fill(0);
      this.slots = new Array<number>(buckets).fill(-1);
    }

    add(atMs: number, amountMinor: number, count: number): boolean {
      const bucket = Math.floor(atMs / this.bucketMs);
      if (bucket > this.newestBucket) this.newestBucket = bucket;
      if (bucket <= this.newestBucket - this.slots.length) return false;
      const slot = bucket % this.slots.length;
      if (this.slots[slot] !== bucket) {
        this.slots[slot] = bucket;
        this.amounts[slot] = 0;
        this.counts[slot] = 0;
      }
      this.amounts[slot]! += amountMinor;
      this.counts[slot]! += count;
      return true;
    }

    sum(nowMs: number): { amountMinor: number; count: number } {
      const current = Math.floor(nowMs / this.bucketMs);
      let amountMinor = 0;
      let count = 0;
      this.slots.forEach((bucket, slot) => {
        if (bucket > current - this.slots.length && bucket <= current) {
          amountMinor += this.amounts[slot]!;
          count += this.counts[slot]!;
        }
      });
      return { amountMinor, count };
    }
  }

  // Each step moves a cursor by a few buckets, forward or back, and now and then by about a
  // window either way (so events land just inside and just outside the windows of earlier
  // queries), to a point inside a bucket; there it either adds an event or queries. Events
  // older than the window, queries behind the newest event, repeated queries in one bucket and
  // idle gaps all occur.
  const step = fc.record({
    deltaWindows: fc.oneof(
      { weight: 4, arbitrary: fc.constant(0) },
      { weight: 1, arbitrary: fc.constantFrom(-1, 1, 2) },
    ),
    deltaBuckets: fc.integer({ min: -2, max: 3 }),
    withinBucketPerMille: fc.integer({ min: 0, max: 999 }),
    query: fc.boolean(),
    amount: fc.integer({ min: 0, max: 100_000_000 }),
    count: fc.integer({ min: 1, max: 3 }),
  });
  const shape = fc.constantFrom(
    [1_000, 10],
    [10_000, 10],
    [60_000, 60],
    [600_000, 60],
    [3_000, 3],
    [500, 1],
  );

  propertyTest.prop([shape, fc.array(step, { maxLength: 200, size: "max" })])(
    "answers every query exactly as a window that scans its whole ring",
    ([windowMs, buckets], steps) => {
      const bucketMs = windowMs / buckets;
      const window = new SlidingWindow(windowMs, buckets);
      const reference = new ReferenceWindow(windowMs, buckets);
      let cursorBucket = 1_000;
      let atMs = 0;
      for (const step of steps) {
        const { deltaWindows, deltaBuckets, withinBucketPerMille, query, amount, count } = step;
        cursorBucket = Math.max(0, cursorBucket + deltaWindows * buckets + deltaBuckets);
        atMs = cursorBucket * bucketMs + Math.floor((withinBucketPerMille * bucketMs) / 1_000);
        if (query) expect(window.sum(atMs)).toEqual(reference.sum(atMs));
        else expect(window.add(atMs, amount, count)).toBe(reference.add(atMs, amount, count));
      }
      // And a sweep from a window before the cursor to two after it, a bucket at a time.
      for (let at = atMs - windowMs; at <= atMs + 2 * windowMs; at += bucketMs) {
        expect(window.sum(Math.max(0, at))).toEqual(reference.sum(Math.max(0, at)));
      }
    },
  );

  test("forgets an event once its bucket leaves the window", () => {
    const window = new SlidingWindow(1_000, 10);
    window.add(5_000, 700);
    expect(window.sum(5_099).amountMinor).toBe(700);
    expect(window.sum(5_999).amountMinor).toBe(700);
    expect(window.sum(6_000).amountMinor).toBe(0);
  });

  test("refuses shapes it cannot hold", () => {
    expect(() => new SlidingWindow(1_000, 0)).toThrow(RangeError);
    expect(() => new SlidingWindow(1_000, 3)).toThrow(RangeError);
    expect(() => new SlidingWindow(1_000_000, 10_000)).toThrow(RangeError);
  });
});

describe("the spend velocity monitor", () => {
  // A ceiling of 600 yuan a minute: 10 yuan a second on average.
  const limits = [{ key: "campaign/coffee", ceilingPerMinuteMinor: 60_000 }];

  test("does not trip on spend at the ceiling's pace, or on one short burst within the allowance", () => {
    const monitor = new SpendVelocityMonitor(limits);
    // One yuan every 100 ms for a minute: exactly the ceiling.
    for (let atMs = 0; atMs < 60_000; atMs += 100) {
      monitor.record("campaign/coffee", atMs, 100);
      expect(monitor.check(atMs)).toEqual([]);
    }
    const burst = new SpendVelocityMonitor(limits);
    burst.record("campaign/coffee", 0, 5_000); // 5× a second's share, in one second
    expect(burst.check(500)).toEqual([]);
  });

  test("trips within a second when spend runs far above the ceiling, on the shortest window", () => {
    const monitor = new SpendVelocityMonitor(limits);
    let tripAtMs: number | undefined;
    // 20 % of 100-yuan payments: 20 yuan a payment, 10 payments a second.
    for (let atMs = 0; atMs < 5_000 && tripAtMs === undefined; atMs += 100) {
      monitor.record("campaign/coffee", atMs, 2_000);
      const trips = monitor.check(atMs);
      if (trips.length > 0) {
        tripAtMs = atMs;
        expect(trips).toEqual([
          expect.objectContaining({
            code: "velocity.above_ceiling",
            key: "campaign/coffee",
            window: "1s",
            limitMinor: 5_000,
          }),
        ]);
      }
    }
    expect(tripAtMs).toBeLessThanOrEqual(1_000);
  });

  test("trips on the forecast, beyond its tolerance and above the floor, and ignores unwatched keys", () => {
    const monitor = new SpendVelocityMonitor([
      { key: "campaign/tea", forecastPerMinuteMinor: 120_000 },
    ]);
    monitor.record("campaign/other", 0, 1_000_000_000);
    for (let atMs = 0; atMs < 60_000; atMs += 1_000) monitor.record("campaign/tea", atMs, 3_900);
    // 3,900 a second against a forecast of 2,000: within twice the forecast on every window.
    expect(monitor.check(59_999)).toEqual([]);
    monitor.record("campaign/tea", 60_000, 40_000);
    expect(monitor.check(60_000)).toEqual([
      expect.objectContaining({
        code: "velocity.above_forecast",
        window: "1s",
        observedMinor: 40_000,
      }),
    ]);
  });
});

describe("the spend velocity monitor at a declared share of the traffic", () => {
  /** A monitor for a process that sees `trafficShareBps` of the traffic. */
  const monitorAt = (trafficShareBps: number, limits: readonly VelocityLimit[]) =>
    new SpendVelocityMonitor(limits, { ...DEFAULT_VELOCITY_POLICY, trafficShareBps });
  // The fleet's ceiling of 600 yuan a minute: 5,000 in 1 s, 20,000 in 10 s, 60,000 in 60 s.
  const ceiling = [{ key: "campaign/coffee", ceilingPerMinuteMinor: 60_000 }];

  test("a ceiling is the fleet's: at half the traffic a process trips on half of it, on every window", () => {
    for (const [trafficShareBps, limitMinor] of [
      [10_000, 5_000],
      [5_000, 2_500],
    ] as const) {
      const monitor = monitorAt(trafficShareBps, ceiling);
      monitor.record("campaign/coffee", 0, 4_000);
      // 40 yuan in one second: within the fleet's 1 s limit, above half of it.
      expect(monitor.check(0)).toEqual(
        trafficShareBps === 10_000
          ? []
          : [
              {
                code: "velocity.above_ceiling",
                key: "campaign/coffee",
                window: "1s",
                observedMinor: 4_000,
                limitMinor,
                atMs: 0,
              },
            ],
      );
    }
    // Half the ceiling's pace (one yuan every 200 ms) for a minute is exactly a half share's.
    const half = monitorAt(5_000, ceiling);
    for (let atMs = 0; atMs < 60_000; atMs += 200) {
      half.record("campaign/coffee", atMs, 100);
      expect(half.check(atMs)).toEqual([]);
    }
    half.record("campaign/coffee", 59_999, 100);
    expect(half.checkKey("campaign/coffee", 59_999)).toMatchObject({
      window: "60s",
      observedMinor: 30_100,
      limitMinor: 30_000,
    });
  });

  test("a forecast of the fleet's spend is scaled; one made from this process's own traffic is not", () => {
    // 3,900 a second for a minute against 2,000 a second expected: within twice it (the
    // tolerance) when the expectation is this process's; above twice a half share of it.
    const spend = (monitor: SpendVelocityMonitor, key: string) => {
      for (let atMs = 0; atMs < 60_000; atMs += 1_000) monitor.record(key, atMs, 3_900);
      return monitor.check(59_999);
    };
    const own = [{ key: "campaign/tea", forecastPerMinuteMinor: 120_000 }];
    const fleet = [{ key: "funder/platform", fleetForecastPerMinuteMinor: 120_000 }];
    expect(spend(monitorAt(5_000, own), "campaign/tea")).toEqual([]);
    expect(spend(monitorAt(10_000, fleet), "funder/platform")).toEqual([]);
    expect(spend(monitorAt(5_000, fleet), "funder/platform")).toEqual([
      expect.objectContaining({ code: "velocity.above_forecast", key: "funder/platform" }),
    ]);
    // Both parts: 60,000 of its own plus half of the fleet's 120,000, twice, over the minute.
    const both = monitorAt(5_000, [
      {
        key: "funder/platform",
        forecastPerMinuteMinor: 60_000,
        fleetForecastPerMinuteMinor: 120_000,
      },
    ]);
    both.record("funder/platform", 0, 240_001);
    expect(both.checkKey("funder/platform", 59_999)).toMatchObject({
      window: "60s",
      limitMinor: 240_000,
    });
  });

  test("the forecast floor is the fleet's: at half the traffic, half of it", () => {
    // A tiny forecast: the floor (100 yuan in a window) is the limit.
    const tiny = [{ key: "campaign/rare", forecastPerMinuteMinor: 60 }];
    const whole = monitorAt(10_000, tiny);
    whole.record("campaign/rare", 0, 8_000);
    expect(whole.check(0)).toEqual([]);
    const half = monitorAt(5_000, tiny);
    half.record("campaign/rare", 0, 8_000);
    expect(half.check(0)).toEqual([
      expect.objectContaining({ code: "velocity.above_forecast", window: "1s", limitMinor: 5_000 }),
    ]);
  });

  test("a tiny share rounds a limit up: never a zero limit that trips on the first grant", () => {
    // 1 bps of the fleet's 5,000 in 1 s is 0.5: one minor unit, not zero.
    const monitor = monitorAt(1, ceiling);
    monitor.record("campaign/coffee", 0, 1);
    expect(monitor.check(0)).toEqual([]);
    monitor.record("campaign/coffee", 1, 1);
    expect(monitor.check(1)).toEqual([
      expect.objectContaining({ window: "1s", observedMinor: 2, limitMinor: 1 }),
    ]);
    // The floor too: 1 bps of 10,000 is 1.
    const floor = monitorAt(1, [{ key: "campaign/rare", forecastPerMinuteMinor: 0 }]);
    floor.record("campaign/rare", 0, 1);
    expect(floor.check(0)).toEqual([]);
    floor.record("campaign/rare", 1, 1);
    expect(floor.check(1)).toEqual([expect.objectContaining({ limitMinor: 1 })]);
  });

  test("a process's part of a fleet's amount: rounded up, exact for every safe amount, itself at the whole share", () => {
    expect(shareOfFleetMinor(5_000, 1)).toBe(1);
    expect(shareOfFleetMinor(0, 1)).toBe(0);
    expect(shareOfFleetMinor(3, 5_000)).toBe(2);
    expect(shareOfFleetMinor(10_001, 5_000)).toBe(5_001);
    expect(shareOfFleetMinor(60_000, 2_500)).toBe(15_000);
    expect(shareOfFleetMinor(Number.MAX_SAFE_INTEGER, 10_000)).toBe(Number.MAX_SAFE_INTEGER);
    // 9,007,199,254,740,991 × 0.5 = …495.5, up.
    expect(shareOfFleetMinor(Number.MAX_SAFE_INTEGER, 5_000)).toBe(4_503_599_627_370_496);
  });

  propertyTest.prop([fc.maxSafeNat(), fc.integer({ min: 1, max: 10_000 })])(
    "equals the exact ceiling of amount × share ÷ 10,000",
    (amountMinor, trafficShareBps) => {
      const exact = (BigInt(amountMinor) * BigInt(trafficShareBps) + 9_999n) / 10_000n;
      expect(BigInt(shareOfFleetMinor(amountMinor, trafficShareBps))).toBe(exact);
    },
  );

  test("refuses a share that is not a whole number of bps within 1..10,000, with RangeError", () => {
    for (const trafficShareBps of [0, -1, 10_001, 2_500.5, Number.NaN]) {
      expect(() => monitorAt(trafficShareBps, ceiling), String(trafficShareBps)).toThrow(
        RangeError,
      );
    }
    expect(() => monitorAt(1, ceiling)).not.toThrow();
    expect(() => monitorAt(10_000, ceiling)).not.toThrow();
  });
});

describe("the spend velocity monitor's parts for the guard", () => {
  test("checks one key, exposes its windows with grant counts, and adopts carried windows", () => {
    const limits = [{ key: "campaign/coffee", ceilingPerMinuteMinor: 60_000 }];
    const first = new SpendVelocityMonitor(limits);
    first.windowsOf("campaign/coffee")!.add(0, 4_000, 1);
    expect(first.windowsOf("campaign/coffee")!.oneSecond.sum(0)).toEqual({
      amountMinor: 4_000,
      count: 1,
    });
    expect(first.checkKey("campaign/coffee", 0)).toBeUndefined();
    expect(first.checkKey("campaign/unknown", 0)).toBeUndefined();
    expect(first.windowsOf("campaign/unknown")).toBeUndefined();
    const second = new SpendVelocityMonitor(limits, undefined, (key) => first.windowsOf(key));
    second.record("campaign/coffee", 100, 2_000);
    expect(second.checkKey("campaign/coffee", 100)).toEqual({
      code: "velocity.above_ceiling",
      key: "campaign/coffee",
      window: "1s",
      observedMinor: 6_000,
      limitMinor: 5_000,
      atMs: 100,
    });
    expect(second.check(100)).toEqual([second.checkKey("campaign/coffee", 100)]);
  });
});

describe("the breaker lifecycle table", () => {
  propertyTest.prop([fc.constantFrom(...BREAKER_STATES), fc.constantFrom(...BREAKER_ACTIONS)])(
    "allows exactly the moves it lists",
    (state, action) => {
      const move = nextBreakerState(state, action);
      expect(move.ok).toBe(BREAKER_TRANSITIONS[action].from.includes(state));
      if (!move.ok) expect(move.code).toBe("illegal_breaker_transition");
    },
  );

  test("a tripped breaker is re-armed only after someone acknowledged it", () => {
    expect(nextBreakerState("tripped", "reset")).toMatchObject({ ok: false });
    expect(nextBreakerState("tripped", "acknowledge")).toEqual({ ok: true, state: "acknowledged" });
    expect(nextBreakerState("acknowledged", "reset")).toEqual({ ok: true, state: "armed" });
  });
});

describe("the severity policy", () => {
  const quiet = NO_IMPACT;

  test.each<[string, Partial<typeof quiet>, string]>([
    ["nothing at all", {}, "P4"],
    [
      "¥1,000 a minute on one scenario in one region",
      { atRiskPerMinuteMinor: 100_000, scenarios: 1, regions: 1 },
      "P3",
    ],
    ["¥10,000 a minute", { atRiskPerMinuteMinor: 1_000_000 }, "P2"],
    ["¥1M cumulative", { cumulativeMinor: 100_000_000 }, "P1"],
    ["a fifth of all payments", { paymentShareBps: 2_000 }, "P0"],
    ["just below a fifth", { paymentShareBps: 1_999 }, "P1"],
    [
      "transfers or card repayments touched, even cheaply",
      { atRiskPerMinuteMinor: 50, coreFlows: true },
      "P0",
    ],
    ["the 2025-01-16 shape: many scenarios and regions", { scenarios: 6, regions: 20 }, "P0"],
  ])("%s: %s", (_name, impact, expected) => {
    expect(severityOf({ ...quiet, ...impact }).severity).toBe(expected);
  });

  test("says which measures set the severity, and the worst measure always wins", () => {
    expect(severityOf({ ...quiet, cumulativeMinor: 100_000_000, regions: 5 })).toEqual({
      severity: "P1",
      because: [
        { measure: "cumulativeMinor", severity: "P1" },
        { measure: "regions", severity: "P1" },
      ],
    });
    const custom = { ...DEFAULT_SEVERITY_POLICY, coreFlows: "P2" as const };
    expect(severityOf({ ...quiet, coreFlows: true }, custom).severity).toBe("P2");
  });
});
