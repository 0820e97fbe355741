/**
 * The only source of randomness in synthetic traffic: a seeded sfc32 generator.
 *
 * Why sfc32: it needs only 32-bit additions, shifts and xors, which V8 compiles to plain integer
 * instructions (no BigInt, no 64-bit multiply emulation, unlike xoshiro128** or PCG's
 * Math.imul-heavy steps); it passes PractRand and BigCrush; its 128-bit state with a counter
 * guarantees a period of at least 2^32 for every seed; and it is a well-known reference
 * algorithm, so another implementation can reproduce a run from the seed alone. Not for secrets.
 */

const TWO_POW_32 = 4_294_967_296;
/** Outputs discarded after seeding, as the algorithm's author recommends, to mix the state. */
const WARM_UP_ROUNDS = 12;

export class SeededRandom {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /**
   * `seed` is a 32-bit unsigned integer; `stream` separates independent sequences drawn from one
   * seed (the population and the payments use different streams, so changing the window does not
   * change who the users are).
   */
  constructor(seed: number, stream = 0) {
    if (!Number.isInteger(seed) || seed < 0 || seed >= TWO_POW_32) {
      throw new RangeError(`seed must be an integer 0..${TWO_POW_32 - 1}, got ${seed}`);
    }
    // splitmix32 spreads a small seed (0, 1, 2 …) over all 128 bits of state.
    let mix = (seed ^ Math.imul(stream + 1, 0x9e3779b9)) | 0;
    const next = (): number => {
      mix = (mix + 0x9e3779b9) | 0;
      let z = mix;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) | 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let round = 0; round < WARM_UP_ROUNDS; round += 1) this.nextUint32();
  }

  /** A generator at a given raw state, so a test can compare with a reference implementation. */
  static fromState(a: number, b: number, c: number, d: number): SeededRandom {
    const random = new SeededRandom(0);
    random.a = a | 0;
    random.b = b | 0;
    random.c = c | 0;
    random.d = d | 0;
    return random;
  }

  /** A uniformly distributed integer in [0, 2^32). */
  nextUint32(): number {
    const a = this.a;
    const b = this.b;
    const c = this.c;
    const d = this.d;
    const t = (((a + b) | 0) + d) | 0;
    this.a = b ^ (b >>> 9);
    this.b = (c + (c << 3)) | 0;
    this.c = (((c << 21) | (c >>> 11)) + t) | 0;
    this.d = (d + 1) | 0;
    return t >>> 0;
  }

  /** A uniformly distributed float in [0, 1) with 32 bits of resolution. */
  nextFloat(): number {
    return this.nextUint32() / TWO_POW_32;
  }

  /** A uniformly distributed float in (0, 1]: safe to take the logarithm of. */
  nextFloatOpenZero(): number {
    return (this.nextUint32() + 1) / TWO_POW_32;
  }
}
