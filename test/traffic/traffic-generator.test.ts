import { describe, expect, it } from "vitest";
import { type Payment, paymentSchema } from "../../src/core/model/payment.ts";
import { SCENARIOS } from "../../src/core/scenario.ts";
import { TrafficGenerator } from "../../src/traffic/traffic-generator.ts";
import {
  HOURLY_WEIGHTS,
  POPULATION_MODEL,
  REGION_WEIGHTS_BPS,
  SCENARIO_PROFILES,
} from "../../src/traffic/traffic-model.ts";
import {
  TRAFFIC_LIMITS,
  TRAFFIC_START_MS_DEFAULT,
  type TrafficOptionsInput,
  type TrafficRunInput,
} from "../../src/traffic/traffic-options.ts";
import { TRAFFIC_REGIONS } from "../../src/traffic/traffic-population.ts";

function generate(input: TrafficRunInput): Payment[] {
  const created = TrafficGenerator.create(input);
  if (!created.ok) throw new Error(JSON.stringify(created.errors));
  return [...created.generator];
}

function ndjson(payments: readonly Payment[]): string {
  return payments.map((payment) => JSON.stringify(payment)).join("\n");
}

/** One large sample shared by the distribution checks: 1,000,000 payments at lunch time. */
const SAMPLE_GENERATOR = (() => {
  const created = TrafficGenerator.create({
    seed: 20250116,
    tps: 10_000,
    seconds: 100,
    startMs: TRAFFIC_START_MS_DEFAULT - 2 * 3_600_000,
  });
  if (!created.ok) throw new Error("options refused");
  return created.generator;
})();
const SAMPLE = [...SAMPLE_GENERATOR];

/**
 * The payments that break a rule, at most a few: one assertion per test instead of one per
 * payment keeps a million checks fast and the failure message short.
 */
function violations(payments: readonly Payment[], rule: (payment: Payment) => boolean): Payment[] {
  const found: Payment[] = [];
  for (const payment of payments) {
    if (!rule(payment)) found.push(payment);
    if (found.length === 3) break;
  }
  return found;
}

function shareOf(payments: readonly Payment[], predicate: (payment: Payment) => boolean): number {
  let count = 0;
  for (const payment of payments) if (predicate(payment)) count += 1;
  return count / payments.length;
}

describe("TrafficGenerator: the run", () => {
  it("is deterministic: the same options give byte-identical payments", () => {
    const options = { seed: 42, tps: 500, seconds: 20 };
    expect(ndjson(generate(options))).toBe(ndjson(generate(options)));
  });

  it("differs for a different seed", () => {
    const first = generate({ seed: 42, tps: 100, seconds: 10 });
    const second = generate({ seed: 43, tps: 100, seconds: 10 });
    const same = first.filter((payment, index) => payment.userId === second[index]!.userId).length;
    expect(same).toBeLessThan(first.length / 10);
    expect(ndjson(first)).not.toBe(ndjson(second));
  });

  it("produces exactly tps × seconds payments, in time order, inside the window", () => {
    for (const [tps, seconds, startMs] of [
      [1, 1, 0],
      [7, 13, 1_700_000_000_500],
      [1_000, 30, TRAFFIC_START_MS_DEFAULT],
    ] as const) {
      const payments = generate({ seed: 5, tps, seconds, startMs });
      expect(payments).toHaveLength(tps * seconds);
      const inOrder = (payment: Payment, index: number) =>
        payment.atMs >= (index === 0 ? startMs : payments[index - 1]!.atMs) &&
        payment.atMs < startMs + seconds * 1_000;
      expect(payments.filter((payment, index) => !inOrder(payment, index))).toEqual([]);
    }
    expect(SAMPLE).toHaveLength(1_000_000);
    expect(
      violations(
        SAMPLE.slice(1),
        (payment) => payment.atMs >= SAMPLE[Number(payment.paymentId.split("-")[1]) - 1]!.atMs,
      ),
    ).toEqual([]);
  });

  it("stops after the last payment", () => {
    const created = TrafficGenerator.create({ seed: 1, tps: 2, seconds: 1 });
    if (!created.ok) throw new Error("options refused");
    const generator = created.generator;
    expect(generator.nextPayment()).toBeDefined();
    expect(generator.nextPayment()).toBeDefined();
    expect(generator.nextPayment()).toBeUndefined();
    expect(generator.generated).toBe(2);
  });

  it("gives every payment a unique id derived from seed and index", () => {
    const ids = new Set(SAMPLE.map((payment) => payment.paymentId));
    expect(ids.size).toBe(SAMPLE.length);
    expect(SAMPLE[0]!.paymentId).toBe("p20250116-0");
    expect(SAMPLE[999_999]!.paymentId).toBe("p20250116-999999");
  });

  it("passes paymentSchema, every one of 200,000 payments", () => {
    const failures: unknown[] = [];
    for (const payment of SAMPLE.slice(0, 200_000)) {
      const parsed = paymentSchema.safeParse(payment);
      if (!parsed.success) failures.push({ payment, issues: parsed.error.issues });
    }
    expect(failures.slice(0, 3)).toEqual([]);
  });

  it("returns coded errors for options outside the limits", () => {
    const errors = (input: TrafficOptionsInput) => {
      const created = TrafficGenerator.create(input);
      return created.ok ? [] : created.errors.map((error) => [error.option, error.code]);
    };
    expect(errors({ seed: 1, tps: 0, seconds: 1 })).toEqual([["tps", "traffic.out_of_range"]]);
    expect(errors({ seed: 1, tps: 1.5, seconds: 1 })).toEqual([["tps", "traffic.not_integer"]]);
    expect(errors({ seed: -1, tps: 1, seconds: TRAFFIC_LIMITS.secondsMax + 1 })).toEqual([
      ["seed", "traffic.out_of_range"],
      ["seconds", "traffic.out_of_range"],
    ]);
    expect(errors({ seed: 1, tps: TRAFFIC_LIMITS.tpsMax, seconds: 1_001 })).toEqual([
      ["total", "traffic.too_many_payments"],
    ]);
    expect(errors({ seed: 1, tps: 1, seconds: 1, users: 1, merchants: 10 })).toEqual([
      ["users", "traffic.out_of_range"],
      ["merchants", "traffic.out_of_range"],
    ]);
    expect(errors({ seed: 1, tps: 1, seconds: 1, startMs: Number.NaN })).toEqual([
      ["startMs", "traffic.not_integer"],
    ]);
  });
});

describe("TrafficGenerator: a daily curve of the caller's (hourlyWeights)", () => {
  /** 2025-01-16T00:00:00+08:00 */
  const midnightMs = Date.parse("2025-01-16T00:00:00+08:00");
  const errors = (input: TrafficRunInput) => {
    const created = TrafficGenerator.create(input);
    return created.ok ? [] : created.errors.map((error) => [error.option, error.code]);
  };

  it("defaults to the model's curve: the same payments as when it is given explicitly", () => {
    const options = { seed: 42, tps: 10, seconds: 7_200, startMs: midnightMs + 11 * 3_600_000 };
    const created = TrafficGenerator.create(options);
    expect(created.ok && created.generator.options.hourlyWeights).toBe(HOURLY_WEIGHTS);
    expect(ndjson(generate(options))).toBe(
      ndjson(generate({ ...options, hourlyWeights: [...HOURLY_WEIGHTS] })),
    );
  });

  it("shapes the day by the given weights, zeros included, and keeps its own copy", () => {
    // Payments only between 09:30 and 11:30 (weights at hour midpoints, linear in between),
    // most of them around 10:30.
    const weights = new Array<number>(24).fill(0);
    weights[10] = 1;
    const created = TrafficGenerator.create({
      seed: 3,
      tps: 1,
      seconds: 86_400,
      startMs: midnightMs,
      hourlyWeights: weights,
    });
    if (!created.ok) throw new Error(JSON.stringify(created.errors));
    weights[3] = 1_000; // too late: the generator copied the curve
    const payments = [...created.generator];
    expect(payments).toHaveLength(86_400);
    const hours = payments.map((payment) => (payment.atMs - midnightMs) / 3_600_000);
    expect(Math.min(...hours)).toBeGreaterThanOrEqual(9.5);
    expect(Math.max(...hours)).toBeLessThan(11.5);
    const nearPeak = hours.filter((hour) => hour >= 10 && hour < 11).length;
    expect(nearPeak / payments.length).toBeGreaterThan(0.7);
  });

  it("refuses a curve that is not 24 finite weights of at least 0 with one above 0", () => {
    const base = { seed: 1, tps: 1, seconds: 60 };
    const twentyFour = (value: number, at = 5) =>
      Array.from({ length: 24 }, (_, hour) => (hour === at ? value : 1));
    for (const hourlyWeights of [
      [],
      new Array<number>(23).fill(1),
      new Array<number>(25).fill(1),
      twentyFour(-1),
      twentyFour(Number.NaN),
      twentyFour(Number.POSITIVE_INFINITY),
      new Array<number>(24).fill(0),
    ]) {
      expect(errors({ ...base, hourlyWeights }), `${hourlyWeights}`).toEqual([
        ["hourlyWeights", "traffic.invalid_curve"],
      ]);
    }
    // Reported with the other options' errors.
    expect(errors({ ...base, tps: 0, hourlyWeights: twentyFour(-1) })).toEqual([
      ["tps", "traffic.out_of_range"],
      ["hourlyWeights", "traffic.invalid_curve"],
    ]);
  });

  it("refuses a window that lies wholly where the curve is 0, and accepts one that touches weight", () => {
    const nightOff = HOURLY_WEIGHTS.map((weight, hour) => (hour >= 1 && hour <= 4 ? 0 : weight));
    // 01:30 to 04:30 the curve is 0: an hour from 02:00 has nothing to draw from.
    expect(
      errors({
        seed: 1,
        tps: 1,
        seconds: 3_600,
        startMs: midnightMs + 2 * 3_600_000,
        hourlyWeights: nightOff,
      }),
    ).toEqual([["hourlyWeights", "traffic.empty_window"]]);
    const payments = generate({
      seed: 1,
      tps: 1,
      seconds: 4 * 3_600,
      startMs: midnightMs + 2 * 3_600_000,
      hourlyWeights: nightOff,
    });
    expect(payments).toHaveLength(4 * 3_600);
    // Everything falls after 04:30, where the curve rises again.
    expect(payments[0]!.atMs).toBeGreaterThanOrEqual(midnightMs + 4.5 * 3_600_000);
  });
});

describe("TrafficGenerator: the model", () => {
  it("keeps every scenario within one percentage point of its share", () => {
    for (const profile of SCENARIO_PROFILES) {
      const share = shareOf(SAMPLE, (payment) => payment.scenario === profile.scenario);
      expect(Math.abs(share * 100 - profile.sharePercent), profile.scenario).toBeLessThan(1);
    }
  });

  it("sends the documented share of merchant_qr payments to personal collection codes", () => {
    const qr = SAMPLE.filter((payment) => payment.scenario === "merchant_qr");
    const individual = shareOf(qr, (payment) => payment.payeeKind === "individual");
    expect(Math.abs(individual - 0.08)).toBeLessThan(0.005);
  });

  it("pays individuals without a merchant category and never the payer themself", () => {
    const rule = (payment: Payment) =>
      payment.payeeKind === "individual"
        ? payment.merchantCategory === undefined &&
          /^u\d+$/.test(payment.merchantId) &&
          payment.merchantId !== payment.userId
        : /^m\d+$/.test(payment.merchantId) && payment.merchantCategory !== undefined;
    expect(violations(SAMPLE, rule)).toEqual([]);
    for (const scenario of ["p2p_transfer", "red_packet"] as const) {
      const payments = SAMPLE.filter((payment) => payment.scenario === scenario);
      expect(shareOf(payments, (payment) => payment.payeeKind === "individual")).toBe(1);
    }
  });

  it("gives merchants a stable region and a category of their scenario", () => {
    const categories = new Map(
      SCENARIO_PROFILES.map((profile) => [
        profile.scenario as string,
        profile.merchantCategories.map(([code]) => code),
      ]),
    );
    const merchants = new Map<string, string>();
    const rule = (payment: Payment) => {
      if (payment.payeeKind !== "merchant") return true;
      if (!categories.get(payment.scenario)!.includes(payment.merchantCategory!)) return false;
      const identity = `${payment.scenario} ${payment.region} ${payment.merchantCategory}`;
      const seen = merchants.get(payment.merchantId);
      if (seen === undefined) merchants.set(payment.merchantId, identity);
      return seen === undefined || seen === identity;
    };
    expect(violations(SAMPLE, rule)).toEqual([]);
    expect(merchants.size).toBeGreaterThan(50_000);
  });

  it("has a heavy tail: the top 1 % of users make about 21.5 % of payments", () => {
    const perUser = new Map<string, number>();
    for (const payment of SAMPLE)
      perUser.set(payment.userId, (perUser.get(payment.userId) ?? 0) + 1);
    const counts = [...perUser.values()].sort((a, b) => b - a);
    const topUsers = POPULATION_MODEL.usersDefault / 100;
    const topShare = counts.slice(0, topUsers).reduce((a, b) => a + b, 0) / SAMPLE.length;
    expect(topShare).toBeGreaterThan(0.2);
    expect(topShare).toBeLessThan(0.235);
  });

  it("keeps users' segments, devices and cards stable", () => {
    const segmentsOf = new Map<string, string>();
    const devicesOf = new Map<string, Set<string>>();
    const rule = (payment: Payment) => {
      const segments = JSON.stringify(payment.segments ?? []);
      const seen = segmentsOf.get(payment.userId);
      if (seen === undefined) segmentsOf.set(payment.userId, segments);
      const devices = devicesOf.get(payment.userId) ?? new Set<string>();
      devices.add(payment.deviceId!);
      devicesOf.set(payment.userId, devices);
      // Identity keys name their owner: d<user>-<0..2>, c<user>-<0..3>.
      const owner = payment.userId.slice(1);
      const card = payment.cardFingerprint;
      return (
        (seen === undefined || seen === segments) &&
        ["0", "1", "2"].some((index) => payment.deviceId === `d${owner}-${index}`) &&
        (card === undefined || ["0", "1", "2", "3"].some((index) => card === `c${owner}-${index}`))
      );
    };
    expect(violations(SAMPLE, rule)).toEqual([]);
    expect([...devicesOf.values()].some((devices) => devices.size === 3)).toBe(true);
  });

  it("places payments in the payer's home region except while travelling", () => {
    const population = SAMPLE_GENERATOR.population;
    // Merchants of national scenarios may be anywhere; the rest happen where the payer is.
    const national = new Set(
      SCENARIO_PROFILES.filter((profile) => profile.merchantLocation === "national").map(
        (profile) => profile.scenario as string,
      ),
    );
    let atHome = 0;
    let local = 0;
    for (const payment of SAMPLE) {
      if (national.has(payment.scenario) && payment.payeeKind === "merchant") continue;
      local += 1;
      const home = TRAFFIC_REGIONS[population.homeRegion[Number(payment.userId.slice(1))]!];
      if (payment.region === home) atHome += 1;
    }
    // 4 % travel, and a traveller lands in their home region by chance Σ w² ≈ 5 % of the time.
    const weights = TRAFFIC_REGIONS.map((region) => REGION_WEIGHTS_BPS[region]! / 10_000);
    const expected =
      1 -
      POPULATION_MODEL.travelBps / 10_000 +
      (POPULATION_MODEL.travelBps / 10_000) *
        weights.reduce((sum, weight) => sum + weight * weight, 0);
    expect(Math.abs(atHome / local - expected)).toBeLessThan(0.002);
  });

  it("has segment rates near the documented ones", () => {
    const seen = new Map<string, readonly string[]>();
    for (const payment of SAMPLE) seen.set(payment.userId, payment.segments ?? []);
    const users = [...seen.values()];
    const rate = (segment: string) =>
      users.filter((segments) => segments.includes(segment)).length / users.length;
    for (const [segment, bps] of Object.entries(POPULATION_MODEL.segmentBps)) {
      expect(Math.abs(rate(segment) - bps / 10_000), segment).toBeLessThan(0.005);
    }
    expect(
      users.some((segments) => segments.includes("student") && segments.includes("senior")),
    ).toBe(false);
  });

  it("spreads payments over CN regions by their weights, Guangdong first and Shanghai near 4 %", () => {
    const regions = new Set<string>(TRAFFIC_REGIONS);
    expect(
      violations(
        SAMPLE,
        (payment) => regions.has(payment.region) && payment.region.startsWith("CN-"),
      ),
    ).toEqual([]);
    const share = (region: string) => shareOf(SAMPLE, (payment) => payment.region === region);
    expect(Math.abs(share("CN-GD") - REGION_WEIGHTS_BPS["CN-GD"]! / 10_000)).toBeLessThan(0.01);
    expect(Math.abs(share("CN-SH") - 0.04)).toBeLessThan(0.005);
    expect(share("CN-GD")).toBeGreaterThan(share("CN-JS"));
  });

  it("draws log-normal amounts around each scenario's median, within bounds, in CNY", () => {
    for (const profile of SCENARIO_PROFILES) {
      const amounts = SAMPLE.filter((payment) => payment.scenario === profile.scenario)
        .map((payment) => payment.amountMinor)
        .sort((a, b) => a - b);
      const median = amounts[Math.floor(amounts.length / 2)]!;
      expect(Math.abs(Math.log(median / profile.amountMedianMinor)), profile.scenario).toBeLessThan(
        0.05,
      );
      expect(amounts[0]!).toBeGreaterThanOrEqual(1);
      expect(amounts.at(-1)!).toBeLessThanOrEqual(profile.amountMinorMax);
      // ln(amount) has the documented spread: its 84th percentile is one sigma above the median.
      const upper = amounts[Math.floor(amounts.length * 0.841344746)]!;
      expect(Math.log(upper / median), profile.scenario).toBeCloseTo(profile.amountSigma, 1);
    }
    expect(
      SAMPLE.every(
        (payment) => payment.currency === "CNY" && Number.isSafeInteger(payment.amountMinor),
      ),
    ).toBe(true);
  });

  it("carries a card fingerprint exactly for card payments and never repays a card with credit", () => {
    const rule = (payment: Payment) => {
      const card =
        payment.paymentMethod === "debit_card" || payment.paymentMethod === "credit_card";
      const credit =
        payment.paymentMethod === "credit_card" || payment.paymentMethod === "credit_line";
      return (
        (payment.cardFingerprint !== undefined) === card &&
        !(payment.scenario === "credit_card_repayment" && credit)
      );
    };
    expect(violations(SAMPLE, rule)).toEqual([]);
  });

  it("uses only POS in stores, never for transfers", () => {
    expect(
      shareOf(SAMPLE, (payment) => payment.channel === "pos" && payment.scenario !== "merchant_qr"),
    ).toBe(0);
    const qr = SAMPLE.filter((payment) => payment.scenario === "merchant_qr");
    expect(Math.abs(shareOf(qr, (payment) => payment.channel === "pos") - 0.27)).toBeLessThan(0.01);
  });

  it("keeps the population when only the window changes", () => {
    const byUser = (payments: readonly Payment[]) =>
      new Map(payments.map((payment) => [payment.userId, JSON.stringify(payment.segments ?? [])]));
    const short = byUser(generate({ seed: 9, tps: 2_000, seconds: 10 }));
    const long = byUser(generate({ seed: 9, tps: 1_000, seconds: 60, startMs: 0 }));
    let shared = 0;
    for (const [user, segments] of short) {
      if (!long.has(user)) continue;
      shared += 1;
      expect(long.get(user)).toBe(segments);
    }
    expect(shared).toBeGreaterThan(1_000);
  });

  it("covers every scenario in SCENARIOS order", () => {
    expect(SCENARIO_PROFILES.map((profile) => profile.scenario)).toEqual([...SCENARIOS]);
  });
});
