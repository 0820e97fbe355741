/**
 * Subsidy totals per identity (user, device or card) on both sides of a simulation. A sample
 * holds hundreds of thousands of identities, so they are kept as columns — five numbers a row in
 * one typed array — rather than an object each: less memory, less for the garbage collector, and
 * a tally that is already columns. Rows are found through an open-addressing table of row
 * numbers keyed by an FNV-1a hash of the identity: measured ~35 % cheaper than a Map here, where
 * every lookup brings a fresh string whose hash a Map would compute anyway. An identity may be
 * given as a range of a longer text (the line it was read from); keys are kept as characters in
 * one array, never as a string each, and made strings only for the report. Another thread's
 * totals arrive joined into one string (`IdentityColumns`).
 */
import type { SimulationWorstIdentity } from "./simulation-report.ts";

/** payments, subsidised0, subsidised1, low0, low1. */
const STRIDE = 5;
const ROWS_INITIAL = 1_024;
const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
/** A number part spills into its bigint part from here (see simulation-accumulator.ts). */
export const SPILL_AT_MINOR = 2 ** 52;

/** Rows as columns: five numbers a key, and the bigint parts of the sums that spilled. */
export interface TallyColumns {
  readonly keys: readonly string[];
  /** payments, subsidised0, subsidised1, low0, low1 per key. */
  readonly numbers: Float64Array;
  /** [row, high0, high1] for the rows whose sums spilled. */
  readonly spills: readonly (readonly [number, bigint, bigint])[];
}

/**
 * Identity totals as columns for another thread: the identities joined into one string (one copy
 * when cloned, rather than an object per identity), each one's end in it, its hash, and its row.
 */
export interface IdentityColumns {
  readonly text: string;
  /** End of each identity in `text`; it starts where the one before ends. */
  readonly ends: Int32Array;
  readonly hashes: Int32Array;
  /** payments, subsidised0, subsidised1, low0, low1 per identity. */
  readonly numbers: Float64Array;
  /** [row, high0, high1] for the rows whose sums spilled. */
  readonly spills: readonly (readonly [number, bigint, bigint])[];
}

/**
 * A row: where its key is in `chars` (start, length), then the five numbers of a row of
 * `IdentityColumns`. The key's place sits beside the numbers the lookup then updates, so that a
 * lookup reads its slot, one row and the key's characters: three places in memory where a key
 * string per row cost four (the slot, the array of keys, the string, the numbers).
 */
const ROW_STRIDE = 2 + STRIDE;
const KEY_START = 0;
const KEY_LENGTH = 1;
const NUMBERS = 2;
/** Characters decoded into a string at once (String.fromCharCode takes them as arguments). */
const DECODE_CHARS = 4_096;

export class IdentityTotals {
  /** (row + 1, hash) per slot, row + 1 = 0 for empty; at most half the slots used. */
  private slots = new Int32Array(ROWS_INITIAL * 4);
  private rowCount = 0;
  private hashes = new Int32Array(ROWS_INITIAL);
  /** ROW_STRIDE numbers a row (see ROW_STRIDE). */
  private rows = new Float64Array(ROWS_INITIAL * ROW_STRIDE);
  /**
   * Every key's UTF-16 code units, row after row: no string per identity (for the garbage
   * collector, hundreds of thousands of long-lived strings); strings are made for the report.
   */
  private chars = new Uint16Array(ROWS_INITIAL * 16);
  private charCount = 0;
  /** Bigint parts by row, for the rare sums that passed SPILL_AT_MINOR. */
  private readonly spills = new Map<number, [bigint, bigint]>();

  get size(): number {
    return this.rowCount;
  }

  /** The row of the identity `text[start, end)`, added when new. */
  private rowOfRange(
    text: string,
    start: number,
    end: number,
    hash: number = hashOfRange(text, start, end),
  ): number {
    const slots = this.slots;
    const mask = slots.length - 2;
    const rows = this.rows;
    const chars = this.chars;
    const length = end - start;
    // Slots are (row + 1, hash) pairs: a probe compares the hash in the same cache line and
    // reads a key's characters only when the hashes are equal.
    let at = (hash << 1) & mask;
    for (;;) {
      const slot = slots[at]!;
      if (slot === 0) break;
      if (slots[at + 1] === hash) {
        const rowAt = (slot - 1) * ROW_STRIDE;
        if (rows[rowAt + KEY_LENGTH] === length) {
          const keyStart = rows[rowAt + KEY_START]!;
          let index = 0;
          while (index < length && chars[keyStart + index] === text.charCodeAt(start + index))
            index += 1;
          if (index === length) return slot - 1;
        }
      }
      at = (at + 2) & mask;
    }
    return this.addRow(text, start, end, hash, at);
  }

  /** Adds the identity `text[start, end)` as a new row, its slot `at` being the free one found. */
  private addRow(text: string, start: number, end: number, hash: number, at: number): number {
    const row = this.rowCount;
    const length = end - start;
    if (this.charCount + length > this.chars.length) {
      const chars = new Uint16Array(Math.max(this.chars.length * 2, this.charCount + length));
      chars.set(this.chars.subarray(0, this.charCount));
      this.chars = chars;
    }
    const chars = this.chars;
    const keyStart = this.charCount;
    for (let index = 0; index < length; index += 1)
      chars[keyStart + index] = text.charCodeAt(start + index);
    this.charCount += length;
    if (row >= this.hashes.length) {
      const hashes = new Int32Array(this.hashes.length * 2);
      hashes.set(this.hashes);
      this.hashes = hashes;
      const rows = new Float64Array(this.rows.length * 2);
      rows.set(this.rows);
      this.rows = rows;
    }
    this.hashes[row] = hash;
    const rowAt = row * ROW_STRIDE;
    this.rows[rowAt + KEY_START] = keyStart;
    this.rows[rowAt + KEY_LENGTH] = length;
    this.slots[at] = row + 1;
    this.slots[at + 1] = hash;
    this.rowCount = row + 1;
    // At most half the slots used: (row + 1, hash) pairs take two entries each.
    if (this.rowCount * 4 > this.slots.length) this.growSlots();
    return row;
  }

  private growSlots(): void {
    const slots = new Int32Array(this.slots.length * 2);
    const mask = slots.length - 2;
    const hashes = this.hashes;
    for (let row = 0; row < this.rowCount; row += 1) {
      const hash = hashes[row]!;
      let at = (hash << 1) & mask;
      while (slots[at] !== 0) at = (at + 2) & mask;
      slots[at] = row + 1;
      slots[at + 1] = hash;
    }
    this.slots = slots;
  }

  /** One payment of `key` with its subsidy on each side (0 for none). */
  add(key: string, subsidy0: number, subsidy1: number): void {
    this.addRange(key, 0, key.length, subsidy0, subsidy1);
  }

  /** `add` for the identity `text[start, end)`. */
  addRange(text: string, start: number, end: number, subsidy0: number, subsidy1: number): void {
    const row = this.rowOfRange(text, start, end);
    const at = row * ROW_STRIDE + NUMBERS;
    const rows = this.rows;
    rows[at]! += 1;
    if (subsidy0 > 0) {
      rows[at + 1]! += 1;
      rows[at + 3]! += subsidy0;
      if (rows[at + 3]! >= SPILL_AT_MINOR) this.spill(row, 0);
    }
    if (subsidy1 > 0) {
      rows[at + 2]! += 1;
      rows[at + 4]! += subsidy1;
      if (rows[at + 4]! >= SPILL_AT_MINOR) this.spill(row, 1);
    }
  }

  private spill(row: number, side: 0 | 1, amount?: bigint): void {
    const at = row * ROW_STRIDE + NUMBERS + 3 + side;
    const parts = this.spills.get(row) ?? [0n, 0n];
    parts[side] += (amount ?? 0n) + BigInt(this.rows[at]!);
    this.rows[at] = 0;
    this.spills.set(row, parts);
  }

  private total(row: number, side: 0 | 1): bigint {
    return (
      (this.spills.get(row)?.[side] ?? 0n) +
      BigInt(this.rows[row * ROW_STRIDE + NUMBERS + 3 + side]!)
    );
  }

  /** The key of `row` as a string. */
  private keyOf(row: number): string {
    const at = row * ROW_STRIDE;
    const keyStart = this.rows[at + KEY_START]!;
    return decodeChars(this.chars, keyStart, keyStart + this.rows[at + KEY_LENGTH]!);
  }

  /** Whether the key of `left` sorts before the key of `right` (as `<` compares strings). */
  private keyBefore(left: number, right: number): boolean {
    const rows = this.rows;
    const chars = this.chars;
    const leftStart = rows[left * ROW_STRIDE + KEY_START]!;
    const leftLength = rows[left * ROW_STRIDE + KEY_LENGTH]!;
    const rightStart = rows[right * ROW_STRIDE + KEY_START]!;
    const rightLength = rows[right * ROW_STRIDE + KEY_LENGTH]!;
    const common = Math.min(leftLength, rightLength);
    for (let index = 0; index < common; index += 1) {
      const difference = chars[leftStart + index]! - chars[rightStart + index]!;
      if (difference !== 0) return difference < 0;
    }
    return leftLength < rightLength;
  }

  columns(): IdentityColumns {
    const count = this.rowCount;
    const rows = this.rows;
    const ends = new Int32Array(count);
    const numbers = new Float64Array(count * STRIDE);
    for (let row = 0; row < count; row += 1) {
      const at = row * ROW_STRIDE;
      ends[row] = rows[at + KEY_START]! + rows[at + KEY_LENGTH]!;
      for (let field = 0; field < STRIDE; field += 1)
        numbers[row * STRIDE + field] = rows[at + NUMBERS + field]!;
    }
    return {
      // Rows keep their keys in row order, end to end: the characters are the joined keys.
      text: decodeChars(this.chars, 0, this.charCount),
      ends,
      hashes: this.hashes.slice(0, count),
      numbers,
      spills: [...this.spills].map(([row, [high0, high1]]) => [row, high0, high1] as const),
    };
  }

  merge(columns: IdentityColumns): void {
    const { text, ends, hashes, numbers: source } = columns;
    const rowsByIndex = new Int32Array(ends.length);
    let start = 0;
    for (let index = 0; index < ends.length; index += 1) {
      const end = ends[index]!;
      const row = this.rowOfRange(text, start, end, hashes[index]!);
      start = end;
      rowsByIndex[index] = row;
      const at = row * ROW_STRIDE + NUMBERS;
      const from = index * STRIDE;
      const rows = this.rows;
      for (let field = 0; field < STRIDE; field += 1) rows[at + field]! += source[from + field]!;
      // Two number parts below 2^52 sum below 2^53: exact; then spill as adding does.
      if (rows[at + 3]! >= SPILL_AT_MINOR) this.spill(row, 0);
      if (rows[at + 4]! >= SPILL_AT_MINOR) this.spill(row, 1);
    }
    for (const [index, high0, high1] of columns.spills) {
      const row = rowsByIndex[index]!;
      const parts = this.spills.get(row) ?? [0n, 0n];
      parts[0] += high0;
      parts[1] += high1;
      this.spills.set(row, parts);
    }
  }

  /** The identity with the largest total on one side; ties go to the smaller identity. */
  worst(side: 0 | 1): SimulationWorstIdentity | null {
    let worstRow = -1;
    const count = this.rowCount;
    if (this.spills.size === 0) {
      // Compared as numbers while nothing spilled (the usual case): no bigint per identity.
      const rows = this.rows;
      let worstLow = 0;
      for (let row = 0; row < count; row += 1) {
        const low = rows[row * ROW_STRIDE + NUMBERS + 3 + side]!;
        if (low === 0) continue;
        if (worstRow < 0 || low > worstLow || (low === worstLow && this.keyBefore(row, worstRow))) {
          worstRow = row;
          worstLow = low;
        }
      }
    } else {
      let worstTotal = 0n;
      for (let row = 0; row < count; row += 1) {
        const total = this.total(row, side);
        if (total === 0n) continue;
        if (
          worstRow < 0 ||
          total > worstTotal ||
          (total === worstTotal && this.keyBefore(row, worstRow))
        ) {
          worstRow = row;
          worstTotal = total;
        }
      }
    }
    if (worstRow < 0) return null;
    return {
      identity: this.keyOf(worstRow),
      subsidyMinor: this.total(worstRow, side),
      subsidisedPayments: this.rows[worstRow * ROW_STRIDE + NUMBERS + 1 + side]!,
    };
  }
}

/** `chars[start, end)` as a string, any length. */
function decodeChars(chars: Uint16Array, start: number, end: number): string {
  if (end - start <= DECODE_CHARS) return String.fromCharCode(...chars.subarray(start, end));
  const parts: string[] = [];
  for (let from = start; from < end; from += DECODE_CHARS)
    parts.push(String.fromCharCode(...chars.subarray(from, Math.min(end, from + DECODE_CHARS))));
  return parts.join("");
}

/** FNV-1a over UTF-16 code units, its high bits folded in: the table's slot is its low bits. */
function hashOfRange(text: string, start: number, end: number): number {
  let hash = FNV_OFFSET_BASIS;
  for (let index = start; index < end; index += 1) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, FNV_PRIME);
  }
  return (hash ^ (hash >>> 16)) | 0;
}
