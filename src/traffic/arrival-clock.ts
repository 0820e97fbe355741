/**
 * Arrival times on a virtual clock. Given the window and the exact number of payments, arrivals
 * are a Poisson process conditioned on its count: each payment's time is an independent draw
 * from the daily curve's density over the window, and the draws come out already sorted.
 *
 * Sorted uniforms are produced one at a time without storing them (each next one is
 * 1 - (1 - previous)·V^(1/remaining), V uniform), then mapped through the inverse of the curve's
 * cumulative weight with a pointer that only moves forward. Per-second counts therefore vary
 * as real traffic does (about ±√n), while the total is exact and times never go backwards.
 */
import type { SeededRandom } from "./seeded-random.ts";

const MS_PER_SECOND = 1_000;
const SECONDS_PER_HOUR = 3_600;
const SECONDS_PER_DAY = 86_400;

export interface ArrivalClockOptions {
  readonly startMs: number;
  readonly seconds: number;
  readonly total: number;
  /** Offset of the curve's local time from UTC at the start of the window. */
  readonly localOffsetMs: number;
  /**
   * Relative density per local hour, 24 finite numbers of at least 0, giving the window some
   * weight (resolveTrafficOptions checks both, with codes).
   */
  readonly hourlyWeights: readonly number[];
}

export class ArrivalClock {
  private readonly startMs: number;
  private readonly seconds: number;
  /** cumulative[s] = total curve weight of the seconds before s; cumulative[seconds] = all. */
  private readonly cumulative: Float64Array;
  private remainingCount: number;
  /** 1 - the last sorted uniform. */
  private remainingFraction = 1;
  private second = 0;
  private lastAtMs: number;

  constructor(options: ArrivalClockOptions) {
    const { startMs, seconds, total, localOffsetMs, hourlyWeights } = options;
    if (
      hourlyWeights.length !== 24 ||
      hourlyWeights.some((weight) => !(Number.isFinite(weight) && weight >= 0))
    ) {
      throw new RangeError("the daily curve needs 24 finite hourly weights of at least 0");
    }
    this.startMs = startMs;
    this.seconds = seconds;
    this.remainingCount = total;
    this.lastAtMs = startMs;
    this.cumulative = new Float64Array(seconds + 1);
    const startLocalSeconds = (startMs + localOffsetMs) / MS_PER_SECOND;
    let sum = 0;
    for (let second = 0; second < seconds; second += 1) {
      const secondOfDay = mod(startLocalSeconds + second + 0.5, SECONDS_PER_DAY);
      sum += curveWeight(hourlyWeights, secondOfDay);
      this.cumulative[second + 1] = sum;
    }
    // A window of zero weight has no density to draw from (every time would be NaN).
    if (!(sum > 0)) throw new RangeError("the daily curve gives the window no weight");
  }

  /** The next arrival, in epoch milliseconds: never earlier than the previous one. */
  next(random: SeededRandom): number {
    if (this.remainingCount <= 0) throw new RangeError("every arrival has been drawn");
    // V^(1/k) = exp(ln V / k) with V in (0, 1], so the fraction never becomes NaN or grows.
    this.remainingFraction *= Math.exp(Math.log(random.nextFloatOpenZero()) / this.remainingCount);
    this.remainingCount -= 1;
    const cumulative = this.cumulative;
    const target = (1 - this.remainingFraction) * cumulative[this.seconds]!;
    let second = this.second;
    while (second < this.seconds - 1 && cumulative[second + 1]! <= target) second += 1;
    this.second = second;
    const before = cumulative[second]!;
    const fraction = (target - before) / (cumulative[second + 1]! - before);
    const offsetMs = Math.min(MS_PER_SECOND - 1, Math.max(0, Math.floor(fraction * MS_PER_SECOND)));
    const atMs = this.startMs + second * MS_PER_SECOND + offsetMs;
    // Rounding can only ever tie, never reverse: the guard makes that an invariant, not a hope.
    if (atMs > this.lastAtMs) this.lastAtMs = atMs;
    return this.lastAtMs;
  }
}

/**
 * Whether the curve is above 0 anywhere in the window, as the clock samples it (each second at
 * its middle). Weights of 0 make stretches of zero density; a window inside one cannot hold a
 * payment. Stops at the first second with weight: with no zero weights, that is the first.
 */
export function curveHasWeight(
  options: Pick<ArrivalClockOptions, "startMs" | "seconds" | "localOffsetMs" | "hourlyWeights">,
): boolean {
  const startLocalSeconds = (options.startMs + options.localOffsetMs) / MS_PER_SECOND;
  for (let second = 0; second < options.seconds; second += 1) {
    const secondOfDay = mod(startLocalSeconds + second + 0.5, SECONDS_PER_DAY);
    if (curveWeight(options.hourlyWeights, secondOfDay) > 0) return true;
  }
  return false;
}

/** The curve at a local second of the day: hourly weights at hour midpoints, linear between. */
export function curveWeight(hourlyWeights: readonly number[], secondOfDay: number): number {
  const hours = secondOfDay / SECONDS_PER_HOUR - 0.5;
  const lower = Math.floor(hours);
  const fraction = hours - lower;
  const from = hourlyWeights[mod(lower, 24)]!;
  const to = hourlyWeights[mod(lower + 1, 24)]!;
  return from + (to - from) * fraction;
}

function mod(value: number, modulus: number): number {
  return ((value % modulus) + modulus) % modulus;
}
