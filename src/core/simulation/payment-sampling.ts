/**
 * Which payments the sample log keeps: a stable hash of the payment id against the rate, so every
 * process keeps the same payments at the same rate (a retry is sampled exactly when its first try
 * was), and a replay of the sample is reproducible.
 */
import { hashString32 } from "../evaluator/stable-hash.ts";
import { BPS_PER_UNIT } from "../money.ts";

/** Seeds the sampling hash apart from the random offers' draws, which also hash the payment id. */
const SAMPLING_SEED = 0x5a4d_504c;

/** True when `rateBps` of 10,000 ids are kept; 0 keeps none and 10,000 keeps every id. */
export function isPaymentSampled(paymentId: string, rateBps: number): boolean {
  if (rateBps <= 0) return false;
  if (rateBps >= BPS_PER_UNIT) return true;
  return hashString32(paymentId, SAMPLING_SEED) % BPS_PER_UNIT < rateBps;
}
