import { z } from "zod";
import { LABEL_KINDS } from "../funding.ts";
import { offerSchema } from "../offers/registry.ts";
import {
  currency,
  identifier,
  MODEL_LIMITS,
  name,
  region,
  scenario,
  scopeList,
  wholeNumber,
} from "./fields.ts";
import { fundingSchema } from "./funding.ts";
import { SEGMENTS } from "./payment.ts";

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
  /** Regions campaigns may name; absent means any region. Lint holds campaigns to it. */
  allowedRegions: scopeList(region).min(1).optional(),
  /**
   * A segment-restricted template: every campaign must target some of these user segments and
   * no others (e.g. a student offer). Absent means campaigns may reach every user.
   */
  restrictedToSegments: scopeList(z.enum(SEGMENTS), SEGMENTS.length).min(1).optional(),
  /** The longest schedule a campaign of this template may have, in days. */
  campaignDaysMax: wholeNumber(1, MODEL_LIMITS.campaignDaysMax)
    .describe("Longest schedule a campaign of this template may have, in days.")
    .optional(),
});

export type Template = z.output<typeof templateSchema>;
