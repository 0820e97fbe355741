import { fc, test as propertyTest } from "@fast-check/vitest";
import { describe, expect, test } from "vitest";
import type { GuardGrant, GuardPaymentEvent } from "../../src/core/guard/guard-event.ts";
import {
  DEFAULT_GUARD_POLICY,
  GUARD_MONITOR_LIMITS,
  GuardMonitors,
  type GuardTrip,
  type GuardWatch,
  type WatchedCampaign,
  withTrafficShare,
} from "../../src/core/guard/guard-monitors.ts";
import type { Region } from "../../src/core/region.ts";
import type { Scenario } from "../../src/core/scenario.ts";
import { SeededRandom } from "../../src/traffic/seeded-random.ts";

/** 2025-01-16 14:40:00 Beijing time: the replay's start. */
const START_MS = 1_737_009_600_000;

function grant(
  campaignId: string,
  amountMinor: number,
  campaignVersion = 1,
  templateId = "tpl.instant",
): GuardGrant {
  return { campaignId, campaignVersion, templateId, funding: "platform", amountMinor };
}

function payment(
  atMs: number,
  amountMinor: number,
  grants: readonly GuardGrant[] = [],
  where: { scenario?: Scenario; region?: Region; payeeKind?: "merchant" | "individual" } = {},
): GuardPaymentEvent {
  return {
    atMs,
    amountMinor,
    scenario: where.scenario ?? "merchant_qr",
    region: where.region ?? "CN-SH",
    payeeKind: where.payeeKind ?? "merchant",
    grants,
  };
}

function watched(
  campaignId: string,
  extra: Partial<WatchedCampaign> = {},
  campaignVersion = 1,
): WatchedCampaign {
  return {
    campaignId,
    campaignVersion,
    templateId: "tpl.instant",
    scope: { scenarios: ["merchant_qr", "online_checkout"], regions: ["CN-SH", "CN-BJ"] },
    ...extra,
  };
}

/** Records `events`, checks every 100 ms of their clock, and returns the first check's trips. */
function firstTrips(
  monitors: GuardMonitors,
  events: Iterable<GuardPaymentEvent>,
): { atMs: number; trips: GuardTrip[] } | undefined {
  let nextCheckMs: number | undefined;
  for (const event of events) {
    nextCheckMs ??= event.atMs;
    while (event.atMs >= nextCheckMs) {
      const trips = monitors.check(nextCheckMs);
      if (trips.length > 0) return { atMs: nextCheckMs, trips };
      nextCheckMs += 100;
    }
    monitors.record(event);
  }
  if (nextCheckMs === undefined) return undefined;
  const trips = monitors.check(nextCheckMs);
  return trips.length > 0 ? { atMs: nextCheckMs, trips } : undefined;
}

/** `perSecond` payments a second, evenly spaced, each given its grants by `grantsOf`. */
function* steady(
  seconds: number,
  perSecond: number,
  amountMinor: number,
  grantsOf: (index: number) => readonly GuardGrant[],
  startMs = START_MS,
): Generator<GuardPaymentEvent> {
  const total = seconds * perSecond;
  for (let index = 0; index < total; index += 1) {
    yield payment(startMs + Math.floor((index * 1_000) / perSecond), amountMinor, grantsOf(index));
  }
}

describe("spend velocity, per campaign version and per template", () => {
  test("a campaign trips on its declared ceiling within a second; at the ceiling's pace it does not", () => {
    // A ceiling of 600 yuan a minute: 10 yuan a second.
    const watch = { campaigns: [watched("coffee", { ceilingPerMinuteMinor: 60_000 })] };
    // Ten payments a second, one yuan each: exactly the ceiling, for two minutes.
    const calm = steady(120, 10, 3_000, () => [grant("coffee", 100)]);
    expect(firstTrips(new GuardMonitors(watch), calm)).toBeUndefined();
    // Twenty yuan a payment: 20× the ceiling.
    const hot = firstTrips(
      new GuardMonitors(watch),
      steady(5, 10, 10_000, () => [grant("coffee", 2_000)]),
    );
    expect(hot?.atMs).toBeLessThanOrEqual(START_MS + 1_000);
    expect(hot?.trips).toEqual([
      {
        code: "velocity.above_ceiling",
        subject: { kind: "campaign", id: "coffee", campaignVersion: 1 },
        window: "1s",
        observed: expect.any(Number),
        limit: 5_000,
        atMs: hot!.atMs,
        campaignIds: ["coffee"],
        blamedVersions: [{ campaignId: "coffee", campaignVersion: 1 }],
      },
    ]);
  });

  test("a campaign trips on its forecast only beyond the guard's tolerance for the daily peak", () => {
    // Forecast: 60 yuan a minute, one yuan a second.
    const forecast = {
      spendPerMinuteMinor: 6_000,
      subsidisedShareBps: 10_000,
      meanSubsidyMinor: 100,
    };
    const watch = { campaigns: [watched("tea", { forecast })] };
    // A 5× peak held for two minutes (per payment and share as forecast, so only spend moves).
    const peak = steady(120, 5, 1_000, () => [grant("tea", 100)]);
    expect(firstTrips(new GuardMonitors(watch), peak)).toBeUndefined();
    // Above 10× the forecast minute and above the 100-yuan floor: the minute trips.
    const monitors = new GuardMonitors(watch);
    const runaway = firstTrips(
      monitors,
      steady(70, 20, 1_000, () => [grant("tea", 100)]),
    );
    expect(runaway?.trips).toEqual([
      expect.objectContaining({ code: "velocity.above_forecast", window: "60s", limit: 60_000 }),
    ]);
  });

  test("a template edit fanning out trips the template's ceiling, blaming its campaigns by spend", () => {
    const watch: GuardWatch = {
      campaigns: [watched("a"), watched("b"), watched("c", { templateId: "tpl.other" })],
      templates: [{ templateId: "tpl.instant", ceilingPerMinuteMinor: 60_000 }],
    };
    // a and b spend 50 and 60 yuan a second; the template allows 10 a second, 50 in one second.
    const result = firstTrips(
      new GuardMonitors(watch),
      steady(5, 30, 5_000, (index) => [
        grant(index % 3 === 0 ? "a" : "b", index % 3 === 0 ? 500 : 300),
        grant("c", 1_000, 1, "tpl.other"),
      ]),
    );
    expect(result?.trips).toEqual([
      {
        code: "velocity.above_ceiling",
        subject: { kind: "template", id: "tpl.instant" },
        window: "1s",
        observed: expect.any(Number),
        limit: 5_000,
        atMs: result!.atMs,
        campaignIds: ["b", "a"],
        blamedVersions: [
          { campaignId: "b", campaignVersion: 1 },
          { campaignId: "a", campaignVersion: 1 },
        ],
      },
    ]);
  });
});

describe("share of payments subsidised", () => {
  const forecast = {
    spendPerMinuteMinor: 600_000,
    subsidisedShareBps: 1_000,
    meanSubsidyMinor: 50,
  };
  const watch = { campaigns: [watched("breakfast", { forecast })] };

  test("trips when a campaign subsidises far more payments than its forecast share", () => {
    // Forecast 10 %; it subsidises every second payment (50 %).
    const result = firstTrips(
      new GuardMonitors(watch),
      steady(10, 1_000, 2_000, (index) => (index % 2 === 0 ? [grant("breakfast", 50)] : [])),
    );
    expect(result?.atMs).toBeLessThan(START_MS + 1_000);
    expect(result?.trips).toEqual([
      expect.objectContaining({
        code: "share.above_forecast",
        window: "1s",
        observed: 5_000,
        limit: 2_000,
      }),
    ]);
  });

  test("does not trip at twice the forecast share, or on fewer subsidised payments than the minimum", () => {
    const atTwice = steady(90, 1_000, 2_000, (index) =>
      index % 5 === 0 ? [grant("breakfast", 50)] : [],
    );
    expect(firstTrips(new GuardMonitors(watch), atTwice)).toBeUndefined();
    // Every payment subsidised, but only 40 of them in a minute: too few to judge a share.
    const few = steady(60, 1, 2_000, (index) => (index < 40 ? [grant("breakfast", 50)] : []));
    expect(firstTrips(new GuardMonitors(watch), few)).toBeUndefined();
  });
});

describe("an external campaign's share against its own baseline share (guard mode)", () => {
  // 10 % of all payments over its baseline window; no forecast (nobody approved one).
  const watch = {
    campaigns: [watched("ext:partner", { previous: { subsidisedShareBps: 1_000 } })],
  };

  test("trips beyond four times its baseline share, not at three times", () => {
    const atThrice = steady(90, 1_000, 2_000, (index) =>
      index % 10 < 3 ? [grant("ext:partner", 50)] : [],
    );
    expect(firstTrips(new GuardMonitors(watch), atThrice)).toBeUndefined();
    // Its reach widened to every second payment: 50 % against a limit of 40 %.
    const widened = firstTrips(
      new GuardMonitors(watch),
      steady(10, 1_000, 2_000, (index) => (index % 2 === 0 ? [grant("ext:partner", 50)] : [])),
    );
    expect(widened?.trips).toEqual([
      expect.objectContaining({
        code: "share.above_previous",
        subject: { kind: "campaign", id: "ext:partner", campaignVersion: 1 },
        window: "1s",
        observed: 5_000,
        limit: 4_000,
      }),
    ]);
  });
});

describe("an external engine's spend per funder (guard mode)", () => {
  const external = (campaignId: string, amountMinor: number, funding: GuardGrant["funding"]) => ({
    ...grant(campaignId, amountMinor, 1, "ext:*"),
    funding,
  });
  const watch: GuardWatch = {
    campaigns: [
      watched("ext:cashback", { templateId: "ext:*" }),
      watched("ext:flash", { templateId: "ext:*" }),
      watched("native", {}),
    ],
    // Platform money: 600 yuan a minute expected; government money: none.
    externalFunders: [
      { funding: "platform", baselinePerMinuteMinor: 60_000, declaredPerMinuteMinor: 0 },
      { funding: "government", baselinePerMinuteMinor: 0, declaredPerMinuteMinor: 0 },
    ],
  };

  test("a funder the engine never paid with trips on the floor, blaming only who granted its money", () => {
    // Ten payments a second: flash pays 5 yuan of platform money on each (as expected), the
    // cashback campaign turns to government money, 20 yuan a payment; a native campaign spends
    // more than either, of the government's money too, and is not the engine's.
    const result = firstTrips(
      new GuardMonitors(watch),
      steady(5, 10, 10_000, (index) => [
        external("ext:flash", 500, "platform"),
        ...(index >= 10 ? [external("ext:cashback", 2_000, "government")] : []),
        { ...grant("native", 5_000), funding: "government" as const },
      ]),
    );
    expect(result?.trips).toEqual([
      {
        code: "velocity.above_forecast",
        subject: { kind: "funder", id: "government" },
        window: "1s",
        observed: expect.any(Number),
        limit: 10_000,
        atMs: result!.atMs,
        campaignIds: ["ext:cashback"],
        blamedVersions: [{ campaignId: "ext:cashback", campaignVersion: 1 }],
      },
    ]);
    expect(result!.trips[0]!.observed).toBeGreaterThan(10_000);
  });

  test("spend within ten times its expected minute trips nothing; native grants never count", () => {
    // Platform money at 3× its expected pace for two minutes; native government grants beside.
    const calm = steady(120, 10, 10_000, () => [
      external("ext:flash", 300, "platform"),
      { ...grant("native", 5_000), funding: "government" as const },
    ]);
    expect(firstTrips(new GuardMonitors(watch), calm)).toBeUndefined();
  });

  test("a rebuilt watch carries each funder's windows", () => {
    const first = new GuardMonitors(watch);
    for (const event of steady(1, 10, 10_000, () => [
      external("ext:cashback", 600, "government"),
    ])) {
      first.record(event);
    }
    // 60 yuan of government money in the second so far; the next 50 yuan cross the 100-yuan floor.
    expect(first.check(START_MS + 999)).toEqual([]);
    const rebuilt = first.withWatch(watch);
    rebuilt.record(
      payment(START_MS + 999, 10_000, [external("ext:cashback", 5_000, "government")]),
    );
    expect(rebuilt.check(START_MS + 999).map((trip) => trip.subject)).toEqual([
      { kind: "funder", id: "government" },
    ]);
  });
});

describe("scenario, region and payee mix against the declared scope", () => {
  const watch = { campaigns: [watched("coffee")] };

  test.each<[string, Parameters<typeof payment>[3], object]>([
    [
      "a scenario the scope does not declare",
      { scenario: "utility_bill" },
      { scenario: "utility_bill" },
    ],
    ["a region it does not declare", { region: "CN-GD" }, { region: "CN-GD" }],
    ["a payment to an individual", { payeeKind: "individual" }, { payeeKind: "individual" }],
    [
      "a transfer to an individual in another province",
      { scenario: "p2p_transfer", region: "CN-GD", payeeKind: "individual" },
      { scenario: "p2p_transfer", region: "CN-GD", payeeKind: "individual" },
    ],
  ])("one grant on %s trips at once", (_name, where, outside) => {
    const monitors = new GuardMonitors(watch);
    monitors.record(payment(START_MS, 5_000, [grant("coffee", 50)]));
    monitors.record(payment(START_MS + 10, 5_000, [grant("coffee", 50)], where));
    expect(monitors.check(START_MS + 20)).toEqual([
      {
        code: "mix.outside_scope",
        subject: { kind: "campaign", id: "coffee", campaignVersion: 1 },
        window: "1s",
        observed: 1,
        limit: 0,
        atMs: START_MS + 20,
        campaignIds: ["coffee"],
        blamedVersions: [{ campaignId: "coffee", campaignVersion: 1 }],
        outside,
      },
    ]);
    // Reported while it is in a window, forgotten once the minute has passed.
    expect(monitors.check(START_MS + 30_000)).toEqual([
      expect.objectContaining({ code: "mix.outside_scope", window: "60s" }),
    ]);
    expect(monitors.check(START_MS + 61_000)).toEqual([]);
  });

  test("grants inside the scope, individuals declared, and payments nobody subsidised never trip", () => {
    const declared = watched("gift", {
      scope: { scenarios: ["red_packet"], regions: ["CN-BJ"], payeeKinds: ["individual"] },
    });
    const monitors = new GuardMonitors({ campaigns: [watched("coffee"), declared] });
    monitors.record(
      payment(START_MS, 5_000, [grant("coffee", 50)], { scenario: "online_checkout" }),
    );
    monitors.record(payment(START_MS, 5_000, [grant("coffee", 50)], { region: "CN-BJ" }));
    monitors.record(
      payment(START_MS, 5_000, [grant("gift", 50)], {
        scenario: "red_packet",
        region: "CN-BJ",
        payeeKind: "individual",
      }),
    );
    monitors.record(
      payment(START_MS, 5_000, [], { scenario: "p2p_transfer", payeeKind: "individual" }),
    );
    expect(monitors.check(START_MS + 100)).toEqual([]);
  });
});

describe("subsidy per payment against the forecast or the previous version", () => {
  test("a mean ten times the previous version's trips on eight payments, not on seven", () => {
    const watch = { campaigns: [watched("coffee", { previous: { meanSubsidyMinor: 50 } }, 2)] };
    const monitors = new GuardMonitors(watch);
    // The 2025-01-16 shape: 0.50 yuan off became 20 % of a 150-yuan payment, 30 yuan (60×).
    for (let index = 0; index < 7; index += 1) {
      monitors.record(payment(START_MS + index * 10, 15_000, [grant("coffee", 3_000, 2)]));
    }
    expect(monitors.check(START_MS + 100)).toEqual([]);
    monitors.record(payment(START_MS + 110, 15_000, [grant("coffee", 3_000, 2)]));
    expect(monitors.check(START_MS + 120)).toEqual([
      expect.objectContaining({
        code: "per_payment.above_previous",
        window: "1s",
        observed: 3_000,
        // Ten times the baseline: limitAbove(50, 90,000 bps, 100).
        limit: 500,
      }),
    ]);
  });

  test("one big payment does not trip; a mean above the previous version's beyond tolerance does", () => {
    const watch = { campaigns: [watched("coffee", { previous: { meanSubsidyMinor: 50 } }, 2)] };
    const monitors = new GuardMonitors(watch);
    // 28 payments at 0.50 yuan and one at 30 yuan: a mean of 1.51 yuan (3×), on too few
    // payments for the ordinary rule and far below the strong rule's ten times.
    for (let index = 0; index < 29; index += 1) {
      const amountMinor = index === 15 ? 3_000 : 50;
      monitors.record(payment(START_MS + index * 10, 150_000, [grant("coffee", amountMinor, 2)]));
    }
    expect(monitors.check(START_MS + 300)).toEqual([]);
    // With the 30th, one payment 60× the previous mean is still diluted below 3×: 1.48 yuan.
    const diluted = new GuardMonitors(watch);
    for (let index = 0; index < 30; index += 1) {
      const amountMinor = index === 15 ? 3_000 : 50;
      diluted.record(payment(START_MS + index * 10, 15_000, [grant("coffee", amountMinor, 2)]));
    }
    expect(diluted.check(START_MS + 300)).toEqual([]);
    // Thirty at 1.50 yuan: three times the previous mean, exactly at the limit.
    const atLimit = new GuardMonitors(watch);
    for (let index = 0; index < 30; index += 1) {
      atLimit.record(payment(START_MS + index * 10, 5_000, [grant("coffee", 150, 2)]));
    }
    expect(atLimit.check(START_MS + 300)).toEqual([]);
    atLimit.record(payment(START_MS + 301, 5_000, [grant("coffee", 200, 2)]));
    expect(atLimit.check(START_MS + 310)).toEqual([
      expect.objectContaining({
        code: "per_payment.above_previous",
        subject: { kind: "campaign", id: "coffee", campaignVersion: 2 },
        window: "1s",
        observed: 151,
        limit: 150,
      }),
    ]);
  });

  test("with a forecast, the forecast's mean is the baseline and the previous version is not", () => {
    // An approved raise from 0.50 to 8 yuan: judged against its forecast of 8 yuan, not 0.50.
    const forecast = {
      spendPerMinuteMinor: 48_000_000,
      subsidisedShareBps: 10_000,
      meanSubsidyMinor: 800,
    };
    const raise = watched("festival", { forecast, previous: { meanSubsidyMinor: 50 } }, 2);
    const fine = steady(5, 100, 10_000, () => [grant("festival", 800, 2)]);
    expect(firstTrips(new GuardMonitors({ campaigns: [raise] }), fine)).toBeUndefined();
    const tooMuch = steady(5, 100, 10_000, () => [grant("festival", 2_500, 2)]);
    expect(firstTrips(new GuardMonitors({ campaigns: [raise] }), tooMuch)?.trips).toEqual([
      expect.objectContaining({ code: "per_payment.above_forecast", limit: 2_400 }),
    ]);
  });

  test("a floor keeps a tiny baseline from tripping on small absolute differences", () => {
    const watch = { campaigns: [watched("penny", { previous: { meanSubsidyMinor: 1 } })] };
    const small = steady(5, 100, 1_000, () => [grant("penny", 50)]);
    expect(firstTrips(new GuardMonitors(watch), small)).toBeUndefined();
  });
});

describe("platform subsidy over payment volume", () => {
  const watch = { campaigns: [watched("coffee")], platform: { baselineSubsidyOverVolumeBps: 100 } };

  test("trips above twice the baseline, once the window holds enough payments", () => {
    // 2 yuan off 100-yuan payments: 200 bps against a limit of max(200, 150).
    const atLimit = steady(70, 200, 10_000, () => [grant("coffee", 200)]);
    expect(firstTrips(new GuardMonitors(watch), atLimit)).toBeUndefined();
    const result = firstTrips(
      new GuardMonitors(watch),
      steady(70, 200, 10_000, () => [grant("coffee", 500)]),
    );
    // 200 payments a second: the 1 s window never holds 1,000, the 10 s one does after 5 s.
    expect(result?.trips).toEqual([
      {
        code: "platform.above_baseline",
        subject: { kind: "platform", id: "platform" },
        window: "10s",
        observed: 500,
        limit: 200,
        atMs: result!.atMs,
        campaignIds: ["coffee"],
        blamedVersions: [{ campaignId: "coffee", campaignVersion: 1 }],
      },
    ]);
    expect(result!.atMs - START_MS).toBeLessThanOrEqual(6_000);
  });

  test("counts grants of versions the watch does not list, and says how many there were", () => {
    const monitors = new GuardMonitors(watch);
    for (const event of steady(2, 1_000, 10_000, () => [grant("unknown", 5_000, 7)])) {
      monitors.record(event);
    }
    expect(monitors.unwatchedGrants).toBe(2_000);
    expect(monitors.check(START_MS + 1_999)).toEqual([
      expect.objectContaining({ code: "platform.above_baseline", window: "1s", campaignIds: [] }),
    ]);
  });
});

/**
 * Seeded traffic for the scenario tests: Poisson arrivals at `perSecond` (times a rate curve),
 * log-normal payment amounts (median 90 yuan, sigma 1: a mean near 150 yuan).
 */
function* poissonTraffic(options: {
  seed: number;
  seconds: number;
  perSecond: number;
  rateAt?: (elapsedMs: number) => number;
  grantsOf: (random: SeededRandom, amountMinor: number, atMs: number) => readonly GuardGrant[];
  scenarioOf?: (random: SeededRandom) => Scenario;
}): Generator<GuardPaymentEvent> {
  const random = new SeededRandom(options.seed);
  const endMs = options.seconds * 1_000;
  let elapsedMs = 0;
  for (;;) {
    const rate = options.perSecond * (options.rateAt?.(elapsedMs) ?? 1);
    elapsedMs += (-Math.log(random.nextFloatOpenZero()) * 1_000) / rate;
    if (elapsedMs >= endMs) return;
    const atMs = START_MS + Math.floor(elapsedMs);
    const amountMinor = Math.max(1, Math.round(9_000 * Math.exp(normal(random))));
    const scenario = options.scenarioOf?.(random) ?? "merchant_qr";
    const grants = options.grantsOf(random, amountMinor, atMs);
    yield { ...payment(atMs, amountMinor, grants), scenario };
  }
}

function normal(random: SeededRandom): number {
  // Box–Muller: two uniforms, one standard normal.
  return (
    Math.sqrt(-2 * Math.log(random.nextFloatOpenZero())) *
    Math.cos(2 * Math.PI * random.nextFloat())
  );
}

describe("the 2025-01-16 runaway, forced past approval", () => {
  // Version 1: 0.50 yuan off a fifth of ordinary merchant payments. Version 2 (the edit, forced
  // past lint and approval: no forecast): 20 % of every payment, about 60× as much per payment.
  const stable = watched("instant", {
    ceilingPerMinuteMinor: 12_000_000,
    forecast: { spendPerMinuteMinor: 6_000_000, subsidisedShareBps: 2_000, meanSubsidyMinor: 50 },
  });
  const forced = watched("instant", { previous: { meanSubsidyMinor: 50 } }, 2);
  const watch: GuardWatch = {
    campaigns: [stable, forced],
    templates: [{ templateId: "tpl.instant", forecastPerMinuteMinor: 6_000_000 }],
    // The platform's usual rate: 0.50 yuan on a fifth of ~150-yuan payments is about 0.7 bps.
    platform: { baselineSubsidyOverVolumeBps: 1 },
  };
  const editAtMs = START_MS + 5_000;

  function run(rolloutShare: number, seed: number) {
    const monitors = new GuardMonitors(watch);
    let firstBadMs: number | undefined;
    const traffic = poissonTraffic({
      seed,
      seconds: 10,
      perSecond: 10_000,
      grantsOf: (random, amountMinor, atMs) => {
        const rolledOut = atMs >= editAtMs && random.nextFloat() < rolloutShare;
        if (rolledOut) {
          firstBadMs ??= atMs;
          return [grant("instant", Math.floor(amountMinor / 5), 2)];
        }
        return random.nextFloat() < 0.2 ? [grant("instant", 50, 1)] : [];
      },
    });
    const result = firstTrips(monitors, traffic);
    return { result, firstBadMs };
  }

  test.each([1, 2, 3])(
    "at 1 %% of 10,000 payments a second, the forced version trips within a second (seed %i)",
    (seed) => {
      const { result, firstBadMs } = run(0.01, seed);
      expect(result).toBeDefined();
      expect(result!.atMs - firstBadMs!).toBeLessThanOrEqual(1_000);
      expect(result!.trips).toContainEqual(
        expect.objectContaining({
          code: "per_payment.above_previous",
          subject: { kind: "campaign", id: "instant", campaignVersion: 2 },
        }),
      );
      // The stable version is never blamed by a trip of its own.
      for (const trip of result!.trips.filter((each) => each.subject.kind === "campaign")) {
        expect(trip.subject.campaignVersion).toBe(2);
      }
    },
  );

  test("rolled out to everyone, the platform rate trips too within a second", () => {
    const { result, firstBadMs } = run(1, 4);
    expect(result!.atMs - firstBadMs!).toBeLessThanOrEqual(1_000);
    expect(result!.trips).toContainEqual(
      expect.objectContaining({
        code: "platform.above_baseline",
        window: "1s",
        blamedVersions: [
          { campaignId: "instant", campaignVersion: 2 },
          { campaignId: "instant", campaignVersion: 1 },
        ],
      }),
    );
  });

  test("a change forced past approval with no previous version is judged by ceiling, scope and platform only", () => {
    const bare = watched("new", { ceilingPerMinuteMinor: 1_000_000 });
    const monitors = new GuardMonitors({ campaigns: [bare] });
    // 300 yuan a payment on 100 payments a second: 30,000 yuan a second, no per-payment baseline.
    const result = firstTrips(
      monitors,
      steady(2, 100, 150_000, () => [grant("new", 30_000)]),
    );
    expect(result?.trips.map((trip) => trip.code)).toEqual(["velocity.above_ceiling"]);
  });
});

describe("ordinary lumpy traffic trips nothing", () => {
  test("Poisson arrivals, log-normal amounts, a ramp to 5× the mean and a festival launch whose forecast matches", () => {
    const perSecond = 2_000;
    // The day's mean rate is `perSecond`; this ramp climbs from a fifth of it to five times it.
    const rateAt = (elapsedMs: number) => 0.2 + (4.8 * elapsedMs) / 180_000;
    const campaigns: WatchedCampaign[] = [
      // 0.50 yuan on a fifth of payments.
      watched("routine", {
        ceilingPerMinuteMinor: 60 * perSecond * 0.2 * 50 * 8,
        forecast: {
          spendPerMinuteMinor: 60 * perSecond * 0.2 * 50,
          subsidisedShareBps: 2_000,
          meanSubsidyMinor: 50,
        },
      }),
      // The festival launch: 10 % off capped at 20 yuan, on online checkout (a quarter of payments).
      watched(
        "festival",
        {
          templateId: "tpl.percent",
          forecast: {
            spendPerMinuteMinor: 60 * perSecond * 0.25 * 1_050,
            subsidisedShareBps: 2_500,
            meanSubsidyMinor: 1_050,
          },
          previous: { meanSubsidyMinor: 50 },
        },
        3,
      ),
      // A rare one: 30 yuan off one payment in a thousand, from a bank.
      watched("rare", {
        templateId: "tpl.bank",
        forecast: {
          spendPerMinuteMinor: 60 * 2 * 3_000,
          subsidisedShareBps: 10,
          meanSubsidyMinor: 3_000,
        },
      }),
    ];
    const monitors = new GuardMonitors({
      campaigns,
      templates: [
        { templateId: "tpl.instant", forecastPerMinuteMinor: 60 * perSecond * 0.2 * 50 },
        { templateId: "tpl.percent", forecastPerMinuteMinor: 60 * perSecond * 0.25 * 1_050 },
      ],
      // About 0.7 bps from routine, 176 from the festival (its mean subsidy is about 10.48 yuan on
      // payments of about 148 yuan), 0.2 from the rare one.
      platform: { baselineSubsidyOverVolumeBps: 177 },
    });
    const traffic = poissonTraffic({
      seed: 20250116,
      seconds: 180,
      perSecond,
      rateAt,
      scenarioOf: (random) => (random.nextFloat() < 0.25 ? "online_checkout" : "merchant_qr"),
      grantsOf: () => [],
    });
    let count = 0;
    const random = new SeededRandom(7);
    const events = (function* () {
      for (const event of traffic) {
        count += 1;
        const grants: GuardGrant[] = [];
        if (event.scenario === "online_checkout") {
          grants.push(
            grant(
              "festival",
              Math.min(2_000, Math.floor(event.amountMinor / 10)),
              3,
              "tpl.percent",
            ),
          );
        } else if (random.nextFloat() < 0.2 / 0.75) {
          grants.push(grant("routine", 50));
        }
        if (random.nextFloat() < 0.001) grants.push(grant("rare", 3_000, 1, "tpl.bank"));
        yield { ...event, grants };
      }
    })();
    expect(firstTrips(monitors, events)).toBeUndefined();
    expect(count).toBeGreaterThan(180 * perSecond * 2);
  });
});

describe("steady traffic within the declared forecast", () => {
  const campaign = fc.record({
    shareBps: fc.integer({ min: 1, max: 3_000 }),
    meanSubsidyMinor: fc.integer({ min: 1, max: 5_000 }),
    ceilinged: fc.boolean(),
  });

  propertyTest.prop(
    [
      fc.array(campaign, { minLength: 1, maxLength: 4 }),
      fc.integer({ min: 5, max: 400 }),
      fc.integer({ min: 5_000, max: 200_000 }),
      fc.integer({ min: 0, max: 1_000_000 }),
    ],
    { numRuns: 40 },
  )("never trips", (specs, perSecond, paymentMinor, seed) => {
    const random = new SeededRandom(seed);
    const perMinute = perSecond * 60;
    const campaigns = specs.map((spec, index) => {
      // Forecast spend: payments a minute × share × mean subsidy, rounded up.
      const spendPerMinuteMinor = Math.ceil(
        (perMinute * spec.shareBps * spec.meanSubsidyMinor) / 10_000,
      );
      return watched(`c${index}`, {
        // A declared ceiling at twice the forecast, never below a 100-yuan minute.
        ...(spec.ceilinged
          ? { ceilingPerMinuteMinor: Math.max(10_000 * 60, 2 * spendPerMinuteMinor) }
          : {}),
        forecast: {
          spendPerMinuteMinor,
          subsidisedShareBps: spec.shareBps,
          meanSubsidyMinor: spec.meanSubsidyMinor,
        },
        previous: { meanSubsidyMinor: 1 },
      });
    });
    const platformBps = specs.reduce(
      (sum, spec) => sum + (spec.shareBps * spec.meanSubsidyMinor) / paymentMinor,
      0,
    );
    const monitors = new GuardMonitors({
      campaigns,
      platform: { baselineSubsidyOverVolumeBps: Math.ceil(platformBps) },
    });
    // Evenly spaced payments; each campaign grants on its share of them, evenly spread, an
    // amount drawn in [0, 2 × mean) (so its mean is the forecast's, give or take the draw).
    const events = steady(90, perSecond, paymentMinor, (index) =>
      specs.flatMap((spec, campaignIndex) => {
        const due =
          Math.floor(((index + 1 + campaignIndex * 7) * spec.shareBps) / 10_000) >
          Math.floor(((index + campaignIndex * 7) * spec.shareBps) / 10_000);
        if (!due) return [];
        const amountMinor = Math.floor(random.nextFloat() * 2 * spec.meanSubsidyMinor);
        return [grant(`c${campaignIndex}`, amountMinor)];
      }),
    );
    expect(firstTrips(monitors, events)).toBeUndefined();
  });
});

describe("a rebuilt watch", () => {
  test("carries what was observed for versions both watches list; a new version starts empty", () => {
    const first = new GuardMonitors({
      campaigns: [watched("coffee", { ceilingPerMinuteMinor: 60_000 })],
    });
    // 40 yuan in the last second: below the 1 s allowance of 50 yuan.
    for (let index = 0; index < 4; index += 1) {
      first.record(payment(START_MS + index * 100, 5_000, [grant("coffee", 1_000)]));
    }
    expect(first.check(START_MS + 400)).toEqual([]);
    const second = first.withWatch({
      campaigns: [watched("coffee", { ceilingPerMinuteMinor: 60_000 }), watched("coffee", {}, 2)],
    });
    second.record(payment(START_MS + 500, 5_000, [grant("coffee", 1_100)]));
    expect(second.check(START_MS + 500)).toEqual([
      expect.objectContaining({ code: "velocity.above_ceiling", observed: 5_100 }),
    ]);
    const fresh = new GuardMonitors({
      campaigns: [watched("coffee", { ceilingPerMinuteMinor: 60_000 })],
    });
    fresh.record(payment(START_MS + 500, 5_000, [grant("coffee", 1_100)]));
    expect(fresh.check(START_MS + 500)).toEqual([]);
  });
});

describe("a declared share of the traffic", () => {
  // Every kind of money-per-minute figure the watch gives, 1,200 yuan a minute each.
  const watch: GuardWatch = {
    campaigns: [
      watched("declared", { ceilingPerMinuteMinor: 120_000, templateId: "tpl.declared" }),
      watched("forecast", {
        forecast: { spendPerMinuteMinor: 120_000, subsidisedShareBps: 10_000, meanSubsidyMinor: 1 },
        templateId: "tpl.learned",
      }),
      watched("ext:flash", { templateId: "ext:*" }),
    ],
    templates: [
      { templateId: "tpl.declared", ceilingPerMinuteMinor: 120_000 },
      { templateId: "tpl.learned", forecastPerMinuteMinor: 120_000 },
    ],
    externalFunders: [
      { funding: "platform", baselinePerMinuteMinor: 60_000, declaredPerMinuteMinor: 60_000 },
    ],
  };

  /** One payment granting far more than any limit under each: each subject's 1 s limit. */
  function limitsAt(trafficShareBps: number): Record<string, number> {
    const monitors = new GuardMonitors(
      watch,
      withTrafficShare(DEFAULT_GUARD_POLICY, trafficShareBps),
    );
    monitors.record(
      payment(START_MS, 100_000_000, [
        grant("declared", 10_000_000, 1, "tpl.declared"),
        grant("forecast", 10_000_000, 1, "tpl.learned"),
        grant("ext:flash", 10_000_000, 1, "ext:*"),
      ]),
    );
    const limits: Record<string, number> = {};
    for (const trip of monitors.check(START_MS)) {
      if (!trip.code.startsWith("velocity.") || trip.window !== "1s") continue;
      limits[`${trip.subject.kind}:${trip.subject.id}`] = trip.limit;
    }
    return limits;
  }

  test("scales declared ceilings and the fleet's part of a funder's expectation, not what the process made itself", () => {
    // 1 s: a ceiling allows 5/60 of its minute; a forecast (10×, the guard's tolerance) 50/60.
    expect(limitsAt(10_000)).toEqual({
      "campaign:declared": 10_000,
      "campaign:forecast": 100_000,
      "template:tpl.declared": 10_000,
      "template:tpl.learned": 100_000,
      "funder:platform": 100_000,
    });
    // A quarter of the traffic: a quarter of each ceiling, and of the funder's declared 60,000
    // (its own 60,000 stays): (60,000 + 15,000) × 50/60 = 62,500.
    expect(limitsAt(2_500)).toEqual({
      "campaign:declared": 2_500,
      "campaign:forecast": 100_000,
      "template:tpl.declared": 2_500,
      "template:tpl.learned": 100_000,
      "funder:platform": 62_500,
    });
  });

  test("a share outside 1..10,000 bps, or not whole, is refused with RangeError at construction", () => {
    for (const trafficShareBps of [0, 10_001, 0.5, -5_000]) {
      expect(
        () => new GuardMonitors(watch, withTrafficShare(DEFAULT_GUARD_POLICY, trafficShareBps)),
        String(trafficShareBps),
      ).toThrow(RangeError);
    }
    expect(() => new GuardMonitors(watch, withTrafficShare(DEFAULT_GUARD_POLICY, 1))).not.toThrow();
  });
});

describe("limits and malformed watches", () => {
  test("refuses what it cannot hold or mean, with RangeError", () => {
    const many = Array.from({ length: GUARD_MONITOR_LIMITS.campaignsMax + 1 }, (_, index) =>
      watched(`c${index}`),
    );
    expect(() => new GuardMonitors({ campaigns: many })).toThrow(RangeError);
    expect(() => new GuardMonitors({ campaigns: [watched("a"), watched("a")] })).toThrow(
      RangeError,
    );
    expect(
      () => new GuardMonitors({ campaigns: [watched("a", { ceilingPerMinuteMinor: -1 })] }),
    ).toThrow(RangeError);
    expect(
      () =>
        new GuardMonitors({ campaigns: [watched("a", { previous: { meanSubsidyMinor: 0.5 } })] }),
    ).toThrow(RangeError);
    expect(
      () =>
        new GuardMonitors({
          campaigns: [],
          templates: [{ templateId: "t" }, { templateId: "t" }],
        }),
    ).toThrow(RangeError);
    expect(
      () => new GuardMonitors({ campaigns: [] }, { ...DEFAULT_GUARD_POLICY, shareFloorBps: -1 }),
    ).toThrow(RangeError);
    const funder = {
      funding: "government" as const,
      baselinePerMinuteMinor: 0,
      declaredPerMinuteMinor: 0,
    };
    expect(() => new GuardMonitors({ campaigns: [], externalFunders: [funder, funder] })).toThrow(
      RangeError,
    );
    expect(
      () =>
        new GuardMonitors({
          campaigns: [],
          externalFunders: [
            { funding: "platform", baselinePerMinuteMinor: 0, declaredPerMinuteMinor: -1 },
          ],
        }),
    ).toThrow(RangeError);
    expect(
      () => new GuardMonitors({ campaigns: [] }, { ...DEFAULT_GUARD_POLICY, blameCampaignsMax: 0 }),
    ).toThrow(RangeError);
  });
});
