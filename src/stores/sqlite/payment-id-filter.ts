/**
 * Which payment ids the ledger may hold: a scalable Bloom filter. `apply` looks its payment id up
 * to replay a stored answer, and nearly every id is new; a miss here proves the id is new without
 * reading the file (a lookup by id costs ~3 µs there, here well under one). A hit may be false,
 * and then the file decides.
 *
 * Stages of doubling size are added as ids are, so the filter needs no size up front. A stage has
 * 16 bits per id it holds (a power of two of bits): the first, for 1,048,576 ids, takes 2 MiB, and
 * a full stage answers well under 0.1 % of new ids wrongly. Stages stop growing at 2^31 bits
 * (256 MiB, 134 M ids); a ledger that large keeps adding stages of that size.
 */

/** Bits per id a stage holds, as a power of two: with PROBES probes, under 0.1 % false hits. */
const BITS_PER_ID_LOG2 = 4;
const PROBES = 7;
const FIRST_STAGE_BITS_LOG2 = 24;
/** 2^31 bits at most per stage, so that a bit's position stays a positive 32-bit integer. */
const STAGE_BITS_LOG2_MAX = 31;

class Stage {
  readonly bits: Uint32Array;
  /** A probe's position is its hash masked: the number of bits is a power of two. */
  readonly mask: number;
  /** Ids the stage holds before the next one is added. */
  readonly capacity: number;
  count = 0;

  constructor(readonly bitsLog2: number) {
    const bitCount = 2 ** bitsLog2;
    this.bits = new Uint32Array(bitCount / 32);
    this.mask = bitCount - 1;
    this.capacity = bitCount / 2 ** BITS_PER_ID_LOG2;
  }
}

export class PaymentIdFilter {
  private readonly stages: Stage[] = [new Stage(FIRST_STAGE_BITS_LOG2)];

  add(paymentId: string): void {
    let stage = this.stages[this.stages.length - 1]!;
    if (stage.count >= stage.capacity) {
      stage = new Stage(Math.min(STAGE_BITS_LOG2_MAX, stage.bitsLog2 + 1));
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
