/**
 * What a campaign's display text promises, read from the Chinese and English phrasings
 * operators write: "立减0.5元", "满100减10", "最高减30元", "85折", "8.5折", "20% off",
 * "5 yuan off". It reads numbers only; it does not try to understand the sentence.
 */
import { type Currency, currencyExponent } from "../money.ts";

export interface DisplayPromise {
  /** The largest amount off the text names, in minor units. */
  readonly amountOffMinorMax?: number;
  /** The largest share off the text names, in basis points. */
  readonly rateOffBpsMax?: number;
  /** Whether the text says "up to" (最高, up to): amounts are ceilings, not promises on every payment. */
  readonly upTo: boolean;
  /** Whether the text speaks of government money (政府, 补贴, 消费券, government, subsidy). */
  readonly mentionsGovernment: boolean;
}

/** Display texts are short (40 + 400 characters); this bounds the work on anything longer. */
const DISPLAY_TEXT_LENGTH_MAX = 1_000;

const AMOUNT_OFF_PATTERNS: readonly RegExp[] = [
  /(?:立减|减|省|返|最高)\s*(\d+(?:\.\d+)?)\s*元?/g,
  /(\d+(?:\.\d+)?)\s*(?:yuan|元|CNY|RMB)\s*off/gi,
  /[¥￥]\s*(\d+(?:\.\d+)?)\s*off/gi,
];
const PERCENT_PATTERN = /(\d+(?:\.\d+)?)\s*[%％]/g;
/** "85折" is 15 % off and "8折" or "8.5折" is 20 % or 15 % off. */
const ZHE_PATTERN = /(\d{1,2}(?:\.\d)?)\s*折/g;
const UP_TO_PATTERN = /最高|最多|至多|up to/i;
const GOVERNMENT_PATTERN = /政府|补贴|消费券|government|subsid/i;

export function readDisplayPromise(text: string, currency: Currency): DisplayPromise {
  const bounded = text.slice(0, DISPLAY_TEXT_LENGTH_MAX);
  const scale = 10 ** currencyExponent(currency);
  let amountOffMinorMax: number | undefined;
  for (const pattern of AMOUNT_OFF_PATTERNS) {
    for (const match of bounded.matchAll(pattern)) {
      const amountMinor = Math.round(Number(match[1]) * scale);
      if (amountOffMinorMax === undefined || amountMinor > amountOffMinorMax)
        amountOffMinorMax = amountMinor;
    }
  }
  let rateOffBpsMax: number | undefined;
  const noteRate = (bps: number) => {
    if (bps > 0 && bps <= 10_000 && (rateOffBpsMax === undefined || bps > rateOffBpsMax))
      rateOffBpsMax = bps;
  };
  for (const match of bounded.matchAll(PERCENT_PATTERN))
    noteRate(Math.round(Number(match[1]) * 100));
  for (const match of bounded.matchAll(ZHE_PATTERN)) {
    const value = Number(match[1]);
    noteRate(Math.round(value < 10 ? (10 - value) * 1_000 : (100 - value) * 100));
  }
  return {
    ...(amountOffMinorMax === undefined ? {} : { amountOffMinorMax }),
    ...(rateOffBpsMax === undefined ? {} : { rateOffBpsMax }),
    upTo: UP_TO_PATTERN.test(bounded),
    mentionsGovernment: GOVERNMENT_PATTERN.test(bounded),
  };
}
