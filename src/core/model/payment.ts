import { z } from "zod";
import { currency, MODEL_LIMITS, minorUnits, region, scenario, scopeList } from "./fields.ts";

export const PAYEE_KINDS = ["merchant", "individual"] as const;
export type PayeeKind = (typeof PAYEE_KINDS)[number];

export const CHANNELS = ["app", "mini_program", "h5", "web", "pos"] as const;
export type Channel = (typeof CHANNELS)[number];

export const PAYMENT_METHODS = [
  "balance",
  "debit_card",
  "credit_card",
  "credit_line",
  "bank_account",
] as const;
export type PaymentMethod = (typeof PAYMENT_METHODS)[number];

/** User segments a caller may attach to a payment; campaigns may target them. */
export const SEGMENTS = ["new_user", "student", "senior", "vip"] as const;
export type Segment = (typeof SEGMENTS)[number];

/** Payment identifiers: the idempotency key, so printable and bounded. */
export const externalId = z
  .string()
  .min(1)
  .max(MODEL_LIMITS.idLengthMax)
  .regex(/^[A-Za-z0-9_.:-]+$/, "expected letters, digits and _ . : -");

/** ISO 18245 merchant category code: four digits. */
export const merchantCategory = z
  .string()
  .regex(/^\d{4}$/, "expected a four-digit merchant category code");

/**
 * A payment as the caller describes it (DESIGN §4.1). `atMs` is milliseconds since the Unix
 * epoch (UTC). A payment to an `individual` payee is a transfer, whatever `scenario` claims.
 */
export const paymentSchema = z.strictObject({
  paymentId: externalId,
  userId: externalId,
  amountMinor: minorUnits({ min: 1, description: "Payment amount in minor units." }),
  currency,
  scenario,
  payeeKind: z.enum(PAYEE_KINDS),
  merchantId: externalId,
  merchantCategory: merchantCategory.optional(),
  region,
  channel: z.enum(CHANNELS),
  paymentMethod: z.enum(PAYMENT_METHODS),
  atMs: z.int().min(0).max(32_503_680_000_000).meta({ description: "Epoch milliseconds, UTC." }),
  deviceId: externalId.optional(),
  cardFingerprint: externalId.optional(),
  segments: scopeList(z.enum(SEGMENTS), SEGMENTS.length).optional(),
});

export type Payment = z.output<typeof paymentSchema>;
