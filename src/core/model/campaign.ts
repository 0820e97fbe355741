import { z } from "zod";
import { REFUND_RESTORES } from "../ledger/refund.ts";
import { offerOverridesSchema } from "../offers/registry.ts";
import { currency, identifier, MODEL_LIMITS, minorUnits, name, wholeNumber } from "./fields.ts";
import { fundingSchema } from "./funding.ts";
import { scheduleSchema } from "./schedule.ts";
import { scopeSchema } from "./scope.ts";

const count = wholeNumber(1, MODEL_LIMITS.countMax);

/** Money and count limits. The total budget is mandatory: nothing spends without a ceiling. */
export const limitsSchema = z.strictObject({
  totalBudgetMinor: minorUnits({ min: 1, description: "Total the campaign may ever spend." }),
  dailyBudgetMinor: minorUnits({ min: 1, description: "Most spent per local day." }).optional(),
  perPaymentCapMinor: minorUnits({ min: 1, description: "Most given on one payment." }).optional(),
  spendPerMinuteMaxMinor: minorUnits({
    min: 1,
    description: "Declared spend-velocity ceiling; the guard trips above it.",
  }).optional(),
  refundRestores: z
    .enum(REFUND_RESTORES)
    .describe(
      "What a refund gives back: budgets_and_caps (the default), budgets (caps keep the use), or nothing.",
    )
    .optional(),
  perUser: z
    .strictObject({
      countPerDay: count.optional(),
      amountPerDayMinor: minorUnits({ min: 1 }).optional(),
      countPerCampaign: count.optional(),
      amountPerCampaignMinor: minorUnits({ min: 1 }).optional(),
    })
    .optional(),
});

/** How a campaign combines with others: one winner per exclusive group, higher priority first. */
export const stackingSchema = z.strictObject({
  exclusiveGroup: identifier.optional(),
  priority: wholeNumber(0, MODEL_LIMITS.priorityMax),
});

export const displaySchema = z.strictObject({
  title: z.string().min(1).max(MODEL_LIMITS.displayTitleLengthMax),
  description: z.string().max(MODEL_LIMITS.displayDescriptionLengthMax).optional(),
});

/**
 * Who a campaign is meant for. `test` and `internal` campaigns must stay on an allowlist of
 * merchants (lint checks it); evaluators treat every audience alike.
 */
export const CAMPAIGN_AUDIENCES = ["public", "test", "internal"] as const;
export type CampaignAudience = (typeof CAMPAIGN_AUDIENCES)[number];

/** A template instance with its own parameters, scope, schedule, limits and stacking. */
export const campaignSchema = z.strictObject({
  kind: z.literal("campaign"),
  id: identifier,
  name,
  template: identifier,
  currency,
  offer: offerOverridesSchema.optional(),
  funding: fundingSchema.optional(),
  scope: scopeSchema,
  schedule: scheduleSchema,
  limits: limitsSchema,
  stacking: stackingSchema,
  display: displaySchema,
  audience: z
    .enum(CAMPAIGN_AUDIENCES)
    .describe("Who the campaign is for: public (the default), test or internal.")
    .optional(),
  paused: z
    .boolean()
    .describe(
      "Set by an operator's pause: the campaign grants nothing until a reviewed change resumes it.",
    )
    .optional(),
});

export type Campaign = z.output<typeof campaignSchema>;
export type Limits = z.output<typeof limitsSchema>;
export type Stacking = z.output<typeof stackingSchema>;
