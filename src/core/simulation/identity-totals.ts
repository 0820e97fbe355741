/**
 * Subsidy totals per identity (user, device or card) on both sides of a simulation. A sample
 * holds hundreds of thousands of identities, so they are kept as columns — five numbers a row in
 * one typed array — rather than an object each: less memory, less for the garbage collector, and
 * a tally that is already columns. Rows are found through an open-addressing table of row
 * numbers keyed by an FNV-1a hash of the identity: measured ~35 % cheaper than a Map here, where
 * every lookup brings a fresh string whose hash a Map would compute anyway. An identity may be
 * given as a range of a longer text (the line it was read from): its string is made only when
 * the identity is new. Another thread's totals arrive joined into one string (`IdentityColumns`).
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

export class IdentityTotals {
  /** (row + 1, hash) per slot, row + 1 = 0 for empty; at most half the slots used. */
  private slots = new Int32Array(ROWS_INITIAL * 4);
  private readonly keys: string[] = [];
  private hashes = new Int32Array(ROWS_INITIAL);
  private numbers = new Float64Array(ROWS_INITIAL * STRIDE);
  /** Bigint parts by row, for the rare sums that passed SPILL_AT_MINOR. */
  private readonly spills = new Map<number, [bigint, bigint]>();

  get size(): number {
    return this.keys.length;
  }

  /**
   * The row of the identity `text[start, end)`, added when new. The key string is made only
   * then: a replay reads each identity from its line, and most identities recur.
   */
  private rowOfRange(
    text: string,
    start: number,
    end: number,
    hash: number = hashOfRange(text, start, end),
  ): number {
    const slots = this.slots;
    const mask = slots.length - 2;
    const keys = this.keys;
    const length = end - start;
    // Slots are (row + 1, hash) pairs: a probe compares the hash in the same cache line and
    // reads a key's characters only when the hashes are equal.
    let at = (hash << 1) & mask;
    for (;;) {
      const slot = slots[at]!;
      if (slot === 0) break;
      if (slots[at + 1] === hash) {
        const key = keys[slot - 1]!;
        if (key.length === length && text.startsWith(key, start)) return slot - 1;
      }
      at = (at + 2) & mask;
    }
    const row = keys.length;
    keys.push(start === 0 && end === text.length ? text : text.slice(start, end));
    slots[at] = row + 1;
    slots[at + 1] = hash;
    if (row >= this.hashes.length) {
      const hashes = new Int32Array(this.hashes.length * 2);
      hashes.set(this.hashes);
      this.hashes = hashes;
      const numbers = new Float64Array(this.numbers.length * 2);
      numbers.set(this.numbers);
      this.numbers = numbers;
    }
    this.hashes[row] = hash;
    // At most half the slots used: (row + 1, hash) pairs take two entries each.
    if (keys.length * 4 > slots.length) this.growSlots();
    return row;
  }

  private growSlots(): void {
    const slots = new Int32Array(this.slots.length * 2);
    const mask = slots.length - 2;
    const hashes = this.hashes;
    for (let row = 0; row < this.keys.length; row += 1) {
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
    const at = this.rowOfRange(text, start, end) * STRIDE;
    const numbers = this.numbers;
    numbers[at]! += 1;
    if (subsidy0 > 0) {
      numbers[at + 1]! += 1;
      numbers[at + 3]! += subsidy0;
      if (numbers[at + 3]! >= SPILL_AT_MINOR) this.spill(at / STRIDE, 0);
    }
    if (subsidy1 > 0) {
      numbers[at + 2]! += 1;
      numbers[at + 4]! += subsidy1;
      if (numbers[at + 4]! >= SPILL_AT_MINOR) this.spill(at / STRIDE, 1);
    }
  }

  private spill(row: number, side: 0 | 1, amount?: bigint): void {
    const at = row * STRIDE + 3 + side;
    const parts = this.spills.get(row) ?? [0n, 0n];
    parts[side] += (amount ?? 0n) + BigInt(this.numbers[at]!);
    this.numbers[at] = 0;
    this.spills.set(row, parts);
  }

  private total(row: number, side: 0 | 1): bigint {
    return (this.spills.get(row)?.[side] ?? 0n) + BigInt(this.numbers[row * STRIDE + 3 + side]!);
  }

  columns(): IdentityColumns {
    const keys = this.keys;
    const ends = new Int32Array(keys.length);
    let end = 0;
    for (let row = 0; row < keys.length; row += 1) {
      end += keys[row]!.length;
      ends[row] = end;
    }
    return {
      text: keys.join(""),
      ends,
      hashes: this.hashes.slice(0, keys.length),
      numbers: this.numbers.slice(0, keys.length * STRIDE),
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
      const at = row * STRIDE;
      const from = index * STRIDE;
      const numbers = this.numbers;
      for (let field = 0; field < STRIDE; field += 1) numbers[at + field]! += source[from + field]!;
      // Two number parts below 2^52 sum below 2^53: exact; then spill as adding does.
      if (numbers[at + 3]! >= SPILL_AT_MINOR) this.spill(row, 0);
      if (numbers[at + 4]! >= SPILL_AT_MINOR) this.spill(row, 1);
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
    const keys = this.keys;
    if (this.spills.size === 0) {
      // Compared as numbers while nothing spilled (the usual case): no bigint per identity.
      const numbers = this.numbers;
      let worstLow = 0;
      for (let row = 0; row < keys.length; row += 1) {
        const low = numbers[row * STRIDE + 3 + side]!;
        if (low === 0) continue;
        if (worstRow < 0 || low > worstLow || (low === worstLow && keys[row]! < keys[worstRow]!)) {
          worstRow = row;
          worstLow = low;
        }
      }
    } else {
      let worstTotal = 0n;
      for (let row = 0; row < keys.length; row += 1) {
        const total = this.total(row, side);
        if (total === 0n) continue;
        if (
          worstRow < 0 ||
          total > worstTotal ||
          (total === worstTotal && keys[row]! < keys[worstRow]!)
        ) {
          worstRow = row;
          worstTotal = total;
        }
      }
    }
    if (worstRow < 0) return null;
    return {
      identity: keys[worstRow]!,
      subsidyMinor: this.total(worstRow, side),
      subsidisedPayments: this.numbers[worstRow * STRIDE + 1 + side]!,
    };
  }
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
