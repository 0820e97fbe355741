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
  /** The buckets in (newestBucket - buckets, newestBucket]: what a query at the newest returns. */
  private totalAmount = 0;
  private totalCount = 0;
  /**
   * The window at a later bucket than the newest, kept for the checks that run between events
   * (ten times a second while grants come once a second or less): the buckets in
   * (viewBucket - buckets, newestBucket]. NaN when it must be rebuilt from the totals.
   */
  private viewBucket = Number.NaN;
  private viewAmount = 0;
  private viewCount = 0;

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

  /**
   * Adds one event at `atMs`; false when it is older than the window and was dropped. O(1)
   * amortised: moving the window forward retires each bucket it passes once.
   */
  add(atMs: number, amountMinor: number, count = 1): boolean {
    const bucket = Math.floor(atMs / this.bucketMs);
    if (bucket > this.newestBucket) this.advanceTo(bucket);
    const buckets = this.slots.length;
    if (bucket <= this.newestBucket - buckets) return false;
    const slot = bucket % buckets;
    if (this.slots[slot] !== bucket) {
      // The slot's old bucket is at least a window older than this one: already retired.
      this.slots[slot] = bucket;
      this.amounts[slot] = 0;
      this.counts[slot] = 0;
    }
    this.amounts[slot]! += amountMinor;
    this.counts[slot]! += count;
    this.totalAmount += amountMinor;
    this.totalCount += count;
    if (bucket > this.viewBucket - buckets) {
      this.viewAmount += amountMinor;
      this.viewCount += count;
    }
    return true;
  }

  /**
   * What was added in the window ending at `nowMs` (the buckets of the last `windowMs`, the
   * current one included): a bucket's events count whole until the bucket leaves the window.
   *
   * O(1) amortised while queries move forward, as a guard's checks do; a query behind the newest
   * event scans the ring. Sums are kept running, so they equal a fresh scan's exactly as long as
   * amounts are whole numbers (minor units) and a window's sum stays below 2^53.
   */
  sum(nowMs: number): WindowSum {
    const current = Math.floor(nowMs / this.bucketMs);
    const newest = this.newestBucket;
    if (current === newest) return { amountMinor: this.totalAmount, count: this.totalCount };
    if (current < newest) return this.scan(current);
    if (!(this.viewBucket <= current)) {
      // No view yet, or one later than this query (queries went back in time): start afresh.
      this.viewBucket = newest;
      this.viewAmount = this.totalAmount;
      this.viewCount = this.totalCount;
    }
    this.moveView(current);
    return { amountMinor: this.viewAmount, count: this.viewCount };
  }

  /** The newest bucket becomes `bucket`: the buckets it leaves behind leave the totals. */
  private advanceTo(bucket: number): void {
    const buckets = this.slots.length;
    const from = this.newestBucket;
    if (bucket - from >= buckets) {
      this.totalAmount = 0;
      this.totalCount = 0;
    } else {
      // Buckets (from - buckets, bucket - buckets] leave; each is in its slot or was never used.
      for (let leaving = from - buckets + 1; leaving <= bucket - buckets; leaving += 1) {
        const slot = leaving % buckets;
        if (this.slots[slot] === leaving) {
          this.totalAmount -= this.amounts[slot]!;
          this.totalCount -= this.counts[slot]!;
        }
      }
    }
    this.newestBucket = bucket;
    // The view's upper end was the old newest bucket: it is rebuilt on the next query.
    this.viewBucket = Number.NaN;
  }

  /** Moves the view forward to `current` (at or after both it and the newest bucket). */
  private moveView(current: number): void {
    const buckets = this.slots.length;
    const from = this.viewBucket;
    if (current - from >= buckets) {
      this.viewAmount = 0;
      this.viewCount = 0;
    } else {
      const last = Math.min(current - buckets, this.newestBucket);
      for (let leaving = from - buckets + 1; leaving <= last; leaving += 1) {
        const slot = leaving % buckets;
        if (this.slots[slot] === leaving) {
          this.viewAmount -= this.amounts[slot]!;
          this.viewCount -= this.counts[slot]!;
        }
      }
    }
    this.viewBucket = current;
  }

  /** The straightforward sum over the ring, for a query behind the newest event. */
  private scan(current: number): WindowSum {
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
