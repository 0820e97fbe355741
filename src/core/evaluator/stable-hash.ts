/**
 * A small, fast, deterministic 32-bit string hash (FNV-1a over UTF-16 code units, finished with
 * MurmurHash3's fmix32 so that nearby inputs spread over all bits). Used to make `random` offers
 * a pure function of (seed, payment id, campaign id): a retry gets the same amount.
 */

const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

export function hashString32(text: string, seed: number): number {
  let hash = (FNV_OFFSET_BASIS ^ seed) >>> 0;
  for (let index = 0; index < text.length; index += 1) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, FNV_PRIME);
  }
  return fmix32(hash);
}

export function fmix32(value: number): number {
  let hash = value;
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/**
 * The draw in [0, 1) a random offer uses for one payment and one campaign. `paymentHash` is
 * `hashString32(paymentId, seed)` and `campaignSalt` is `hashString32(campaignId, 0)`, so an
 * evaluator may compute each once and combine them per candidate.
 */
export function unitDraw(paymentHash: number, campaignSalt: number): number {
  return fmix32((paymentHash ^ campaignSalt) >>> 0) / 4_294_967_296;
}
