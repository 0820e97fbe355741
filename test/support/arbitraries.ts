/** fast-check generators of valid domain documents, shared by property tests. */
import { fc } from "@fast-check/vitest";
import { CHANNELS, PAYMENT_METHODS, SEGMENTS } from "../../src/core/model/payment.ts";
import { REGIONS } from "../../src/core/region.ts";
import { SCENARIOS } from "../../src/core/scenario.ts";

const CN_REGIONS = REGIONS.filter((region) => region.startsWith("CN-"));

export const identifierArbitrary = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,20}$/);

const amount = (min: number, max: number) => fc.integer({ min, max });

export const offerArbitrary = fc.oneof(
  fc.record({ kind: fc.constant("fixed" as const), amountMinor: amount(1, 100_000) }),
  fc.record({
    kind: fc.constant("percent" as const),
    rateBps: amount(1, 10_000),
    capMinor: amount(1, 100_000),
  }),
  fc.tuple(amount(1, 50_000), amount(0, 50_000)).map(([minMinor, extra]) => ({
    kind: "random" as const,
    minMinor,
    maxMinor: minMinor + extra,
  })),
  fc
    .uniqueArray(amount(2, 1_000_000), { minLength: 1, maxLength: 5 })
    .map((spends) => spends.sort((a, b) => a - b))
    .map((spends) => ({
      kind: "threshold" as const,
      // off = spend / 10 keeps each tier below its spend and non-decreasing as spends rise.
      tiers: spends.map((minSpendMinor) => ({
        minSpendMinor,
        offMinor: Math.max(1, Math.floor(minSpendMinor / 10)),
      })),
    })),
);

export const templateArbitrary = fc.record({
  kind: fc.constant("template" as const),
  id: identifierArbitrary,
  name: fc.string({ minLength: 1, maxLength: 40 }),
  currency: fc.constant("CNY" as const),
  offer: offerArbitrary,
  funding: fc.constantFrom({ source: "platform" as const }, { source: "merchant" as const }),
  label: fc.constant("instant_discount" as const),
  allowedScenarios: fc.uniqueArray(fc.constantFrom(...SCENARIOS), { minLength: 1, maxLength: 4 }),
});

/** A local time in 2025, minutes only, as schedules write them. */
const localTime2025 = fc
  .record({ month: amount(1, 12), day: amount(1, 28), hour: amount(0, 23), minute: amount(0, 59) })
  .map(
    ({ month, day, hour, minute }) => `2025-${pad(month)}-${pad(day)}T${pad(hour)}:${pad(minute)}`,
  );

function pad(value: number): string {
  return String(value).padStart(2, "0");
}

export const campaignArbitrary = fc.record(
  {
    kind: fc.constant("campaign" as const),
    id: identifierArbitrary,
    name: fc.string({ minLength: 1, maxLength: 40 }),
    template: identifierArbitrary,
    currency: fc.constant("CNY" as const),
    scope: fc.record(
      {
        regions: fc.uniqueArray(fc.constantFrom(...CN_REGIONS), { minLength: 1, maxLength: 5 }),
        merchantCategories: fc.uniqueArray(fc.stringMatching(/^\d{4}$/), {
          minLength: 1,
          maxLength: 3,
        }),
        channels: fc.uniqueArray(fc.constantFrom(...CHANNELS), { minLength: 1 }),
        paymentMethods: fc.uniqueArray(fc.constantFrom(...PAYMENT_METHODS), { minLength: 1 }),
        segments: fc.uniqueArray(fc.constantFrom(...SEGMENTS), { minLength: 1 }),
        amountRange: fc.record(
          { minMinor: amount(1, 1000), maxMinor: amount(1001, 1_000_000) },
          { requiredKeys: [] },
        ),
      },
      { requiredKeys: ["regions"] },
    ),
    schedule: fc
      .tuple(localTime2025, fc.constantFrom("Asia/Shanghai", "Asia/Tokyo", "UTC"))
      .map(([start, timeZone]) => ({ timeZone, start, end: `2026${start.slice(4)}` })),
    limits: fc.record(
      {
        totalBudgetMinor: amount(1, 1e12),
        dailyBudgetMinor: amount(1, 1e10),
        perPaymentCapMinor: amount(1, 1e6),
        spendPerMinuteMaxMinor: amount(1, 1e8),
        perUser: fc.record(
          { countPerDay: amount(1, 10), amountPerDayMinor: amount(1, 100_000) },
          { requiredKeys: [] },
        ),
      },
      { requiredKeys: ["totalBudgetMinor"] },
    ),
    stacking: fc.record(
      { exclusiveGroup: identifierArbitrary, priority: amount(0, 1000) },
      { requiredKeys: ["priority"] },
    ),
    display: fc.record({ title: fc.string({ minLength: 1, maxLength: 40 }) }),
  },
  {
    requiredKeys: [
      "kind",
      "id",
      "name",
      "template",
      "currency",
      "scope",
      "schedule",
      "limits",
      "stacking",
      "display",
    ],
  },
);
