/**
 * Money is an integer number of minor units (fen, cents, fils) with an explicit currency.
 * Rates are integer basis points (1 bps = 0.01 %). No float ever holds money: see
 * docs/adr/0001-money-as-integer-minor-units.md for the rounding and allocation rules.
 */

/** Minor-unit exponent of each supported currency (ISO 4217). */
export const CURRENCY_EXPONENTS = {
  CNY: 2,
  HKD: 2,
  USD: 2,
  EUR: 2,
  SGD: 2,
  JPY: 0,
  KWD: 3,
} as const satisfies Record<string, number>;

export type Currency = keyof typeof CURRENCY_EXPONENTS;

export const CURRENCIES = Object.keys(CURRENCY_EXPONENTS) as readonly Currency[];

/** 100 % in basis points. */
export const BPS_PER_UNIT = 10_000;

/**
 * The largest amount any single field may hold: 10^15 minor units. It leaves headroom for
 * sums of a few thousand amounts before `Number.MAX_SAFE_INTEGER` (about 9 * 10^15); larger
 * aggregates use bigint (see `sumMinor`).
 */
export const AMOUNT_MINOR_MAX = 1_000_000_000_000_000;

export function isCurrency(value: unknown): value is Currency {
  return typeof value === "string" && Object.hasOwn(CURRENCY_EXPONENTS, value);
}

export function currencyExponent(currency: Currency): number {
  return CURRENCY_EXPONENTS[currency];
}

/** True for a non-negative safe integer no larger than `AMOUNT_MINOR_MAX`. */
export function isAmountMinor(value: unknown): value is number {
  return (
    typeof value === "number" &&
    Number.isSafeInteger(value) &&
    value >= 0 &&
    value <= AMOUNT_MINOR_MAX
  );
}

/**
 * `amountMinor * rateBps / 10_000`, rounded down. Discounts round down so that a rate never
 * gives away more than it says. The product is exact in float arithmetic while it stays below
 * 2^53; beyond that the computation falls back to bigint.
 */
export function applyRateBpsFloor(amountMinor: number, rateBps: number): number {
  const product = amountMinor * rateBps;
  if (product <= Number.MAX_SAFE_INTEGER) return Math.floor(product / BPS_PER_UNIT);
  return Number((BigInt(amountMinor) * BigInt(rateBps)) / BigInt(BPS_PER_UNIT));
}

/** Sum of amounts as a bigint, exact however many there are. */
export function sumMinor(amountsMinor: Iterable<number>): bigint {
  let total = 0n;
  for (const amount of amountsMinor) total += BigInt(amount);
  return total;
}

/**
 * Splits `totalMinor` into integer parts proportional to `weights` (largest remainder method).
 * Every part is the floor or the ceiling of its exact share, the parts sum to `totalMinor`,
 * and ties in the remainder go to the earlier index, so the split is deterministic.
 * Weights are non-negative safe integers (usually amounts in minor units); if all are zero,
 * every part is zero and `totalMinor` must be zero too.
 */
export function allocateProportionally(totalMinor: number, weights: readonly number[]): number[] {
  if (!isAmountMinor(totalMinor)) throw new RangeError(`total is not an amount: ${totalMinor}`);
  let weightSum = 0n;
  for (const weight of weights) {
    if (!Number.isSafeInteger(weight) || weight < 0) {
      throw new RangeError(`weight is not a non-negative integer: ${weight}`);
    }
    weightSum += BigInt(weight);
  }
  if (weightSum === 0n) {
    if (totalMinor !== 0)
      throw new RangeError("cannot allocate a non-zero total over zero weights");
    return weights.map(() => 0);
  }
  const total = BigInt(totalMinor);
  const parts: bigint[] = [];
  const remainders: bigint[] = [];
  let allocated = 0n;
  for (const weight of weights) {
    const exact = total * BigInt(weight);
    const part = exact / weightSum;
    parts.push(part);
    remainders.push(exact % weightSum);
    allocated += part;
  }
  const order = weights.map((_, index) => index);
  // Largest remainder first; equal remainders keep index order (Array.prototype.sort is stable).
  order.sort((a, b) => {
    const left = remainders[a]!;
    const right = remainders[b]!;
    return left === right ? 0 : left > right ? -1 : 1;
  });
  let leftover = total - allocated;
  for (const index of order) {
    if (leftover === 0n) break;
    parts[index]! += 1n;
    leftover -= 1n;
  }
  return parts.map(Number);
}

/** Renders minor units as a decimal string in major units: `formatMinor(1234, "CNY")` is "12.34". */
export function formatMinor(amountMinor: number, currency: Currency): string {
  const exponent = currencyExponent(currency);
  const sign = amountMinor < 0 ? "-" : "";
  const digits = Math.abs(amountMinor)
    .toString()
    .padStart(exponent + 1, "0");
  if (exponent === 0) return sign + digits;
  return `${sign}${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
}

/**
 * Parses a decimal string in major units ("12.34") into minor units. Returns undefined for
 * anything that is not an exact amount in that currency: more decimals than the currency's
 * exponent would silently round, so they are refused instead.
 */
export function parseMajorToMinor(text: string, currency: Currency): number | undefined {
  const match = /^(-?)(\d{1,16})(?:\.(\d+))?$/.exec(text.trim());
  if (match === null) return undefined;
  const [, sign, whole, fraction = ""] = match;
  const exponent = currencyExponent(currency);
  if (fraction.length > exponent) return undefined;
  const minor = Number(whole! + fraction.padEnd(exponent, "0"));
  if (!Number.isSafeInteger(minor) || minor > AMOUNT_MINOR_MAX) return undefined;
  return sign === "-" ? -minor : minor;
}
