import { z } from "zod";
import { MODEL_LIMITS, minorUnits, region, scenario, scopeList } from "./fields.ts";
import { CHANNELS, externalId, merchantCategory, PAYMENT_METHODS, SEGMENTS } from "./payment.ts";

/**
 * Where a campaign applies. Deny by default: `regions` is required and `scenarios` comes from
 * the campaign or its template; an explicitly empty list matches nothing, never everything.
 * Optional lists narrow the scope when present and do not narrow it when absent.
 */
export const scopeSchema = z.strictObject({
  scenarios: scopeList(scenario).optional(),
  regions: scopeList(region),
  merchantCategories: scopeList(merchantCategory).optional(),
  merchantIds: scopeList(externalId, MODEL_LIMITS.merchantIdsMax).optional(),
  channels: scopeList(z.enum(CHANNELS)).optional(),
  paymentMethods: scopeList(z.enum(PAYMENT_METHODS)).optional(),
  segments: scopeList(z.enum(SEGMENTS)).optional(),
  amountRange: z
    .strictObject({
      minMinor: minorUnits({ min: 1 }).optional(),
      maxMinor: minorUnits({ min: 1 }).optional(),
    })
    .optional(),
});

export type Scope = z.output<typeof scopeSchema>;

/** The names of the scope's list fields, for the "matches nothing" check. */
export const SCOPE_LIST_FIELDS = [
  "scenarios",
  "regions",
  "merchantCategories",
  "merchantIds",
  "channels",
  "paymentMethods",
  "segments",
] as const satisfies readonly (keyof Scope)[];
