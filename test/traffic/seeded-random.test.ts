import { describe, expect, it } from "vitest";
import { SeededRandom } from "../../src/traffic/seeded-random.ts";

/** sfc32 exactly as its author's reference C code, transcribed without any of our shortcuts. */
function referenceSfc32(a: number, b: number, c: number, d: number): () => number {
  let [sa, sb, sc, sd] = [a >>> 0, b >>> 0, c >>> 0, d >>> 0];
  return () => {
    const t = (sa + sb + sd) >>> 0;
    sd = (sd + 1) >>> 0;
    sa = (sb ^ (sb >>> 9)) >>> 0;
    sb = (sc + ((sc << 3) >>> 0)) >>> 0;
    sc = ((((sc << 21) | (sc >>> 11)) >>> 0) + t) >>> 0;
    return t;
  };
}

describe("SeededRandom", () => {
  it("produces the sfc32 reference sequence from a raw state", () => {
    const states = [
      [0, 0, 0, 0],
      [1, 2, 3, 4],
      [0xdeadbeef, 0x12345678, 0xffffffff, 0x80000000],
    ] as const;
    for (const [a, b, c, d] of states) {
      const ours = SeededRandom.fromState(a, b, c, d);
      const reference = referenceSfc32(a, b, c, d);
      for (let index = 0; index < 1_000; index += 1) expect(ours.nextUint32()).toBe(reference());
    }
  });

  it("repeats itself for the same seed and stream, and differs across seeds and streams", () => {
    const draw = (seed: number, stream: number) => {
      const random = new SeededRandom(seed, stream);
      return Array.from({ length: 8 }, () => random.nextUint32());
    };
    expect(draw(20250116, 0)).toEqual(draw(20250116, 0));
    expect(draw(20250116, 0)).not.toEqual(draw(20250117, 0));
    expect(draw(20250116, 0)).not.toEqual(draw(20250116, 1));
    expect(draw(0, 0)).not.toEqual(draw(1, 0));
  });

  it("keeps floats in their documented intervals and roughly uniform", () => {
    const random = new SeededRandom(7);
    const buckets = new Array<number>(10).fill(0);
    for (let index = 0; index < 100_000; index += 1) {
      const closedOpen = random.nextFloat();
      const openClosed = random.nextFloatOpenZero();
      expect(closedOpen >= 0 && closedOpen < 1).toBe(true);
      expect(openClosed > 0 && openClosed <= 1).toBe(true);
      buckets[Math.floor(closedOpen * 10)]! += 1;
    }
    for (const count of buckets) expect(Math.abs(count - 10_000)).toBeLessThan(500);
  });

  it("refuses seeds outside 32 bits", () => {
    expect(() => new SeededRandom(-1)).toThrow(RangeError);
    expect(() => new SeededRandom(2 ** 32)).toThrow(RangeError);
    expect(() => new SeededRandom(1.5)).toThrow(RangeError);
  });
});
