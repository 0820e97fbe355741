import { z } from "zod";
import { LABEL_KINDS } from "../funding.ts";
import { offerSchema } from "../offers/registry.ts";
import { currency, identifier, name, scenario, scopeList } from "./fields.ts";
import { fundingSchema } from "./funding.ts";

/** An allowed range for one offer parameter; campaigns must stay inside it. */
export const bandSchema = z.strictObject({
  min: z.int().min(0),
  max: z.int().min(0),
});

/**
 * A reusable offer shape. Campaigns inherit its offer, funding, label and allowed scenarios;
 * a change to a template is a change to every campaign that uses it.
 */
export const templateSchema = z.strictObject({
  kind: z.literal("template"),
  id: identifier,
  name,
  currency,
  offer: offerSchema,
  bands: z.record(z.string(), bandSchema).optional(),
  funding: fundingSchema,
  label: z.enum(LABEL_KINDS),
  allowedScenarios: scopeList(scenario),
});

export type Template = z.output<typeof templateSchema>;
