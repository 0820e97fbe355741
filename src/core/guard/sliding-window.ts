/**
 * Sums of money and counts over the last `windowMs` of an injected clock, in a ring of fixed
 * buckets: constant memory however many events arrive, and the same answers in real time and in
 * a replay, since time is whatever the caller says. Events are placed by their own instant; one
 * older than the window is dropped (it cannot count any more), one in the future of the newest
 * seen moves the window forward.
 */

export interface WindowSum {
  /** Money in minor units. */
  readonly amountMinor: number;
  readonly count: number;
}

export const SLIDING_WINDOW_LIMITS = {
  /** Buckets per window: resolution against memory. */
  bucketsMax: 3_600,
} as const;

export class SlidingWindow {
  private readonly amounts: Float64Array;
  private readonly counts: Float64Array;
  /** The bucket number (instant / bucketMs) each slot holds; -1 for none. */
  private readonly slots: Float64Array;
  private readonly bucketMs: number;
  private newestBucket = Number.NEGATIVE_INFINITY;

  constructor(
    readonly windowMs: number,
    buckets: number,
  ) {
    if (
      !Number.isSafeInteger(buckets) ||
      buckets < 1 ||
      buckets > SLIDING_WINDOW_LIMITS.bucketsMax
    ) {
      throw new RangeError(
        `buckets ${buckets} is not within 1..${SLIDING_WINDOW_LIMITS.bucketsMax}`,
      );
    }
    if (!Number.isSafeInteger(windowMs) || windowMs < buckets || windowMs % buckets !== 0) {
      throw new RangeError(`windowMs ${windowMs} is not a whole multiple of ${buckets} buckets`);
    }
    this.bucketMs = windowMs / buckets;
    this.amounts = new Float64Array(buckets);
    this.counts = new Float64Array(buckets);
    this.slots = new Float64Array(buckets).fill(-1);
  }

  /** Adds one event at `atMs`; false when it is older than the window and was dropped. */
  add(atMs: number, amountMinor: number, count = 1): boolean {
    const bucket = Math.floor(atMs / this.bucketMs);
    if (bucket > this.newestBucket) this.newestBucket = bucket;
    if (bucket <= this.newestBucket - this.slots.length) return false;
    const slot = bucket % this.slots.length;
    if (this.slots[slot] !== bucket) {
      this.slots[slot] = bucket;
      this.amounts[slot] = 0;
      this.counts[slot] = 0;
    }
    this.amounts[slot]! += amountMinor;
    this.counts[slot]! += count;
    return true;
  }

  /**
   * What was added in the window ending at `nowMs` (the buckets of the last `windowMs`, the
   * current one included): a bucket's events count whole until the bucket leaves the window.
   */
  sum(nowMs: number): WindowSum {
    const current = Math.floor(nowMs / this.bucketMs);
    const oldest = current - this.slots.length;
    let amountMinor = 0;
    let count = 0;
    for (let slot = 0; slot < this.slots.length; slot += 1) {
      const bucket = this.slots[slot]!;
      if (bucket > oldest && bucket <= current) {
        amountMinor += this.amounts[slot]!;
        count += this.counts[slot]!;
      }
    }
    return { amountMinor, count };
  }
}

/** The three windows monitors read (DESIGN §4.5): 1 s at 100 ms, 10 s and 60 s at 1 s. */
export class GuardWindows {
  readonly oneSecond = new SlidingWindow(1_000, 10);
  readonly tenSeconds = new SlidingWindow(10_000, 10);
  readonly oneMinute = new SlidingWindow(60_000, 60);

  add(atMs: number, amountMinor: number, count = 1): void {
    this.oneSecond.add(atMs, amountMinor, count);
    this.tenSeconds.add(atMs, amountMinor, count);
    this.oneMinute.add(atMs, amountMinor, count);
  }
}
