/**
 * Fixed-size bitsets over campaign positions, stored as 32-bit words. Signed words (Int32Array)
 * keep every load an int32 in optimised code, so `&`, `|` and the lowest-bit trick
 * (`word & -word`) never leave integer arithmetic.
 */

/** Words needed for `size` bits. */
export function bitsetWordCount(size: number): number {
  return Math.ceil(size / 32);
}

/** A bitset of `size` bits, all clear. */
export function createBitset(size: number): Int32Array {
  return new Int32Array(bitsetWordCount(size));
}

export function setBit(words: Int32Array, position: number): void {
  words[position >>> 5]! |= 1 << (position & 31);
}

/** `left & right`, word by word, as a new bitset. */
export function andBitsets(left: Int32Array, right: Int32Array): Int32Array {
  const result = new Int32Array(left.length);
  for (let index = 0; index < left.length; index += 1) result[index] = left[index]! & right[index]!;
  return result;
}

/** `left | right`, word by word, as a new bitset. */
export function orBitsets(left: Int32Array, right: Int32Array): Int32Array {
  const result = new Int32Array(left.length);
  for (let index = 0; index < left.length; index += 1) result[index] = left[index]! | right[index]!;
  return result;
}
