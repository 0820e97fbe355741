import { z } from "zod";
import {
  basisPoints,
  currency,
  identifier,
  minorUnits,
  scenario,
  scopeList,
  timeZone,
} from "./fields.ts";

/** Per-currency bounds on what one payment and one user may receive, whatever campaigns say. */
export const envelopeCurrencySchema = z.strictObject({
  currency,
  perPaymentMaxRateBps: basisPoints(0, 10_000),
  perPaymentMaxMinor: minorUnits({ description: "Most subsidy on one payment." }),
  minPayableMinor: minorUnits({ description: "The payer always pays at least this much." }),
  perUserDailyMaxMinor: minorUnits({ description: "Platform-wide ceiling per user per day." }),
});

/**
 * The safety envelope: platform invariants the evaluator enforces on every payment. It is
 * configuration only in its bounds; the cash-equivalent scenarios are always protected, and
 * individual payees always count as transfers (see docs/reference/envelope.md).
 */
export const envelopeSchema = z.strictObject({
  kind: z.literal("envelope"),
  id: identifier,
  /** Where the platform's day begins and ends, for the per-user daily ceiling. */
  timeZone,
  protectedScenarios: scopeList(scenario),
  currencies: z.array(envelopeCurrencySchema).min(1).max(32),
});

export type Envelope = z.output<typeof envelopeSchema>;
export type EnvelopeCurrency = z.output<typeof envelopeCurrencySchema>;
