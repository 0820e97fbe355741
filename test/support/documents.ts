/** Minimal valid documents for tests; each test copies one and breaks exactly one thing. */

export function validTemplate(): Record<string, unknown> {
  return {
    kind: "template",
    id: "instant-discount",
    name: "Instant discount",
    currency: "CNY",
    offer: { kind: "fixed", amountMinor: 50 },
    bands: { amountMinor: { min: 10, max: 200 } },
    funding: { source: "platform" },
    label: "instant_discount",
    allowedScenarios: ["merchant_qr", "online_checkout"],
  };
}

export function validPercentTemplate(): Record<string, unknown> {
  return {
    ...validTemplate(),
    id: "percent-off",
    offer: { kind: "percent", rateBps: 1000, capMinor: 500 },
    bands: { rateBps: { min: 100, max: 2000 } },
  };
}

export function validCampaign(): Record<string, unknown> {
  return {
    kind: "campaign",
    id: "sh-coffee",
    name: "Shanghai coffee mornings",
    template: "instant-discount",
    currency: "CNY",
    offer: { amountMinor: 80 },
    scope: { regions: ["CN-SH"], merchantCategories: ["5814"] },
    schedule: {
      timeZone: "Asia/Shanghai",
      start: "2025-01-01T00:00",
      end: "2026-01-01T00:00",
      daily: [{ from: "07:00", to: "10:00" }],
    },
    limits: { totalBudgetMinor: 1_000_000, perUser: { countPerDay: 1 } },
    stacking: { priority: 10 },
    display: { title: "咖啡立减" },
  };
}

export function validProgram(): Record<string, unknown> {
  return {
    kind: "program",
    id: "sh-consumption-2025",
    name: "Shanghai consumption subsidy 2025",
    currency: "CNY",
    regions: ["CN-SH"],
    merchantCategories: ["5411", "5812"],
    budgetMinor: 500_000_000,
    validity: { timeZone: "Asia/Shanghai", start: "2025-01-01T00:00", end: "2026-01-01T00:00" },
  };
}

/** A partner engine's campaign registered with guard mode. */
export function validExternalCampaign(): Record<string, unknown> {
  return {
    kind: "external-campaign",
    id: "partner-lunch",
    name: "Partner weekday lunch",
    campaignRef: "lunch-2025",
    funding: "merchant",
    label: "merchant_offer",
    scope: { scenarios: ["merchant_qr"], regions: ["CN-SH"] },
    perPaymentMaxMinor: 1_500,
    spendPerMinuteMaxMinor: 300_000,
  };
}

export function validEnvelope(): Record<string, unknown> {
  return {
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
  };
}

/** Sets `value` at a dotted path (`a.b.0.c`), creating nothing: the path must exist up to its parent. */
export function withField(
  document: Record<string, unknown>,
  path: string,
  value: unknown,
): Record<string, unknown> {
  const copy = structuredClone(document);
  const keys = path.split(".");
  let target: Record<string, unknown> = copy;
  for (const key of keys.slice(0, -1)) target = target[key] as Record<string, unknown>;
  const last = keys.at(-1)!;
  if (value === undefined) delete target[last];
  else target[last] = value;
  return copy;
}

/** 08:30 in Shanghai on 2025-01-16, inside the valid campaign's 07:00–10:00 window. */
export const COFFEE_PAYMENT_AT_MS = Date.UTC(2025, 0, 16, 0, 30);

/** A payment the valid campaign subsidises (80 fen on 35 yuan of coffee in Shanghai). */
export function coffeePayment(
  paymentId: string,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    paymentId,
    userId: "u1",
    amountMinor: 3500,
    currency: "CNY",
    scenario: "merchant_qr",
    payeeKind: "merchant",
    merchantId: "m1",
    merchantCategory: "5814",
    region: "CN-SH",
    channel: "app",
    paymentMethod: "balance",
    atMs: COFFEE_PAYMENT_AT_MS,
    ...overrides,
  };
}
