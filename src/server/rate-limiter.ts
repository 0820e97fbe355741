/**
 * Token buckets per key (an API token's id, or a client address before authentication): each key
 * may send `perSecond` requests on average and `burst` at once. The map is bounded: past
 * `keysMax` keys the least recently refilled are forgotten, which only ever gives a forgotten key
 * a full bucket again — never less than its due. Time is injected.
 */
export interface RateLimit {
  readonly perSecond: number;
  readonly burst: number;
}

interface Bucket {
  tokens: number;
  refilledAtMs: number;
}

export const RATE_LIMITER_KEYS_MAX = 100_000;

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly nowMs: () => number,
    private readonly keysMax = RATE_LIMITER_KEYS_MAX,
  ) {}

  /** Takes one request from `key`'s bucket: 0 when allowed, else the seconds until one is. */
  take(key: string, limit: RateLimit): number {
    const nowMs = this.nowMs();
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      if (this.buckets.size >= this.keysMax) {
        const oldest = this.buckets.keys().next().value;
        if (oldest !== undefined) this.buckets.delete(oldest);
      }
      bucket = { tokens: limit.burst, refilledAtMs: nowMs };
    } else {
      // Re-inserted on every refill, so the map's order is least recently refilled first.
      this.buckets.delete(key);
      const elapsedS = Math.max(0, nowMs - bucket.refilledAtMs) / 1000;
      bucket.tokens = Math.min(limit.burst, bucket.tokens + elapsedS * limit.perSecond);
      bucket.refilledAtMs = nowMs;
    }
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - bucket.tokens) / limit.perSecond);
  }
}
