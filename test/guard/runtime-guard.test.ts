/**
 * The runtime guard (src/guard/runtime-guard.ts) over the examples' campaigns: baselines for a
 * change forced past approval (no forecast: judged against the stable version's mean subsidy),
 * an approved forecast instead, one breaker per subject (a trip comes back once; acknowledge and
 * reset re-arm it), the platform's subsidy over volume against its baseline, the baseline key
 * limit, and a fleet of processes each declaring its share of the traffic.
 *
 * Decisions are built by hand (as test/guard/guard-monitors.test.ts builds events): the guard
 * reads decisions, and hand-built ones say exactly how much each version granted.
 */
import { beforeAll, describe, expect, test } from "vitest";
import type { RolloutForecast } from "../../src/core/change/rollout.ts";
import type { Decision } from "../../src/core/evaluator/decision.ts";
import { buildSnapshot, type SnapshotCampaign } from "../../src/core/evaluator/snapshot.ts";
import {
  DEFAULT_GUARD_POLICY,
  type GuardTrip,
  withTrafficShare,
} from "../../src/core/guard/guard-monitors.ts";
import type { Campaign } from "../../src/core/model/campaign.ts";
import type { ConfigDocument } from "../../src/core/model/document.ts";
import type { Payment } from "../../src/core/model/payment.ts";
import { INCIDENT_TEMPLATE_ID, incidentEdits, withEdits } from "../../src/demo/incident-change.ts";
import {
  RUNTIME_GUARD_DEFAULTS,
  RUNTIME_GUARD_LIMITS,
  RuntimeGuard,
} from "../../src/guard/runtime-guard.ts";
import { exampleDocuments, replaced, resolve } from "../change/change-fixtures.ts";
import { campaignOf, FLASH_EXTERNAL_CAMPAIGN, START_MS } from "./guard-test-fixtures.ts";

const COFFEE = "idc-coffee-afternoon-tea";
const CONVENIENCE = "idc-sh-convenience-qr";
/** The template's fixed 0.50 yuan, and 20 % of a 150-yuan payment: 60× it. */
const STABLE_GRANT_MINOR = 50;
const RUNAWAY_GRANT_MINOR = 3_000;
const PAYMENT_MINOR = 15_000;

/** Every snapshot campaign the examples serve, before and after the 20 % template edit. */
let stable: readonly SnapshotCampaign[];
let rolled: readonly SnapshotCampaign[];

beforeAll(async () => {
  // The two campaigns watched here lose their declared spend-per-minute ceilings: a single
  // 30-yuan grant breaks a 20-yuan-a-minute ceiling at once, and the ceiling's trip would take
  // the version's one breaker before the per-payment monitor this file is about could.
  let documents: ConfigDocument[] = await exampleDocuments();
  for (const id of [COFFEE, CONVENIENCE]) {
    const campaign = documents.find((document) => document.id === id) as Campaign;
    const { spendPerMinuteMaxMinor: _ceiling, ...limits } = campaign.limits;
    documents = replaced(documents, { ...campaign, limits });
  }
  stable = snapshotOf(documents, new Map()).campaigns;
  // The 2025-01-16 edit (the variant inside the envelope): the template becomes 20 % off, and
  // it makes a new effective version of every campaign using it.
  const edited = withEdits(documents, incidentEdits(documents, "variant"));
  const versions = new Map(
    stable
      .filter((effective) => effective.template.id === INCIDENT_TEMPLATE_ID)
      .map((effective) => [effective.campaign.id, 2]),
  );
  rolled = snapshotOf(edited, versions).campaigns.filter(
    (effective) => effective.template.id === INCIDENT_TEMPLATE_ID,
  );
});

function snapshotOf(documents: readonly ConfigDocument[], campaignVersions: Map<string, number>) {
  const built = buildSnapshot(resolve(documents), { version: 1, randomSeed: 1, campaignVersions });
  if (!built.ok) throw new Error(built.message);
  return built.snapshot;
}

function stableOf(campaignId: string): SnapshotCampaign {
  return campaignOf({ campaigns: stable }, campaignId);
}

function rolledOf(campaignId: string): SnapshotCampaign {
  return campaignOf({ campaigns: rolled }, campaignId);
}

/** A 150-yuan QR payment to a Shanghai merchant: inside both campaigns' declared scope. */
function paymentAt(atMs: number, index: number, amountMinor = PAYMENT_MINOR): Payment {
  return {
    paymentId: `pay-${atMs}-${index}`,
    userId: `user-${index % 997}`,
    amountMinor,
    currency: "CNY",
    scenario: "merchant_qr",
    payeeKind: "merchant",
    merchantId: "M2088101",
    merchantCategory: "5814",
    region: "CN-SH",
    channel: "app",
    paymentMethod: "balance",
    atMs,
  };
}

function decisionOf(
  payment: Payment,
  grants: readonly { effective: SnapshotCampaign; amountMinor: number }[],
): Decision {
  const subsidies = grants.map(({ effective, amountMinor }) => ({
    campaignId: effective.campaign.id,
    campaignVersion: effective.version,
    templateId: effective.template.id,
    amountMinor,
    offerMinor: amountMinor,
    funding: effective.funding.source,
    label: effective.label,
  }));
  const total = subsidies.reduce((sum, subsidy) => sum + subsidy.amountMinor, 0);
  return {
    paymentId: payment.paymentId,
    snapshotVersion: 1,
    reason: total > 0 ? null : "payment.no_campaign_applies",
    subsidies,
    totalSubsidyMinor: total,
    rejected: [],
    excludedByIndex: 0,
    subjectToBudget: total > 0,
  } as Decision;
}

type Grants = readonly { effective: SnapshotCampaign; amountMinor: number }[];

interface Play {
  fromMs: number;
  seconds: number;
  perSecond: number;
  grantsOf: (index: number) => Grants;
}

/**
 * `perSecond` payments a second from `fromMs` for `seconds`, each granted `grantsOf(index)`;
 * the guard checked every 100 ms as a server would. Returns every trip with its check time.
 */
function play(guard: RuntimeGuard, options: Play): GuardTrip[] {
  return playBalanced([guard], options)[0]!;
}

/**
 * As `play`, for processes behind an even balancer: payment `index` goes to process
 * `index % guards.length`, and every process is checked every 100 ms. Each process's trips.
 */
function playBalanced(guards: readonly RuntimeGuard[], options: Play): GuardTrip[][] {
  const trips: GuardTrip[][] = guards.map(() => []);
  const checkAll = (nowMs: number) => {
    for (const [at, guard] of guards.entries()) trips[at]!.push(...guard.check(nowMs));
  };
  const total = options.seconds * options.perSecond;
  let nextCheckMs = options.fromMs + 100;
  for (let index = 0; index < total; index += 1) {
    const atMs = options.fromMs + Math.floor((index * 1_000) / options.perSecond);
    while (atMs >= nextCheckMs) {
      checkAll(nextCheckMs);
      nextCheckMs += 100;
    }
    const payment = paymentAt(atMs, index);
    guards[index % guards.length]!.record(payment, decisionOf(payment, options.grantsOf(index)));
  }
  checkAll(options.fromMs + options.seconds * 1_000);
  return trips;
}

/** Coffee's stable version grants its 0.50 yuan on every payment. */
function stableCoffee(): Grants {
  return [{ effective: stableOf(COFFEE), amountMinor: STABLE_GRANT_MINOR }];
}

/** One payment in ten reaches the rollout (a 10 % stage) and gets the new version's 30 yuan. */
function rollingCoffee(index: number): Grants {
  return index % 10 === 0
    ? [{ effective: rolledOf(COFFEE), amountMinor: RUNAWAY_GRANT_MINOR }]
    : stableCoffee();
}

function forcedRollout(campaigns: readonly SnapshotCampaign[], forecast?: RolloutForecast) {
  return {
    stable,
    rollout: {
      changeId: "change-2",
      campaigns,
      shareBps: 1_000,
      ...(forecast === undefined ? {} : { forecast }),
    },
  };
}

/** A guard that watched a minute of coffee's stable traffic, then the forced rollout's start. */
function guardAfterStableMinute(forecast?: RolloutForecast): { guard: RuntimeGuard; atMs: number } {
  const guard = new RuntimeGuard();
  guard.configure({ stable }, START_MS);
  // 20 payments a second for a minute: 1,200 grants of 0.50 yuan, far above the 30 a baseline
  // needs, and nothing trips on ordinary traffic.
  const calm = play(guard, {
    fromMs: START_MS,
    seconds: 60,
    perSecond: 20,
    grantsOf: stableCoffee,
  });
  expect(calm).toEqual([]);
  const atMs = START_MS + 60_000;
  guard.configure(forcedRollout([rolledOf(COFFEE)], forecast), atMs);
  return { guard, atMs };
}

/** The per-payment trip on coffee's new version: 3,000 against the strong rule's 500. */
function perPaymentTrip(atMs: number, limit = 500): GuardTrip {
  return {
    code: "per_payment.above_previous",
    subject: { kind: "campaign", id: COFFEE, campaignVersion: 2 },
    window: "10s",
    observed: RUNAWAY_GRANT_MINOR,
    limit,
    atMs,
    campaignIds: [COFFEE],
    blamedVersions: [{ campaignId: COFFEE, campaignVersion: 2 }],
  };
}

describe("a change forced past approval is judged against its stable version's baseline", () => {
  test("60× the stable version's grants trips per_payment.above_previous on the new version within seconds", () => {
    const { guard, atMs } = guardAfterStableMinute();
    const trips = play(guard, {
      fromMs: atMs,
      seconds: 10,
      perSecond: 20,
      grantsOf: rollingCoffee,
    });
    // Two grants a second: the 1 s window never holds the 8 the strong rule needs; the 10 s
    // window holds them after 3.5 s (grants at 0, 0.5, … 3.5 s). Limit: max(50 × 10, 50 + 100).
    expect(trips).toEqual([perPaymentTrip(atMs + 3_600)]);
    expect(guard.breakerStates()).toEqual([
      { breakerId: `campaign:${COFFEE}@2`, state: "tripped", trip: trips[0] },
    ]);
  });

  test("without a baseline for the stable version it does not trip; once the baseline exists and the guard reloads, it does", () => {
    const guard = new RuntimeGuard();
    guard.configure({ stable }, START_MS);
    // One grant short of a baseline.
    const few = RUNTIME_GUARD_DEFAULTS.baselineSamplesMin - 1;
    expect(
      play(guard, { fromMs: START_MS, seconds: 1, perSecond: few, grantsOf: stableCoffee }),
    ).toEqual([]);
    const startMs = START_MS + 1_000;
    guard.configure(forcedRollout([rolledOf(COFFEE)]), startMs);
    // The same runaway for 30 s: no previous mean, so nothing to judge the new version's against.
    expect(
      play(guard, { fromMs: startMs, seconds: 30, perSecond: 20, grantsOf: rollingCoffee }),
    ).toEqual([]);
    expect(guard.breakerStates()).toEqual([]);
    // The stable version's 540 grants meanwhile are a baseline: the next reload judges by it.
    const reloadMs = startMs + 30_000;
    guard.configure(forcedRollout([rolledOf(COFFEE)]), reloadMs);
    const trips = play(guard, {
      fromMs: reloadMs,
      seconds: 1,
      perSecond: 20,
      grantsOf: rollingCoffee,
    });
    // The 10 s window already holds 20 of the new version's grants from before the reload
    // (windows carry over): the trip comes on the first check, on the strong rule.
    expect(trips).toEqual([perPaymentTrip(reloadMs + 100)]);
  });
});

describe("an approved forecast", () => {
  /** At full share every payment would get coffee's 30 yuan: 3,000 minor per payment, all of them. */
  const matching: RolloutForecast = {
    subsidyPerPaymentMilliMinor: RUNAWAY_GRANT_MINOR * 1_000,
    subsidisedShareBps: 10_000,
    byCampaign: [
      {
        campaignId: COFFEE,
        subsidyPerPaymentMilliMinor: RUNAWAY_GRANT_MINOR * 1_000,
        subsidisedShareBps: 10_000,
      },
    ],
  };

  test("that matches the new version's grants: the same rollout does not trip in a minute", () => {
    const { guard, atMs } = guardAfterStableMinute(matching);
    expect(
      play(guard, { fromMs: atMs, seconds: 60, perSecond: 20, grantsOf: rollingCoffee }),
    ).toEqual([]);
    expect(guard.breakerStates()).toEqual([]);
  });

  test("that says 2 yuan a payment: the same rollout trips per_payment.above_forecast (the forecast is what judged it)", () => {
    const { guard, atMs } = guardAfterStableMinute({
      subsidyPerPaymentMilliMinor: 200_000,
      subsidisedShareBps: 10_000,
      byCampaign: [
        { campaignId: COFFEE, subsidyPerPaymentMilliMinor: 200_000, subsidisedShareBps: 10_000 },
      ],
    });
    const trips = play(guard, {
      fromMs: atMs,
      seconds: 10,
      perSecond: 20,
      grantsOf: rollingCoffee,
    });
    // Judged by the forecast's mean, not the previous version's: the strong rule's limit is
    // max(200 × 10, 200 + 100) = 2,000. (Its spend, 30 yuan a grant, stays under the forecast
    // spend's wide velocity limits.)
    expect(trips).toEqual([
      { ...perPaymentTrip(atMs + 3_600, 2_000), code: "per_payment.above_forecast" },
    ]);
  });
});

describe("one breaker per subject", () => {
  test("a trip comes back once; acknowledged then reset, the breaker re-arms and the anomaly trips again; reset from tripped is refused", () => {
    const { guard, atMs } = guardAfterStableMinute();
    const [first] = play(guard, {
      fromMs: atMs,
      seconds: 5,
      perSecond: 20,
      grantsOf: rollingCoffee,
    });
    expect(first).toEqual(perPaymentTrip(atMs + 3_600));
    const breakerId = `campaign:${COFFEE}@2`;

    // The runaway goes on for 5 more seconds; every check sees it, none returns it again.
    const laterMs = atMs + 5_000;
    expect(
      play(guard, { fromMs: laterMs, seconds: 5, perSecond: 20, grantsOf: rollingCoffee }),
    ).toEqual([]);

    const nowMs = atMs + 10_000;
    expect(guard.moveBreaker(breakerId, "reset")).toEqual({
      ok: false,
      code: "illegal_breaker_transition",
      message: expect.stringContaining("tripped"),
    });
    expect(guard.breakerStates()).toEqual([{ breakerId, state: "tripped", trip: first }]);

    expect(guard.moveBreaker(breakerId, "acknowledge")).toEqual({
      ok: true,
      state: "acknowledged",
    });
    expect(guard.breakerStates()).toEqual([{ breakerId, state: "acknowledged", trip: first }]);
    // Acknowledged is not armed: still nothing new.
    expect(guard.check(nowMs)).toEqual([]);

    expect(guard.moveBreaker(breakerId, "reset")).toEqual({ ok: true, state: "armed" });
    expect(guard.breakerStates()).toEqual([{ breakerId, state: "armed" }]);
    // The anomaly is still in the windows: the re-armed breaker trips on the next check.
    expect(guard.check(nowMs)).toEqual([perPaymentTrip(nowMs)]);
    expect(guard.breakerStates()).toEqual([
      { breakerId, state: "tripped", trip: perPaymentTrip(nowMs) },
    ]);
  });

  test("acknowledging a breaker that never tripped is refused too", () => {
    const guard = new RuntimeGuard();
    expect(guard.moveBreaker("platform", "acknowledge")).toMatchObject({
      ok: false,
      code: "illegal_breaker_transition",
    });
  });
});

describe("the platform baseline", () => {
  /** 200 payments a second of 150 yuan, each with coffee's 0.50: 34 bps of volume. */
  const ordinary = (): Grants => stableCoffee();
  /** Every payment gets 2 yuan instead: 133 bps, four times the baseline. */
  const generous = (): Grants => [{ effective: stableOf(COFFEE), amountMinor: 200 }];
  const perSecond = 200;

  test("after 10,000 ordinary payments, subsidy over volume four times the baseline trips platform.above_baseline", () => {
    const guard = new RuntimeGuard();
    guard.configure({ stable }, START_MS);
    const seconds = RUNTIME_GUARD_DEFAULTS.platformBaselinePaymentsMin / perSecond;
    expect(play(guard, { fromMs: START_MS, seconds, perSecond, grantsOf: ordinary })).toEqual([]);
    // The watch is rebuilt when the configuration changes (here: the same one reloaded); the
    // platform baseline is taken then.
    const atMs = START_MS + seconds * 1_000;
    guard.configure({ stable }, atMs);
    const trips = play(guard, { fromMs: atMs, seconds: 10, perSecond, grantsOf: generous });
    // Baseline ceil(50 × 10,000 / 15,000) = 34 bps; limit max(34 × 2, 34 + 50) = 84. The 1 s
    // window never holds the 1,000 payments a rate needs. The 10 s window (its 10 buckets of a
    // second, the current one included) 4.9 s in holds 1,000 ordinary and 980 generous payments,
    // (50,000 + 196,000) / 29,700,000 = 82 bps; at 5 s, 800 and 1,000: 88 bps.
    expect(trips).toEqual([
      {
        code: "platform.above_baseline",
        subject: { kind: "platform", id: "platform" },
        window: "10s",
        observed: 88,
        limit: 84,
        atMs: atMs + 5_000,
        campaignIds: [COFFEE],
        blamedVersions: [{ campaignId: COFFEE, campaignVersion: 1 }],
      },
    ]);
  });

  test("with fewer payments than a baseline needs, the same jump does not trip", () => {
    const guard = new RuntimeGuard();
    guard.configure({ stable }, START_MS);
    const seconds = RUNTIME_GUARD_DEFAULTS.platformBaselinePaymentsMin / perSecond - 1;
    play(guard, { fromMs: START_MS, seconds, perSecond, grantsOf: ordinary });
    const atMs = START_MS + seconds * 1_000;
    guard.configure({ stable }, atMs);
    expect(play(guard, { fromMs: atMs, seconds: 10, perSecond, grantsOf: generous })).toEqual([]);
  });
});

describe("limits", () => {
  /**
   * Coffee's stable version gets its baseline, then `fillers` other campaign versions one grant
   * each (unwatched: they count for the platform only), then the convenience campaign's stable
   * version; then both are forced to 60× their stable grants in one rollout.
   */
  function bothForced(fillers: number): { trips: GuardTrip[]; rolloutMs: number } {
    const guard = new RuntimeGuard();
    guard.configure({ stable }, START_MS);
    play(guard, { fromMs: START_MS, seconds: 10, perSecond: 20, grantsOf: stableCoffee });
    const fillersFromMs = START_MS + 10_000;
    const filler = stableOf(COFFEE);
    for (let index = 0; index < fillers; index += 1) {
      const payment = paymentAt(fillersFromMs + Math.floor(index / 10), index);
      const effective = {
        ...filler,
        campaign: { ...filler.campaign, id: `filler-${index}` },
        template: { ...filler.template, id: "filler-template" },
      };
      guard.record(payment, decisionOf(payment, [{ effective, amountMinor: STABLE_GRANT_MINOR }]));
    }
    const lateMs = fillersFromMs + 5_000;
    const convenience = (): Grants => [
      { effective: stableOf(CONVENIENCE), amountMinor: STABLE_GRANT_MINOR },
    ];
    play(guard, { fromMs: lateMs, seconds: 10, perSecond: 20, grantsOf: convenience });
    const rolloutMs = lateMs + 10_000;
    guard.configure(forcedRollout([rolledOf(COFFEE), rolledOf(CONVENIENCE)]), rolloutMs);
    const both = (index: number): Grants =>
      index % 10 === 0
        ? [
            { effective: rolledOf(COFFEE), amountMinor: RUNAWAY_GRANT_MINOR },
            { effective: rolledOf(CONVENIENCE), amountMinor: RUNAWAY_GRANT_MINOR },
          ]
        : [];
    const trips = play(guard, { fromMs: rolloutMs, seconds: 10, perSecond: 20, grantsOf: both });
    return { trips, rolloutMs };
  }

  test("without other campaigns, both forced versions are judged against their baselines", () => {
    const { trips, rolloutMs } = bothForced(0);
    const convenience = perPaymentTrip(rolloutMs + 3_600);
    expect(trips).toEqual([
      perPaymentTrip(rolloutMs + 3_600),
      {
        ...convenience,
        subject: { ...convenience.subject, id: CONVENIENCE },
        campaignIds: [CONVENIENCE],
        blamedVersions: [{ campaignId: CONVENIENCE, campaignVersion: 2 }],
      },
    ]);
  });

  test(`past ${RUNTIME_GUARD_LIMITS.baselineKeysMax} baseline keys a new version gets no baseline; the versions that have one are still judged`, () => {
    // The limit itself (not a smaller stand-in): 50,000 one-grant campaigns take about a second.
    const { trips, rolloutMs } = bothForced(RUNTIME_GUARD_LIMITS.baselineKeysMax);
    // Coffee is judged against its baseline; the convenience campaign, recorded after every
    // key was taken, has none and is judged by its ceiling and scope only (it has no ceiling
    // here), so it does not trip.
    expect(trips).toEqual([perPaymentTrip(rolloutMs + 3_600)]);
  });
});

describe("a process's declared share of the traffic", () => {
  /** Declares 1,200 yuan a minute at most, for QR payments in Shanghai (paymentAt's). */
  const STORE = "pct-sh-dept-store-anniversary";
  /** 40 payments a second of 0.75 yuan: 1,800 yuan a minute, 1.5 times the store's ceiling. */
  const overCeiling = (): Grants => [{ effective: stableOf(STORE), amountMinor: 75 }];

  function fleetOfTwo(trafficShareBps: number): RuntimeGuard[] {
    return [0, 1].map(() => {
      const guard = new RuntimeGuard({
        policy: withTrafficShare(DEFAULT_GUARD_POLICY, trafficShareBps),
      });
      guard.configure({ stable }, START_MS);
      return guard;
    });
  }

  test("two processes declaring half each both trip on a runaway past the ceiling that half of stays under it", () => {
    expect(stableOf(STORE).campaign.limits.spendPerMinuteMaxMinor).toBe(120_000);
    const [first, second] = playBalanced(fleetOfTwo(5_000), {
      fromMs: START_MS,
      seconds: 60,
      perSecond: 40,
      grantsOf: overCeiling,
    });
    // Each process spends 900 yuan a minute against its half of the ceiling, 600: its minute
    // window holds exactly 60,000 at 40 s and two more grants at the next check (the 1 s and
    // 10 s windows stay under their halves).
    const tripAt = (atMs: number, observed: number): GuardTrip => ({
      code: "velocity.above_ceiling",
      subject: { kind: "campaign", id: STORE, campaignVersion: 1 },
      window: "60s",
      observed,
      limit: 60_000,
      atMs,
      campaignIds: [STORE],
      blamedVersions: [{ campaignId: STORE, campaignVersion: 1 }],
    });
    expect(first).toEqual([tripAt(START_MS + 40_100, 60_150)]);
    expect(second).toEqual([tripAt(START_MS + 40_100, 60_150)]);
  });

  test("the same two processes each taking the whole ceiling as theirs trip neither", () => {
    const trips = playBalanced(fleetOfTwo(10_000), {
      fromMs: START_MS,
      seconds: 60,
      perSecond: 40,
      grantsOf: overCeiling,
    });
    expect(trips).toEqual([[], []]);
  });

  /** The partner's registered campaign as the evaluators would name its grants. */
  function flashGrant(amountMinor: number): Grants {
    const coffee = stableOf(COFFEE);
    const effective: SnapshotCampaign = {
      ...coffee,
      campaign: { ...coffee.campaign, id: `ext:${FLASH_EXTERNAL_CAMPAIGN.campaignRef}` },
      template: { ...coffee.template, id: "ext:*" },
      funding: { ...coffee.funding, source: FLASH_EXTERNAL_CAMPAIGN.funding },
    };
    return [{ effective, amountMinor }];
  }

  /**
   * A guard at `trafficShareBps` learns two minutes of the partner's flash campaign in this
   * process (10 grants a second of 0.50 yuan: 300 yuan a minute of platform money, through the
   * `ext:*` template), then sees it run away (200 yuan a grant). The first trip of the `ext:*`
   * template and of the platform funder.
   */
  function externalRunaway(trafficShareBps: number) {
    const guard = new RuntimeGuard({
      policy: withTrafficShare(DEFAULT_GUARD_POLICY, trafficShareBps),
      externalCampaigns: [FLASH_EXTERNAL_CAMPAIGN],
    });
    guard.configure({ stable: [] }, START_MS);
    const calm = () => flashGrant(50);
    expect(play(guard, { fromMs: START_MS, seconds: 120, perSecond: 10, grantsOf: calm })).toEqual(
      [],
    );
    const atMs = START_MS + 120_000;
    guard.configure({ stable: [] }, atMs);
    const runaway = () => flashGrant(20_000);
    const trips = play(guard, { fromMs: atMs, seconds: 1, perSecond: 10, grantsOf: runaway });
    return {
      template: trips.find((trip) => trip.subject.kind === "template"),
      funder: trips.find((trip) => trip.subject.kind === "funder"),
    };
  }

  test("what a process learned from its own traffic is not scaled again; the fleet's declared ceilings are", () => {
    const whole = externalRunaway(10_000);
    const half = externalRunaway(5_000);
    // The template's expected minute is its own 30,000 at either share: 1 s allows 50/60 of it.
    for (const { template } of [whole, half]) {
      expect(template).toMatchObject({ subject: { id: "ext:*" }, window: "1s", limit: 25_000 });
    }
    // The funder's is its own 30,000 plus the registered ceiling of 120,000, or half of it.
    expect(whole.funder).toMatchObject({
      subject: { id: "platform" },
      window: "1s",
      limit: 125_000,
    });
    expect(half.funder).toMatchObject({ subject: { id: "platform" }, window: "1s", limit: 75_000 });
  });

  test("a share outside 1..10,000 bps is refused when the guard is made", () => {
    for (const trafficShareBps of [0, 10_001, 2_500.5]) {
      expect(
        () => new RuntimeGuard({ policy: withTrafficShare(DEFAULT_GUARD_POLICY, trafficShareBps) }),
      ).toThrow(RangeError);
    }
  });
});
