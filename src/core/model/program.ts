import { z } from "zod";
import { currency, identifier, minorUnits, name, region, scopeList } from "./fields.ts";
import { merchantCategory } from "./payment.ts";
import { periodSchema } from "./schedule.ts";

/**
 * A registered subsidy program: the only thing that lets a subsidy be government-funded and
 * carry the government label. It has its own regions, categories, budget and validity.
 */
export const programSchema = z.strictObject({
  kind: z.literal("program"),
  id: identifier,
  name,
  currency,
  regions: scopeList(region).min(1),
  merchantCategories: scopeList(merchantCategory).min(1),
  budgetMinor: minorUnits({ min: 1, description: "Total the program funds." }),
  perUserMaxMinor: minorUnits({ min: 1, description: "Most one user may receive." }).optional(),
  validity: periodSchema,
});

export type Program = z.output<typeof programSchema>;
