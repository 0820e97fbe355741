import { z } from "zod";
import { externalCampaignSchema } from "../guard/proposal-input.ts";
import { identifier, name } from "./fields.ts";

/**
 * An external engine's campaign registered with guard mode (docs/reference/guard-mode.md), as a
 * configuration document: it travels the change pipeline as campaigns do — reviewed by another
 * person, audited, versioned, rolled back — so that no one widens what an external engine may
 * fund without a second pair of eyes. The registration's fields are guard mode's own
 * (`externalCampaignSchema`, the one definition the check reads); the document adds its kind, a
 * document id of its own and a name for people. `campaignRef` is the campaign's id in the
 * external engine, which kills and incidents name as `ext:<campaignRef>`.
 */
export const externalCampaignDocumentSchema = externalCampaignSchema.extend({
  kind: z.literal("external-campaign"),
  id: identifier,
  name,
});

export type ExternalCampaignDocument = z.output<typeof externalCampaignDocumentSchema>;
