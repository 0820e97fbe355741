/**
 * A seeded fixture of realistically scoped campaigns for the quote benchmarks: a mix of offer
 * kinds, mostly provincial scopes with some multi-province and nationwide ones, categories
 * narrowed to the scenario's merchants, some channel, method, segment, amount and daily-window
 * narrowing, exclusive groups, and a Shanghai government program. Every document passes
 * validation, so the fixture is a configuration a user could have written.
 */
import { buildSnapshot, type Snapshot } from "../src/core/evaluator/snapshot.ts";
import { resolveConfig, type SourcedDocument } from "../src/core/model/config-set.ts";
import { type ConfigDocument, validateDocument } from "../src/core/model/document.ts";
import { CHANNELS, PAYMENT_METHODS, SEGMENTS } from "../src/core/model/payment.ts";
import { REGIONS } from "../src/core/region.ts";
import type { Scenario } from "../src/core/scenario.ts";
import { SeededRandom } from "../src/traffic/seeded-random.ts";

/** The traffic generator's default merchant population: ids m0 … m199999. */
const TRAFFIC_MERCHANTS = 200_000;

const MAINLAND = REGIONS.filter(
  (region) => region.startsWith("CN-") && region !== "CN-HK" && region !== "CN-MO",
);

/** Scenarios campaigns target, weighted like traffic, with merchant categories seen there. */
const TARGETS: readonly { scenario: Scenario; weight: number; categories: readonly string[] }[] = [
  {
    scenario: "merchant_qr",
    weight: 50,
    categories: ["5411", "5812", "5814", "5499", "5912", "5541", "4121", "5311"],
  },
  {
    scenario: "online_checkout",
    weight: 28,
    categories: ["5311", "5732", "5651", "5999", "5814", "4722"],
  },
  { scenario: "utility_bill", weight: 6, categories: ["4900"] },
  { scenario: "mobile_topup", weight: 6, categories: ["4814"] },
  { scenario: "ticketing", weight: 6, categories: ["7832", "4722", "4112"] },
  { scenario: "government_fee", weight: 2, categories: ["9311", "9399"] },
  { scenario: "rent", weight: 2, categories: ["6513"] },
];

export interface CampaignFixture {
  readonly snapshot: Snapshot;
  readonly documents: readonly ConfigDocument[];
}

export function campaignFixture(campaignCount: number, seed: number): CampaignFixture {
  const random = new SeededRandom(seed, 7);
  const pick = <T>(values: readonly T[]): T =>
    values[Math.floor(random.nextFloat() * values.length)]!;
  const chance = (probability: number) => random.nextFloat() < probability;
  const sample = <T>(values: readonly T[], count: number): T[] => {
    const pool = [...values];
    const chosen: T[] = [];
    while (chosen.length < count && pool.length > 0)
      chosen.push(pool.splice(Math.floor(random.nextFloat() * pool.length), 1)[0]!);
    return chosen;
  };
  const totalWeight = TARGETS.reduce((sum, target) => sum + target.weight, 0);
  const pickTarget = () => {
    let roll = random.nextFloat() * totalWeight;
    for (const target of TARGETS) {
      roll -= target.weight;
      if (roll < 0) return target;
    }
    return TARGETS[0]!;
  };

  const merchantSpecificShare = campaignCount >= 5_000 ? 0.93 : 0.2;
  const allScenarios = TARGETS.map((target) => target.scenario);
  const documents: Record<string, unknown>[] = [
    {
      kind: "envelope",
      id: "platform",
      timeZone: "Asia/Shanghai",
      protectedScenarios: [
        "p2p_transfer",
        "credit_card_repayment",
        "red_packet",
        "balance_topup",
        "wealth_purchase",
      ],
      currencies: [
        {
          currency: "CNY",
          perPaymentMaxRateBps: 3000,
          perPaymentMaxMinor: 20_000,
          minPayableMinor: 1,
          perUserDailyMaxMinor: 50_000,
        },
      ],
    },
    {
      kind: "program",
      id: "sh-consumption",
      name: "Shanghai consumption subsidy",
      currency: "CNY",
      regions: ["CN-SH"],
      merchantCategories: ["5411", "5812", "5311", "5732", "5651"],
      budgetMinor: 500_000_000,
      validity: { timeZone: "Asia/Shanghai", start: "2025-01-01T00:00", end: "2026-01-01T00:00" },
    },
    template(
      "fixed-off",
      { kind: "fixed", amountMinor: 50 },
      { source: "platform" },
      "instant_discount",
      allScenarios,
    ),
    template(
      "percent-off",
      { kind: "percent", rateBps: 1000, capMinor: 2000 },
      { source: "merchant" },
      "merchant_offer",
      allScenarios,
    ),
    template(
      "lucky",
      { kind: "random", minMinor: 1, maxMinor: 888 },
      { source: "platform" },
      "coupon",
      allScenarios,
    ),
    template(
      "spend-save",
      {
        kind: "threshold",
        tiers: [
          { minSpendMinor: 10_000, offMinor: 1000 },
          { minSpendMinor: 20_000, offMinor: 2500 },
        ],
      },
      { source: "merchant" },
      "merchant_offer",
      allScenarios,
    ),
    template(
      "bank-card",
      { kind: "fixed", amountMinor: 500 },
      { source: "bank" },
      "bank_offer",
      allScenarios,
    ),
    template(
      "gov",
      { kind: "percent", rateBps: 1500, capMinor: 5000 },
      { source: "government", programId: "sh-consumption" },
      "government_subsidy",
      ["merchant_qr", "online_checkout"],
    ),
  ];
  const templates = [
    "fixed-off",
    "fixed-off",
    "fixed-off",
    "percent-off",
    "lucky",
    "spend-save",
    "bank-card",
  ];

  for (let index = 0; index < campaignCount; index += 1) {
    const target = pickTarget();
    const government = target.scenario === "merchant_qr" && chance(0.02);
    const breadth = random.nextFloat();
    const nationwide = !government && breadth >= 0.96;
    const regions = government
      ? ["CN-SH"]
      : breadth < 0.5
        ? sample(MAINLAND, 1)
        : nationwide
          ? [...MAINLAND]
          : sample(MAINLAND, 2 + Math.floor(random.nextFloat() * 4));
    const scope: Record<string, unknown> = { scenarios: [target.scenario], regions };
    if (government) scope.merchantCategories = ["5411", "5812"];
    else if (chance(0.5))
      scope.merchantCategories = sample(target.categories, 1 + Math.floor(random.nextFloat() * 2));
    // Large platforms reach thousands of campaigns through merchant-funded ones for a few stores.
    if (!government && chance(merchantSpecificShare)) {
      scope.merchantIds = Array.from(
        { length: 1 + Math.floor(random.nextFloat() * 20) },
        () => `m${Math.floor(random.nextFloat() * TRAFFIC_MERCHANTS)}`,
      );
    }
    if (chance(0.2)) scope.channels = sample(CHANNELS, 2 + Math.floor(random.nextFloat() * 2));
    if (chance(0.15))
      scope.paymentMethods = sample(PAYMENT_METHODS, 2 + Math.floor(random.nextFloat() * 2));
    if (chance(0.1)) scope.segments = sample(SEGMENTS, 1);
    if (chance(0.75)) scope.amountRange = { minMinor: pick([2000, 5000, 10_000, 20_000]) };
    const schedule: Record<string, unknown> = {
      timeZone: "Asia/Shanghai",
      start: "2025-01-01T00:00",
      end: "2026-01-01T00:00",
    };
    if (nationwide || chance(0.55))
      schedule.daily = [
        pick([
          { from: "07:00", to: "10:00" },
          { from: "11:00", to: "14:00" },
          { from: "17:00", to: "21:00" },
          { from: "10:00", to: "22:00" },
        ]),
      ];
    if (chance(0.1)) schedule.weekdays = pick([[1, 2, 3, 4, 5], [6, 7], [3]]);
    const stacking: Record<string, unknown> = { priority: Math.floor(random.nextFloat() * 100) };
    if (chance(0.6)) stacking.exclusiveGroup = `group-${Math.floor(random.nextFloat() * 40)}`;
    documents.push({
      kind: "campaign",
      id: `campaign-${String(index).padStart(6, "0")}`,
      name: `Benchmark campaign ${index}`,
      template: government ? "gov" : pick(templates),
      currency: "CNY",
      scope,
      schedule,
      limits: { totalBudgetMinor: 10_000_000, perPaymentCapMinor: 2000 },
      stacking,
      display: { title: `活动 ${index}` },
    });
  }

  const sourced: SourcedDocument[] = documents.map((raw, index) => {
    const result = validateDocument(raw);
    if (!result.ok)
      throw new Error(`fixture document ${index} is invalid: ${JSON.stringify(result.issues)}`);
    return { source: `fixture-${index}`, document: result.document };
  });
  const { config, issues } = resolveConfig(sourced);
  if (issues.length > 0)
    throw new Error(`fixture does not resolve: ${JSON.stringify(issues.slice(0, 3))}`);
  const built = buildSnapshot(config, { version: 1, randomSeed: seed });
  if (!built.ok) throw new Error(built.message);
  return { snapshot: built.snapshot, documents: sourced.map((entry) => entry.document) };
}

function template(
  id: string,
  offer: Record<string, unknown>,
  funding: Record<string, unknown>,
  label: string,
  allowedScenarios: readonly Scenario[],
): Record<string, unknown> {
  return {
    kind: "template",
    id,
    name: id,
    currency: "CNY",
    offer,
    funding,
    label,
    allowedScenarios,
  };
}
