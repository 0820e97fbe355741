/**
 * Log-normal payment amounts from a precomputed quantile table. Box–Muller would cost a
 * logarithm, a square root, a cosine and an exponential per payment; a table of 65,536
 * quantiles costs one array read, and 65,536 distinct amounts per scenario are far more than any
 * statistic over the traffic can tell apart. The price is that the extreme tails are cut at the
 * 1-in-131,072 quantiles (about ±4.3 standard deviations of ln(amount)).
 */

/** log2 of the table size: a draw's top 16 bits pick the quantile. */
const TABLE_BITS = 16;
export const AMOUNT_QUANTILE_COUNT = 1 << TABLE_BITS;

export interface LogNormalParameters {
  /** e^mu, in minor units. */
  readonly medianMinor: number;
  /** Standard deviation of ln(amount). */
  readonly sigma: number;
  readonly amountMinorMin: number;
  readonly amountMinorMax: number;
}

export class AmountQuantiles {
  private readonly table: Int32Array;

  constructor(parameters: LogNormalParameters) {
    const { medianMinor, sigma, amountMinorMin, amountMinorMax } = parameters;
    if (
      !(medianMinor > 0) ||
      !(sigma >= 0) ||
      !(amountMinorMin >= 1) ||
      amountMinorMax > 2 ** 31 - 1
    ) {
      throw new RangeError("log-normal parameters out of range");
    }
    this.table = new Int32Array(AMOUNT_QUANTILE_COUNT);
    for (let index = 0; index < AMOUNT_QUANTILE_COUNT; index += 1) {
      // Quantiles at the midpoints of equal-probability cells: each cell stands for 1/65,536.
      const z = inverseStandardNormal((index + 0.5) / AMOUNT_QUANTILE_COUNT);
      const amount = Math.round(medianMinor * Math.exp(sigma * z));
      this.table[index] = Math.min(amountMinorMax, Math.max(amountMinorMin, amount));
    }
  }

  /** The amount for a uniform 32-bit draw. */
  sample(uint32: number): number {
    return this.table[uint32 >>> (32 - TABLE_BITS)]!;
  }
}

// Acklam's rational approximation of the standard normal quantile; relative error below
// 1.2e-9, which is far finer than rounding to whole fen.
const A = [
  -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
  2.506628277459239,
];
const B = [
  -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572,
];
const C = [
  -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734,
  4.374664141464968, 2.938163982698783,
];
const D = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
const P_LOW = 0.02425;

/** z such that Φ(z) = p, for p in (0, 1). */
export function inverseStandardNormal(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`probability must lie in (0, 1), got ${p}`);
  const [a0, a1, a2, a3, a4, a5] = A as [number, number, number, number, number, number];
  const [b0, b1, b2, b3, b4] = B as [number, number, number, number, number];
  const [c0, c1, c2, c3, c4, c5] = C as [number, number, number, number, number, number];
  const [d0, d1, d2, d3] = D as [number, number, number, number];
  if (p < P_LOW) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) /
      ((((d0 * q + d1) * q + d2) * q + d3) * q + 1)
    );
  }
  if (p > 1 - P_LOW) {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    return (
      -(((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) /
      ((((d0 * q + d1) * q + d2) * q + d3) * q + 1)
    );
  }
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a0 * r + a1) * r + a2) * r + a3) * r + a4) * r + a5) * q) /
    (((((b0 * r + b1) * r + b2) * r + b3) * r + b4) * r + 1)
  );
}
