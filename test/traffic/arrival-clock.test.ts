import { describe, expect, it } from "vitest";
import { ArrivalClock, curveWeight } from "../../src/traffic/arrival-clock.ts";
import { SeededRandom } from "../../src/traffic/seeded-random.ts";
import { HOURLY_WEIGHTS } from "../../src/traffic/traffic-model.ts";

const BEIJING_OFFSET_MS = 8 * 3_600_000;
/** 2025-01-16T00:00:00+08:00 */
const MIDNIGHT_MS = Date.UTC(2025, 0, 15, 16, 0, 0);

function arrivals(startMs: number, seconds: number, total: number, seed = 1): number[] {
  const clock = new ArrivalClock({
    startMs,
    seconds,
    total,
    localOffsetMs: BEIJING_OFFSET_MS,
    hourlyWeights: HOURLY_WEIGHTS,
  });
  const random = new SeededRandom(seed);
  return Array.from({ length: total }, () => clock.next(random));
}

describe("ArrivalClock", () => {
  it("draws exactly the total, in order, inside the window", () => {
    const startMs = 1_737_009_600_123;
    const times = arrivals(startMs, 60, 50_000);
    expect(times).toHaveLength(50_000);
    for (let index = 1; index < times.length; index += 1)
      expect(times[index]!).toBeGreaterThanOrEqual(times[index - 1]!);
    expect(times[0]!).toBeGreaterThanOrEqual(startMs);
    expect(times.at(-1)!).toBeLessThan(startMs + 60_000);
  });

  it("refuses to draw more than the total", () => {
    const clock = new ArrivalClock({
      startMs: 0,
      seconds: 1,
      total: 1,
      localOffsetMs: 0,
      hourlyWeights: HOURLY_WEIGHTS,
    });
    const random = new SeededRandom(1);
    clock.next(random);
    expect(() => clock.next(random)).toThrow(RangeError);
  });

  it("follows the daily curve over a day", () => {
    const total = 240_000;
    const times = arrivals(MIDNIGHT_MS, 86_400, total);
    const perHour = new Array<number>(24).fill(0);
    for (const atMs of times) perHour[Math.floor((atMs - MIDNIGHT_MS) / 3_600_000)]! += 1;
    // Expected share of each hour: the interpolated curve integrated over the hour.
    const expected = new Array<number>(24).fill(0);
    let sum = 0;
    for (let second = 0; second < 86_400; second += 1) {
      const weight = curveWeight(HOURLY_WEIGHTS, second + 0.5);
      expected[Math.floor(second / 3_600)]! += weight;
      sum += weight;
    }
    perHour.forEach((count, hour) => {
      const mean = (expected[hour]! / sum) * total;
      expect(Math.abs(count - mean)).toBeLessThan(5 * Math.sqrt(mean));
    });
    // Lunch and evening peaks, night trough.
    expect(perHour[12]!).toBeGreaterThan(perHour[3]! * 10);
    expect(perHour[19]!).toBeGreaterThan(perHour[15]!);
  });

  it("varies per-second counts like a Poisson process instead of spacing arrivals evenly", () => {
    const times = arrivals(MIDNIGHT_MS + 14 * 3_600_000, 600, 600_000);
    const perSecond = new Array<number>(600).fill(0);
    for (const atMs of times)
      perSecond[Math.floor((atMs - MIDNIGHT_MS - 14 * 3_600_000) / 1_000)]! += 1;
    const mean = perSecond.reduce((a, b) => a + b, 0) / perSecond.length;
    // Detrend with a moving average: the curve itself drifts slowly over ten minutes.
    let squares = 0;
    for (let second = 5; second < 595; second += 1) {
      const local = perSecond.slice(second - 5, second + 6).reduce((a, b) => a + b, 0) / 11;
      squares += (perSecond[second]! - local) ** 2;
    }
    const variance = (squares / 590) * (11 / 10);
    expect(variance / mean).toBeGreaterThan(0.7);
    expect(variance / mean).toBeLessThan(1.3);
  });

  it("interpolates the curve between hour midpoints and wraps at midnight", () => {
    expect(curveWeight(HOURLY_WEIGHTS, 12.5 * 3_600)).toBe(HOURLY_WEIGHTS[12]);
    expect(curveWeight(HOURLY_WEIGHTS, 13 * 3_600)).toBe(
      (HOURLY_WEIGHTS[12]! + HOURLY_WEIGHTS[13]!) / 2,
    );
    expect(curveWeight(HOURLY_WEIGHTS, 0)).toBe((HOURLY_WEIGHTS[23]! + HOURLY_WEIGHTS[0]!) / 2);
  });
});
