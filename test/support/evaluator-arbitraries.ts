/**
 * fast-check generators for the evaluator suites: whole snapshots built straight from
 * `EffectiveCampaign`-shaped objects (they need not pass config validation: the evaluators must
 * agree however wrong a snapshot is), and payments — valid ones drawn from the same small pools,
 * at instants around schedule, midnight and DST boundaries, and corrupted ones.
 *
 * Pools are small on purpose so that many campaigns match one payment and the checks after the
 * index, the exclusive groups, the priority ties and the envelope bound all get exercised.
 */
import { fc } from "@fast-check/vitest";
import { buildSnapshot, type Snapshot } from "../../src/core/evaluator/snapshot.ts";
import { FUNDING_SOURCES, LABEL_KINDS } from "../../src/core/funding.ts";
import type { Campaign } from "../../src/core/model/campaign.ts";
import type { EffectiveCampaign } from "../../src/core/model/config-set.ts";
import type { Envelope, EnvelopeCurrency } from "../../src/core/model/envelope.ts";
import { CHANNELS, PAYMENT_METHODS, SEGMENTS } from "../../src/core/model/payment.ts";
import type { Program } from "../../src/core/model/program.ts";
import { periodInstants } from "../../src/core/model/schedule.ts";
import type { Template } from "../../src/core/model/template.ts";
import type { Offer } from "../../src/core/offers/registry.ts";
import { SCENARIOS, type Scenario } from "../../src/core/scenario.ts";

/**
 * Each pool's first value is the popular one: generated lists usually hold it and payments
 * usually carry it, so that many campaigns match one payment. KWD is never given envelope
 * bounds, so its payments are refused and its campaigns never apply.
 */
const CURRENCY_POOL = ["CNY", "USD", "JPY", "KWD"] as const;
const ENVELOPE_CURRENCIES = ["CNY", "USD", "JPY"] as const;
/** Ordinary scenarios and protected ones (cash-equivalent, or protected by some envelopes only). */
const SCENARIO_POOL = [
  "merchant_qr",
  "online_checkout",
  "utility_bill",
  "rent",
  "p2p_transfer",
  "credit_card_repayment",
  "red_packet",
] as const;
const REGION_POOL = ["CN-SH", "CN-BJ", "CN-CQ", "US-CA"] as const;
const CATEGORY_POOL = ["5411", "5812", "5814", "0000"] as const;
const MERCHANT_POOL = ["m-1", "m-2", "m:3"] as const;
const ZONE_POOL = ["Asia/Shanghai", "America/New_York", "UTC"] as const;
const PROGRAM_IDS = ["prog-a", "prog-b"] as const;

/**
 * Local times around the 2025-01-16 incident, year boundaries and New York's 2025 DST changes:
 * 2025-03-09 02:00–03:00 does not exist there and 2025-11-02 01:00–02:00 happens twice.
 */
const LOCAL_TIME_POOL = [
  "2024-12-31T23:59",
  "2025-01-01T00:00",
  "2025-01-16T14:40",
  "2025-01-16T14:45:30",
  "2025-03-09T01:59",
  "2025-03-09T02:30",
  "2025-03-09T03:00",
  "2025-11-02T01:30",
  "2025-11-02T02:00",
  "2026-01-01T00:00",
] as const;
const CLOCK_TIME_POOL = [
  "00:00",
  "01:30",
  "02:00",
  "02:30",
  "03:00",
  "07:00",
  "14:40",
  "14:45",
  "23:59",
  "24:00",
] as const;

/** Instants (UTC) where local days, windows and offsets change in the zone pool. */
const BASE_INSTANTS_MS = [
  Date.UTC(2025, 0, 16, 6, 40), // 14:40 in Beijing: the incident
  Date.UTC(2025, 0, 15, 16, 0), // midnight in Shanghai
  Date.UTC(2025, 0, 16, 5, 0), // midnight in New York (EST)
  Date.UTC(2025, 0, 16, 0, 0), // midnight UTC
  Date.UTC(2025, 2, 9, 7, 0), // New York springs forward
  Date.UTC(2025, 10, 2, 6, 0), // New York falls back
  Date.UTC(2024, 11, 31, 16, 0), // 2025 starts in Shanghai
] as const;
const MS_PER_DAY = 86_400_000;
const DELTAS_MS = [
  0,
  1,
  -1,
  999,
  -1000,
  59_999,
  60_000,
  -60_000,
  900_000,
  -900_000,
  3_600_000,
  -3_600_000,
  MS_PER_DAY,
  -MS_PER_DAY,
] as const;
/** The largest `atMs` paymentSchema accepts (3000-01-01T00:00Z). */
const AT_MS_MAX = 32_503_680_000_000;

export interface SnapshotShape {
  /**
   * Beyond what a config could hold: zero and negative parameters, unreadable schedules,
   * unknown zones, unsorted campaigns, duplicate ids and non-finite priorities.
   */
  readonly wild: boolean;
}

/** `undefined` or a value, the value `presentWeight` times as often. */
function sometimes<T>(arbitrary: fc.Arbitrary<T>, presentWeight = 1): fc.Arbitrary<T | undefined> {
  return fc.oneof(
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: presentWeight, arbitrary },
  );
}

function pick<T>(values: readonly T[]): fc.Arbitrary<T> {
  return fc.constantFrom(...values);
}

function subset<T>(values: readonly T[], minLength = 0): fc.Arbitrary<T[]> {
  return fc.subarray([...values], { minLength });
}

/** A list that holds the pool's popular first value seven times in ten. */
function overlappingSubset<T>(values: readonly T[], minLength = 0): fc.Arbitrary<T[]> {
  return fc
    .tuple(subset(values, minLength), fc.integer({ min: 0, max: 9 }))
    .map(([list, roll]) => (roll < 7 && !list.includes(values[0]!) ? [values[0]!, ...list] : list));
}

/** The popular first value (by default) three times in five, else any. */
function popular<T>(values: readonly T[], weight = 3): fc.Arbitrary<T> {
  return fc.oneof(
    { weight, arbitrary: fc.constant(values[0]!) },
    { weight: 2, arbitrary: pick(values) },
  );
}

/** Absent (the campaign does not narrow by it) two times in three. */
function narrowing<T>(arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> {
  return fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary });
}

/** Drops keys whose value is undefined: optional fields absent rather than present-but-empty. */
function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as T;
}

function amountArbitrary(shape: SnapshotShape, pool: readonly number[]): fc.Arbitrary<number> {
  const sane = fc.oneof(pick(pool), fc.integer({ min: 1, max: 5_000 }));
  return shape.wild ? fc.oneof(sane, pick([0, -5, 1_000_000_000_000_000])) : sane;
}

function offerArbitrary(shape: SnapshotShape): fc.Arbitrary<Offer> {
  const amount = (pool: readonly number[]) => amountArbitrary(shape, pool);
  return fc.oneof(
    fc.record({ kind: fc.constant("fixed" as const), amountMinor: amount([1, 50, 2000]) }),
    fc.record({
      kind: fc.constant("percent" as const),
      rateBps: fc.oneof(pick([1, 1000, 3000, 10_000]), fc.integer({ min: 1, max: 10_000 })),
      capMinor: amount([1, 500, 1_000_000_000_000_000]),
    }),
    // minMinor may exceed maxMinor: a misconfigured random offer must still agree.
    fc.record({
      kind: fc.constant("random" as const),
      minMinor: amount([1, 10, 500]),
      maxMinor: amount([1, 888, 1888]),
    }),
    fc.record({
      kind: fc.constant("threshold" as const),
      tiers: fc.array(
        fc.record({
          minSpendMinor: amount([1, 100, 1000, 2000, 5000, 50_000]),
          offMinor: amount([1, 100, 500, 3000]),
        }),
        { minLength: 1, maxLength: 4 },
      ),
    }),
  ) as fc.Arbitrary<Offer>;
}

function localTimeArbitrary(shape: SnapshotShape): fc.Arbitrary<string> {
  const sane = pick(LOCAL_TIME_POOL);
  // An impossible date and an offset both make periodInstants throw.
  return shape.wild
    ? fc.oneof({ arbitrary: sane, weight: 20 }, pick(["2025-02-30T00:00", "2025-01-01T00:00Z"]))
    : sane;
}

function zoneArbitrary(shape: SnapshotShape): fc.Arbitrary<string> {
  return shape.wild
    ? fc.oneof({ arbitrary: pick(ZONE_POOL), weight: 30 }, fc.constant("Mars/Olympus_Mons"))
    : pick(ZONE_POOL);
}

function scheduleArbitrary(shape: SnapshotShape): fc.Arbitrary<Campaign["schedule"]> {
  return fc
    .record({
      timeZone: zoneArbitrary(shape),
      // Mostly open periods so that later checks run; sometimes any pair, end before start too.
      start: fc.oneof(
        { arbitrary: fc.constant("2024-12-31T23:59"), weight: 5 },
        localTimeArbitrary(shape),
      ),
      end: fc.oneof(
        { arbitrary: fc.constant("2026-01-01T00:00"), weight: 5 },
        localTimeArbitrary(shape),
      ),
      daily: narrowing(
        fc.array(fc.record({ from: pick(CLOCK_TIME_POOL), to: pick(CLOCK_TIME_POOL) }), {
          minLength: 0,
          maxLength: 3,
        }),
      ),
      weekdays: narrowing(subset([1, 2, 3, 4, 5, 6, 7])),
    })
    .map(withoutUndefined);
}

function scopeArbitrary(shape: SnapshotShape): fc.Arbitrary<Campaign["scope"]> {
  const bound = amountArbitrary(shape, [1, 100, 1000, 2000, 5000, 1_000_000_000_000_000]);
  return fc
    .record({
      scenarios: narrowing(overlappingSubset(SCENARIO_POOL)),
      regions: fc.oneof(
        { arbitrary: overlappingSubset(REGION_POOL, 1), weight: 9 },
        subset(REGION_POOL),
      ),
      merchantCategories: narrowing(overlappingSubset([...CATEGORY_POOL, "5411 "])),
      merchantIds: narrowing(overlappingSubset(MERCHANT_POOL)),
      channels: narrowing(overlappingSubset(CHANNELS)),
      paymentMethods: narrowing(overlappingSubset(PAYMENT_METHODS)),
      segments: narrowing(overlappingSubset(SEGMENTS)),
      amountRange: narrowing(fc.record({ minMinor: bound, maxMinor: bound }, { requiredKeys: [] })),
    })
    .map(withoutUndefined) as fc.Arbitrary<Campaign["scope"]>;
}

function fundingArbitrary(): fc.Arbitrary<EffectiveCampaign["funding"]> {
  return fc.record(
    {
      source: fc.oneof(
        { arbitrary: fc.constant("platform" as const), weight: 3 },
        { arbitrary: fc.constant("government" as const), weight: 1 },
        { arbitrary: pick(FUNDING_SOURCES), weight: 1 },
      ),
      programId: fc.oneof(
        { arbitrary: popular(PROGRAM_IDS), weight: 3 },
        { arbitrary: fc.constant("prog-unregistered"), weight: 1 },
      ),
    },
    { requiredKeys: ["source"] },
  );
}

/** A campaign with its id; ids are made unique when the snapshot is put together. */
function effectiveCampaignArbitrary(shape: SnapshotShape): fc.Arbitrary<EffectiveCampaign> {
  const priority = shape.wild
    ? fc.oneof({ arbitrary: pick([0, 5, 10, 10, 100]), weight: 30 }, pick([Number.NaN, Infinity]))
    : fc.oneof(
        { arbitrary: pick([0, 5, 10, 10, 100, 1_000_000]), weight: 4 },
        { arbitrary: fc.integer({ min: 0, max: 1_000_000 }), weight: 1 },
      );
  return fc
    .record({
      id: campaignIdArbitrary,
      currency: popular(CURRENCY_POOL, 12),
      templateCurrency: popular(CURRENCY_POOL),
      templateId: pick(["t-1", "t-2", "t-3"]),
      offer: offerArbitrary(shape),
      templateFunding: fundingArbitrary(),
      funding: fundingArbitrary(),
      label: fc.oneof(
        { arbitrary: fc.constant("instant_discount" as const), weight: 3 },
        { arbitrary: fc.constant("government_subsidy" as const), weight: 1 },
        { arbitrary: pick(LABEL_KINDS), weight: 1 },
      ),
      scenarios: fc.oneof(
        { arbitrary: overlappingSubset(SCENARIO_POOL), weight: 9 },
        fc.constant<Scenario[]>([...SCENARIOS]),
      ),
      scope: scopeArbitrary(shape),
      schedule: scheduleArbitrary(shape),
      perPaymentCapMinor: sometimes(amountArbitrary(shape, [1, 30, 500, 1_000_000_000_000_000])),
      priority,
      exclusiveGroup: sometimes(pick(["g-1", "g-2"]), 2),
    })
    .map((parts): EffectiveCampaign => {
      const template: Template = {
        kind: "template",
        id: parts.templateId,
        name: "Generated template",
        currency: parts.templateCurrency,
        offer: parts.offer,
        funding: parts.templateFunding,
        label: parts.label,
        allowedScenarios: parts.scenarios,
      };
      const campaign: Campaign = {
        kind: "campaign",
        id: parts.id,
        name: "Generated campaign",
        template: parts.templateId,
        currency: parts.currency,
        scope: parts.scope,
        schedule: parts.schedule,
        limits: {
          totalBudgetMinor: 1_000_000_000,
          ...(parts.perPaymentCapMinor === undefined
            ? {}
            : { perPaymentCapMinor: parts.perPaymentCapMinor }),
        },
        stacking: {
          priority: parts.priority,
          ...(parts.exclusiveGroup === undefined ? {} : { exclusiveGroup: parts.exclusiveGroup }),
        },
        display: { title: "Generated" },
      };
      return {
        campaign,
        template,
        offer: parts.offer,
        funding: parts.funding,
        label: parts.label,
        scenarios: parts.scenarios,
      };
    });
}

function programArbitrary(id: string, shape: SnapshotShape): fc.Arbitrary<Program> {
  return fc.record({
    kind: fc.constant("program" as const),
    id: fc.constant(id),
    name: fc.constant("Generated program"),
    currency: popular(CURRENCY_POOL, 12),
    regions: overlappingSubset(REGION_POOL, 1),
    merchantCategories: overlappingSubset(CATEGORY_POOL, 1),
    budgetMinor: fc.constant(1_000_000_000),
    validity: fc.record({
      timeZone: zoneArbitrary(shape),
      start: fc.oneof(
        { arbitrary: fc.constant("2025-01-01T00:00"), weight: 5 },
        localTimeArbitrary(shape),
      ),
      end: fc.oneof(
        { arbitrary: fc.constant("2026-01-01T00:00"), weight: 5 },
        localTimeArbitrary(shape),
      ),
    }),
  }) as fc.Arbitrary<Program>;
}

function envelopeArbitrary(shape: SnapshotShape): fc.Arbitrary<Envelope> {
  const bounds = (currency: (typeof ENVELOPE_CURRENCIES)[number]) =>
    fc.record({
      currency: fc.constant(currency),
      // Mostly generous bounds, so that stacking decides; tight ones exercise the bound.
      perPaymentMaxRateBps: fc.oneof(
        { weight: 4, arbitrary: pick([3000, 10_000]) },
        { weight: 1, arbitrary: pick([0, 1]) },
        { weight: 2, arbitrary: fc.integer({ min: 0, max: 10_000 }) },
      ),
      perPaymentMaxMinor: fc.oneof(
        { weight: 4, arbitrary: pick([20_000, 1_000_000_000_000_000]) },
        { weight: 1, arbitrary: pick([0, 1, 50]) },
        { weight: 2, arbitrary: fc.integer({ min: 0, max: 50_000 }) },
      ),
      minPayableMinor: fc.oneof({ weight: 4, arbitrary: fc.constant(1) }, pick([0, 100, 1000])),
      perUserDailyMaxMinor: fc.constant(50_000),
    }) as fc.Arbitrary<EnvelopeCurrency>;
  // Ordinary envelopes always bound the popular currency, so most payments reach the campaigns.
  const currencies = fc
    .tuple(
      shape.wild ? sometimes(bounds("CNY"), 5) : bounds("CNY"),
      sometimes(bounds("USD")),
      sometimes(bounds("JPY")),
      fc.boolean(),
    )
    .map(([cny, usd, jpy, twice]) => {
      const list = [cny, usd, jpy].filter((entry) => entry !== undefined);
      if (list.length === 0) return [jpy ?? { ...cny!, currency: "JPY" as const }];
      // A second entry for a currency is ignored by both evaluators (the first one counts).
      return shape.wild && twice
        ? [...list, ...list.map((entry) => ({ ...entry, minPayableMinor: 0 }))]
        : list;
    });
  return fc.record({
    kind: fc.constant("envelope" as const),
    id: fc.constant("platform"),
    timeZone: fc.constant("Asia/Shanghai"),
    // Usually the cash-equivalent set; sometimes more, fewer or none (they stay protected).
    protectedScenarios: fc.oneof(
      {
        weight: 3,
        arbitrary: fc.constant<Scenario[]>(["p2p_transfer", "credit_card_repayment", "red_packet"]),
      },
      {
        weight: 1,
        arbitrary: subset(SCENARIO_POOL.filter((scenario) => scenario !== "merchant_qr")),
      },
      { weight: 1, arbitrary: subset(SCENARIO_POOL) },
    ),
    currencies,
  });
}

const campaignIdArbitrary = fc.oneof(
  fc
    .string({ unit: pick([..."abcz019-"]), minLength: 1, maxLength: 7 })
    .map((id) => (id.startsWith("-") ? `a${id}` : id)),
  pick(["a", "a-1", "a1", "b", "z-9"]),
);

/** Arbitraries are built once per shape and size: building one costs more than drawing from it. */
const snapshotArbitraries = new Map<string, fc.Arbitrary<Snapshot>>();

export function snapshotArbitrary(shape: SnapshotShape, campaignsMax = 24): fc.Arbitrary<Snapshot> {
  const key = `${shape.wild}/${campaignsMax}`;
  let arbitrary = snapshotArbitraries.get(key);
  if (arbitrary === undefined) {
    arbitrary = buildSnapshotArbitrary(shape, campaignsMax);
    snapshotArbitraries.set(key, arbitrary);
  }
  return arbitrary;
}

function buildSnapshotArbitrary(
  shape: SnapshotShape,
  campaignsMax: number,
): fc.Arbitrary<Snapshot> {
  return fc
    .record({
      campaigns: fc.array(effectiveCampaignArbitrary(shape), {
        maxLength: campaignsMax,
        size: "max",
      }),
      programA: sometimes(programArbitrary("prog-a", shape), 5),
      programB: sometimes(programArbitrary("prog-b", shape), 2),
      envelope: envelopeArbitrary(shape),
      version: fc.integer({ min: 1, max: 1000 }),
      randomSeed: fc.oneof(
        pick([0, 1, 20250116]),
        fc.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 }),
      ),
      // Wild snapshots may keep their campaigns unsorted, or repeat a campaign id.
      order: shape.wild
        ? pick(["sorted", "sorted", "reversed", "duplicate"] as const)
        : fc.constant("sorted" as const),
    })
    .map(({ campaigns, programA, programB, envelope, version, randomSeed, order }) => {
      const seen = new Set<string>();
      const unique = campaigns.filter((effective) => {
        const fresh = !seen.has(effective.campaign.id);
        seen.add(effective.campaign.id);
        return fresh;
      });
      const programs = [programA, programB].filter((program) => program !== undefined);
      const built = buildSnapshot(
        {
          templates: new Map(
            unique.map((effective) => [effective.template.id, effective.template]),
          ),
          programs: new Map(programs.map((program) => [program.id, program])),
          campaigns: unique,
          envelope,
        },
        { version, randomSeed },
      );
      // buildSnapshot refuses invalid offers; the evaluators must still hold the envelope if one
      // ever reached them, so wild snapshots keep theirs, assembled the way buildSnapshot would.
      const snapshot: Snapshot = built.ok
        ? built.snapshot
        : built.code === "snapshot.invalid_offer"
          ? {
              version,
              randomSeed: randomSeed >>> 0,
              campaigns: unique
                .map((effective) => ({ ...effective, version: 1 }))
                .sort((left, right) =>
                  left.campaign.id < right.campaign.id
                    ? -1
                    : left.campaign.id > right.campaign.id
                      ? 1
                      : 0,
                ),
              envelope,
              programs: new Map(programs.map((program) => [program.id, program])),
            }
          : fail(built.message);
      if (order === "reversed")
        return { ...snapshot, campaigns: [...snapshot.campaigns].reverse() };
      if (order === "duplicate" && snapshot.campaigns.length > 0) {
        return { ...snapshot, campaigns: [...snapshot.campaigns, snapshot.campaigns[0]!] };
      }
      return snapshot;
    });
}

/** Period instants by zone, start and end: generated snapshots share few distinct periods. */
const periodInstantsCache = new Map<string, { startMs: number; endMs: number } | undefined>();

function cachedPeriodInstants(period: Program["validity"]) {
  const key = `${period.timeZone}|${period.start}|${period.end}`;
  if (!periodInstantsCache.has(key)) {
    try {
      periodInstantsCache.set(key, periodInstants(period));
    } catch {
      // Unreadable periods of wild snapshots have no boundary to aim at.
      periodInstantsCache.set(key, undefined);
    }
  }
  return periodInstantsCache.get(key);
}

/** Schedule and program boundaries of a snapshot, where an instant changes a campaign's outcome. */
export function boundaryInstantsMs(snapshot: Snapshot): number[] {
  const instants = new Set<number>(BASE_INSTANTS_MS);
  const periods = [
    ...snapshot.campaigns.map((effective) => effective.campaign.schedule),
    ...[...snapshot.programs.values()].map((program) => program.validity),
  ];
  for (const period of periods) {
    const bounds = cachedPeriodInstants(period);
    if (bounds === undefined) continue;
    instants.add(bounds.startMs);
    instants.add(bounds.endMs);
  }
  return [...instants];
}

/** An instant as a choice among a snapshot's boundaries (by index) and an offset from it. */
const instantDraftArbitrary = fc.tuple(
  fc.nat(),
  fc.oneof(
    pick(DELTAS_MS),
    // Whole minutes either side, so that daily windows and weekdays are hit and missed.
    fc.integer({ min: -3 * 24 * 60, max: 3 * 24 * 60 }).map((minutes) => minutes * 60_000),
  ),
);

function instantOf(
  [choice, offsetMs]: readonly [number, number],
  boundaries: readonly number[],
): number {
  const base = boundaries[choice % boundaries.length]!;
  return Math.min(AT_MS_MAX, Math.max(0, base + offsetMs));
}

const EXTERNAL_ID_CHARACTERS = [..."abcxyzABCXYZ0189_.:-"];
const externalIdArbitrary = fc.oneof(
  { weight: 2, arbitrary: pick(["p-1", "p-2", "P_3.x:y", "retry-me"]) },
  {
    weight: 2,
    arbitrary: fc.string({ unit: pick(EXTERNAL_ID_CHARACTERS), minLength: 1, maxLength: 20 }),
  },
  {
    weight: 1,
    arbitrary: fc.string({ unit: pick(EXTERNAL_ID_CHARACTERS), minLength: 60, maxLength: 64 }),
  },
);

const OPTIONAL_PAYMENT_KEYS = [
  "merchantCategory",
  "deviceId",
  "cardFingerprint",
  "segments",
] as const;

/** A valid payment but for its instant, which `instantOf` fills in for a given snapshot. */
const paymentDraftArbitrary = fc.record({
  payment: fc.record(
    {
      paymentId: externalIdArbitrary,
      userId: externalIdArbitrary,
      amountMinor: fc.oneof(
        pick([1, 2, 99, 100, 101, 999, 1000, 1001, 2000, 5000, 50_000, 1_000_000_000_000_000]),
        fc.integer({ min: 1, max: 100_000 }),
      ),
      currency: popular(CURRENCY_POOL, 12),
      scenario: popular(SCENARIO_POOL),
      payeeKind: fc.oneof(
        { arbitrary: fc.constant("merchant"), weight: 9 },
        fc.constant("individual"),
      ),
      merchantId: fc.oneof({ arbitrary: popular(MERCHANT_POOL), weight: 4 }, externalIdArbitrary),
      merchantCategory: popular([...CATEGORY_POOL, "9999"]),
      region: popular(REGION_POOL),
      channel: popular(CHANNELS),
      paymentMethod: popular(PAYMENT_METHODS),
      deviceId: externalIdArbitrary,
      cardFingerprint: externalIdArbitrary,
      // Duplicates are allowed by the schema, up to four entries.
      segments: fc.array(popular(SEGMENTS), { maxLength: SEGMENTS.length }),
    },
    {
      requiredKeys: [
        "paymentId",
        "userId",
        "amountMinor",
        "currency",
        "scenario",
        "payeeKind",
        "merchantId",
        "region",
        "channel",
        "paymentMethod",
      ],
    },
  ),
  instant: instantDraftArbitrary,
  // An optional field may also be present with the value undefined.
  presentButUndefined: fc.subarray([...OPTIONAL_PAYMENT_KEYS]),
});

type PaymentDraft = typeof paymentDraftArbitrary extends fc.Arbitrary<infer T> ? T : never;

function paymentOf(draft: PaymentDraft, boundaries: readonly number[]): Record<string, unknown> {
  const payment: Record<string, unknown> = {
    ...draft.payment,
    atMs: instantOf(draft.instant, boundaries),
  };
  for (const key of draft.presentButUndefined) if (!(key in payment)) payment[key] = undefined;
  return payment;
}

const PAYMENT_KEYS = [
  "paymentId",
  "userId",
  "amountMinor",
  "currency",
  "scenario",
  "payeeKind",
  "merchantId",
  "merchantCategory",
  "region",
  "channel",
  "paymentMethod",
  "atMs",
  "deviceId",
  "cardFingerprint",
  "segments",
] as const;

/** Values that are wrong for most fields and right for some: the checks must tell which. */
const ODD_VALUES: readonly unknown[] = [
  null,
  undefined,
  Number.NaN,
  Infinity,
  -Infinity,
  0,
  -0,
  -1,
  1.5,
  2 ** 53,
  2 ** 53 - 1,
  1_000_000_000_000_000,
  1_000_000_000_000_001,
  AT_MS_MAX,
  AT_MS_MAX + 1,
  "",
  "x",
  " p-1",
  "p 1",
  "é",
  "x".repeat(64),
  "x".repeat(65),
  "CNY",
  "cny",
  "merchant_qr",
  "CN-SH",
  "5411",
  "541",
  "54111",
  "٥٤١١",
  "５４１１",
  "app",
  "balance",
  "merchant",
  "individual",
  "toString",
  "__proto__",
  "1",
  [],
  ["vip"],
  ["vip", "vip", "vip", "vip"],
  ["vip", "vip", "vip", "vip", "vip"],
  ["gold"],
  [undefined],
  {},
  true,
  false,
  12n,
];

/** Inputs that are not a plain payment object: built from the payment, or instead of it. */
const REPLACEMENTS = {
  null: () => null,
  undefined: () => undefined,
  number: () => 42,
  string: () => "p-1",
  "empty array": () => [],
  "array holding the payment": (payment: Record<string, unknown>) => [payment],
  "array with the payment's fields": (payment: Record<string, unknown>) =>
    Object.assign([], payment),
  // Inherited fields are read (valid); an inherited unknown key is refused.
  "object inheriting the payment": (payment: Record<string, unknown>) => Object.create(payment),
  "payment inheriting an unknown key": (payment: Record<string, unknown>) =>
    Object.assign(Object.create({ extra: 1 }), payment),
  "null-prototype copy": (payment: Record<string, unknown>) =>
    Object.assign(Object.create(null), payment),
  "class instance copy": (payment: Record<string, unknown>) =>
    Object.assign(new (class Payment {})(), payment),
  "Map of the fields": (payment: Record<string, unknown>) => new Map(Object.entries(payment)),
  "JSON round trip": (payment: Record<string, unknown>) =>
    JSON.parse(
      JSON.stringify(payment, (_, value) => (typeof value === "bigint" ? String(value) : value)),
    ),
} as const;

/** One corruption, as data so that a failing case prints readably. */
type Corruption =
  | { readonly set: (typeof PAYMENT_KEYS)[number]; readonly to: unknown }
  | { readonly remove: (typeof PAYMENT_KEYS)[number] }
  | { readonly add: string }
  | { readonly replace: keyof typeof REPLACEMENTS };

const corruptionArbitrary: fc.Arbitrary<Corruption> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ set: pick(PAYMENT_KEYS), to: pick(ODD_VALUES) }) },
  { weight: 2, arbitrary: fc.record({ remove: pick(PAYMENT_KEYS) }) },
  // A computed "__proto__" key makes an own property, which the strict schema refuses.
  {
    weight: 2,
    arbitrary: fc.record({ add: pick(["extra", "__proto__", "amount", "constructor", "0"]) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      replace: pick(Object.keys(REPLACEMENTS) as (keyof typeof REPLACEMENTS)[]),
    }),
  },
);

function corrupt(input: unknown, corruption: Corruption): unknown {
  // Only a plain object is corrupted further; anything else is already not a payment.
  if (typeof input !== "object" || input === null || Array.isArray(input)) return input;
  const payment = input as Record<string, unknown>;
  if ("set" in corruption) return { ...payment, [corruption.set]: corruption.to };
  if ("remove" in corruption) {
    const copy = { ...payment };
    delete copy[corruption.remove];
    return copy;
  }
  if ("add" in corruption) return { ...payment, [corruption.add]: 1 };
  return REPLACEMENTS[corruption.replace](payment);
}

const corruptedDraftArbitrary = fc.record({
  draft: paymentDraftArbitrary,
  corruptions: fc.array(corruptionArbitrary, { minLength: 1, maxLength: 2 }),
});

export type PaymentMix = "valid" | "corrupted" | "both";

const drawArbitraries: Record<
  PaymentMix,
  fc.Arbitrary<{ draft: PaymentDraft; corruptions: Corruption[] }>
> = {
  valid: paymentDraftArbitrary.map((draft) => ({ draft, corruptions: [] })),
  corrupted: corruptedDraftArbitrary,
  both: fc.oneof(
    paymentDraftArbitrary.map((draft) => ({ draft, corruptions: [] })),
    corruptedDraftArbitrary,
  ),
};

/** Payments for a given snapshot (aimed at its schedule boundaries): valid, corrupted or both. */
export function paymentsArbitrary(
  snapshot: Snapshot,
  options: { readonly mix?: PaymentMix; readonly paymentsMax?: number } = {},
): fc.Arbitrary<unknown[]> {
  const boundaries = boundaryInstantsMs(snapshot);
  return fc
    .array(drawArbitraries[options.mix ?? "valid"], {
      minLength: 1,
      maxLength: options.paymentsMax ?? 6,
    })
    .map((drafts) =>
      drafts.map(({ draft, corruptions }) =>
        corruptions.reduce<unknown>(corrupt, paymentOf(draft, boundaries)),
      ),
    );
}

/** A snapshot with payments for it: valid ones, corrupted ones (one or two things broken), or both. */
export function snapshotWithPaymentsArbitrary(
  shape: SnapshotShape,
  options: {
    readonly mix?: PaymentMix;
    readonly paymentsMax?: number;
    readonly campaignsMax?: number;
  } = {},
): fc.Arbitrary<{ snapshot: Snapshot; payments: unknown[] }> {
  return fc
    .tuple(
      snapshotArbitrary(shape, options.campaignsMax),
      fc.array(drawArbitraries[options.mix ?? "valid"], {
        minLength: 1,
        maxLength: options.paymentsMax ?? 6,
      }),
    )
    .map(([snapshot, drafts]) => {
      const boundaries = boundaryInstantsMs(snapshot);
      return {
        snapshot,
        payments: drafts.map(({ draft, corruptions }) =>
          corruptions.reduce<unknown>(corrupt, paymentOf(draft, boundaries)),
        ),
      };
    });
}

function fail(message: string): never {
  throw new Error(message);
}
