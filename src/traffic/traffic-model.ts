/**
 * The parameters of synthetic traffic, in one table. docs/reference/traffic.md explains each and
 * a test keeps the two in step. Shares and weights are relative integers (percent or basis
 * points) so the table reads like the documentation; amounts are fen (CNY minor units).
 */
import type { Channel, PaymentMethod } from "../core/model/payment.ts";
import type { Region } from "../core/region.ts";
import type { Scenario } from "../core/scenario.ts";

/** Synthetic traffic is domestic platform traffic: everything is in CNY. */
export const TRAFFIC_CURRENCY = "CNY";

/** The daily curve is read in Beijing time (no daylight saving since 1991). */
export const TRAFFIC_TIME_ZONE = "Asia/Shanghai";

/** Every generated amount lies in [1 fen, 500,000 yuan]; a scenario may lower the ceiling. */
export const TRAFFIC_AMOUNT_MINOR_MIN = 1;
export const TRAFFIC_AMOUNT_MINOR_MAX = 50_000_000;

export type ChannelMixName = "in_store" | "online" | "bills" | "transfer";
export type MethodMixName = "spend" | "bills" | "transfer" | "repay" | "invest" | "topup";

/** Where a scenario's merchants are: next to the payer, or anywhere in the country. */
export type MerchantLocation = "local" | "national";

export interface ScenarioProfile {
  readonly scenario: Scenario;
  /** Share of all payments, in percent (the column sums to 100). */
  readonly sharePercent: number;
  /** Median amount (e^mu of the log-normal), in fen. */
  readonly amountMedianMinor: number;
  /** Standard deviation of ln(amount). */
  readonly amountSigma: number;
  /** Amounts above this are clamped to it, in fen. */
  readonly amountMinorMax: number;
  /** Share of payments that go to an individual (a user) instead of a merchant, in bps. */
  readonly individualPayeeBps: number;
  /** Share of the merchant population that serves this scenario, in percent (sums to 100). */
  readonly merchantSharePercent: number;
  readonly merchantLocation: MerchantLocation;
  /** ISO 18245 merchant category codes with relative weights; empty when payees are people. */
  readonly merchantCategories: readonly (readonly [code: string, weight: number])[];
  readonly channelMix: ChannelMixName;
  readonly methodMix: MethodMixName;
}

/** The scenario mix, amounts and payees. Order matches SCENARIOS. */
export const SCENARIO_PROFILES: readonly ScenarioProfile[] = [
  {
    scenario: "merchant_qr",
    sharePercent: 38,
    amountMedianMinor: 2_500,
    amountSigma: 1.0,
    amountMinorMax: TRAFFIC_AMOUNT_MINOR_MAX,
    // Personal collection codes: street vendors and also transfers in disguise.
    individualPayeeBps: 800,
    merchantSharePercent: 60,
    merchantLocation: "local",
    merchantCategories: [
      ["5812", 25],
      ["5814", 20],
      ["5411", 20],
      ["5499", 10],
      ["5331", 5],
      ["5912", 5],
      ["5541", 5],
      ["4121", 5],
      ["7230", 3],
      ["5999", 2],
    ],
    channelMix: "in_store",
    methodMix: "spend",
  },
  {
    scenario: "online_checkout",
    sharePercent: 22,
    amountMedianMinor: 6_800,
    amountSigma: 1.1,
    amountMinorMax: TRAFFIC_AMOUNT_MINOR_MAX,
    individualPayeeBps: 0,
    merchantSharePercent: 25,
    merchantLocation: "national",
    merchantCategories: [
      ["5311", 20],
      ["5999", 20],
      ["5651", 15],
      ["5732", 12],
      ["5814", 10],
      ["5977", 8],
      ["4121", 5],
      ["7011", 5],
      ["5945", 5],
    ],
    channelMix: "online",
    methodMix: "spend",
  },
  {
    scenario: "utility_bill",
    sharePercent: 4,
    amountMedianMinor: 12_000,
    amountSigma: 0.7,
    amountMinorMax: TRAFFIC_AMOUNT_MINOR_MAX,
    individualPayeeBps: 0,
    merchantSharePercent: 1,
    merchantLocation: "local",
    merchantCategories: [["4900", 1]],
    channelMix: "bills",
    methodMix: "bills",
  },
  {
    scenario: "mobile_topup",
    sharePercent: 4,
    amountMedianMinor: 5_000,
    amountSigma: 0.5,
    amountMinorMax: TRAFFIC_AMOUNT_MINOR_MAX,
    individualPayeeBps: 0,
    merchantSharePercent: 1,
    merchantLocation: "local",
    merchantCategories: [["4814", 1]],
    channelMix: "bills",
    methodMix: "bills",
  },
  {
    scenario: "ticketing",
    sharePercent: 3,
    amountMedianMinor: 9_000,
    amountSigma: 0.9,
    amountMinorMax: TRAFFIC_AMOUNT_MINOR_MAX,
    individualPayeeBps: 0,
    merchantSharePercent: 4,
    merchantLocation: "local",
    merchantCategories: [
      ["7832", 35],
      ["4112", 30],
      ["4722", 20],
      ["7922", 10],
      ["4511", 5],
    ],
    channelMix: "online",
    methodMix: "spend",
  },
  {
    scenario: "rent",
    sharePercent: 1,
    amountMedianMinor: 280_000,
    amountSigma: 0.5,
    amountMinorMax: TRAFFIC_AMOUNT_MINOR_MAX,
    individualPayeeBps: 0,
    merchantSharePercent: 5,
    merchantLocation: "local",
    merchantCategories: [["6513", 1]],
    channelMix: "bills",
    methodMix: "bills",
  },
  {
    scenario: "p2p_transfer",
    sharePercent: 12,
    amountMedianMinor: 20_000,
    amountSigma: 1.4,
    amountMinorMax: TRAFFIC_AMOUNT_MINOR_MAX,
    individualPayeeBps: 10_000,
    merchantSharePercent: 0,
    merchantLocation: "local",
    merchantCategories: [],
    channelMix: "transfer",
    methodMix: "transfer",
  },
  {
    scenario: "credit_card_repayment",
    sharePercent: 3,
    amountMedianMinor: 250_000,
    amountSigma: 1.0,
    amountMinorMax: TRAFFIC_AMOUNT_MINOR_MAX,
    individualPayeeBps: 0,
    merchantSharePercent: 1,
    merchantLocation: "national",
    merchantCategories: [["6012", 1]],
    channelMix: "bills",
    methodMix: "repay",
  },
  {
    scenario: "red_packet",
    sharePercent: 5,
    amountMedianMinor: 888,
    amountSigma: 1.0,
    // Red packets are capped at 200 yuan each by the wallets that offer them.
    amountMinorMax: 20_000,
    individualPayeeBps: 10_000,
    merchantSharePercent: 0,
    merchantLocation: "local",
    merchantCategories: [],
    channelMix: "transfer",
    methodMix: "transfer",
  },
  {
    scenario: "balance_topup",
    sharePercent: 3,
    amountMedianMinor: 30_000,
    amountSigma: 1.2,
    amountMinorMax: TRAFFIC_AMOUNT_MINOR_MAX,
    individualPayeeBps: 0,
    merchantSharePercent: 1,
    merchantLocation: "national",
    merchantCategories: [["6540", 1]],
    channelMix: "bills",
    methodMix: "topup",
  },
  {
    scenario: "wealth_purchase",
    sharePercent: 3,
    amountMedianMinor: 100_000,
    amountSigma: 1.3,
    amountMinorMax: TRAFFIC_AMOUNT_MINOR_MAX,
    individualPayeeBps: 0,
    merchantSharePercent: 1,
    merchantLocation: "national",
    merchantCategories: [["6211", 1]],
    channelMix: "bills",
    methodMix: "invest",
  },
  {
    scenario: "government_fee",
    sharePercent: 2,
    amountMedianMinor: 15_000,
    amountSigma: 1.2,
    amountMinorMax: TRAFFIC_AMOUNT_MINOR_MAX,
    individualPayeeBps: 0,
    merchantSharePercent: 1,
    merchantLocation: "local",
    merchantCategories: [
      ["9399", 50],
      ["9311", 40],
      ["9222", 10],
    ],
    channelMix: "bills",
    methodMix: "bills",
  },
];

/**
 * Where payments happen, in basis points (sums to 10,000): population weighted up for the
 * richer, more cashless coastal provinces, so Guangdong leads and Shanghai is about 4 %.
 * Hong Kong and Macau carry mainland visitors paying in CNY.
 */
export const REGION_WEIGHTS_BPS: Readonly<Partial<Record<Region, number>>> = {
  "CN-GD": 1_100,
  "CN-JS": 700,
  "CN-ZJ": 630,
  "CN-SD": 600,
  "CN-SC": 520,
  "CN-HA": 500,
  "CN-HE": 420,
  "CN-HB": 400,
  "CN-HN": 400,
  "CN-SH": 400,
  "CN-BJ": 370,
  "CN-FJ": 360,
  "CN-AH": 360,
  "CN-GX": 300,
  "CN-YN": 280,
  "CN-JX": 280,
  "CN-LN": 270,
  "CN-SN": 260,
  "CN-CQ": 250,
  "CN-GZ": 230,
  "CN-SX": 210,
  "CN-HL": 190,
  "CN-TJ": 160,
  "CN-NM": 150,
  "CN-JL": 150,
  "CN-XJ": 150,
  "CN-GS": 140,
  "CN-HI": 80,
  "CN-NX": 50,
  "CN-QH": 40,
  "CN-XZ": 20,
  "CN-HK": 20,
  "CN-MO": 10,
};

export const CHANNEL_MIXES: Readonly<
  Record<ChannelMixName, Readonly<Partial<Record<Channel, number>>>>
> = {
  // The payer scans the merchant's code in the app, or the merchant's till scans the payer's.
  in_store: { app: 68, pos: 27, mini_program: 5 },
  online: { app: 45, mini_program: 30, h5: 15, web: 10 },
  bills: { app: 80, mini_program: 12, h5: 5, web: 3 },
  transfer: { app: 96, web: 4 },
};

/**
 * Payment methods in percent. A card method drawn for a user without cards becomes `balance`;
 * card repayment, investments and transfers never draw credit.
 */
export const METHOD_MIXES: Readonly<
  Record<MethodMixName, Readonly<Partial<Record<PaymentMethod, number>>>>
> = {
  spend: { balance: 35, debit_card: 28, credit_line: 20, credit_card: 12, bank_account: 5 },
  bills: { balance: 45, debit_card: 30, credit_card: 10, credit_line: 10, bank_account: 5 },
  transfer: { balance: 65, debit_card: 30, bank_account: 5 },
  repay: { debit_card: 60, balance: 30, bank_account: 10 },
  invest: { balance: 50, debit_card: 40, bank_account: 10 },
  topup: { debit_card: 85, bank_account: 15 },
};

/**
 * Relative payment density per local hour 0–23 (Beijing time). Values are read at each hour's
 * midpoint and interpolated linearly in between, so the curve has no steps at the hour.
 */
export const HOURLY_WEIGHTS: readonly number[] = [
  30, 18, 10, 7, 6, 8, 20, 45, 70, 75, 80, 105, 130, 110, 90, 85, 85, 100, 125, 135, 125, 110, 85,
  55,
];

/** The user and merchant populations. */
export const POPULATION_MODEL = {
  usersDefault: 1_000_000,
  merchantsDefault: 200_000,
  /**
   * User rank = floor(users · u^k) with u uniform: rank r's share falls like r^(1/k - 1), and the
   * top fraction f of users makes f^(1/k) of the payments (k = 3: the top 1 % make 21.5 %).
   */
  userSkewExponent: 3,
  /** Merchant within its (scenario, region) group = floor(count · u^k): a milder head. */
  merchantSkewExponent: 2,
  /** Share of payments a user makes outside the home region, in bps. */
  travelBps: 400,
  /** Segment rates in bps; student and senior exclude each other, the others are independent. */
  segmentBps: { new_user: 300, student: 700, senior: 900, vip: 200 },
  /** Users with 1, 2, 3 devices, in percent. */
  devicesPercent: [70, 22, 8],
  /** Users with 0, 1, 2, 3, 4 cards, in percent. */
  cardsPercent: [18, 42, 25, 10, 5],
  /** Share of payments made from a user's first device or with the first card, in bps. */
  primaryDeviceBps: 8_500,
  primaryCardBps: 7_000,
} as const;
