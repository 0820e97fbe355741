/**
 * The semantic diff of a change: which fields of which documents change, and — because a
 * template or program edit is an edit of every campaign that uses it — every campaign whose
 * effective offer, funding, label, scenarios or regions change, with the inherited ones marked.
 * A reviewer reads the fan-out first: it is where the 2025-01-16 template edit hid.
 */
import type { EffectiveCampaign } from "../model/config-set.ts";
import type { ConfigDocument } from "../model/document.ts";
import { canonicalJson } from "./canonical-json.ts";
import type { DocumentKey } from "./document-versions.ts";
import { documentKeyOf } from "./document-versions.ts";

export interface FieldChange {
  /** Dotted path inside the document, e.g. `offer.rateBps`. */
  readonly path: string;
  /** The value before, undefined when the field is new. */
  readonly before?: unknown;
  /** The value after, undefined when the field is removed. */
  readonly after?: unknown;
}

export interface DocumentDiff {
  readonly key: DocumentKey;
  readonly operation: "create" | "update" | "retire";
  readonly fields: readonly FieldChange[];
}

export const EFFECTIVE_FIELDS = ["offer", "funding", "label", "scenarios", "regions"] as const;
export type EffectiveField = (typeof EFFECTIVE_FIELDS)[number];

export interface EffectiveFieldChange {
  readonly field: EffectiveField;
  readonly before: unknown;
  readonly after: unknown;
  /** The campaign's own document does not set this field: the change reached it by inheritance. */
  readonly inherited: boolean;
}

export interface CampaignEffect {
  readonly campaignId: string;
  readonly operation: "start" | "change" | "stop";
  readonly fields: readonly EffectiveFieldChange[];
}

export interface ChangeDiff {
  readonly documents: readonly DocumentDiff[];
  /** Every campaign whose effective terms differ, edited directly or through its template. */
  readonly campaigns: readonly CampaignEffect[];
}

/** Where a diff walks: documents are small, but a limit keeps a malicious one from looping. */
const DIFF_DEPTH_MAX = 16;

export function diffChange(
  before: readonly ConfigDocument[],
  after: readonly ConfigDocument[],
  currentCampaigns: readonly EffectiveCampaign[],
  proposedCampaigns: readonly EffectiveCampaign[],
): ChangeDiff {
  const documents = diffDocuments(before, after);
  const editedCampaigns = new Set(
    documents.filter((diff) => diff.key.startsWith("campaign/")).map((diff) => diff.key.slice(9)),
  );
  return {
    documents,
    campaigns: diffCampaigns(currentCampaigns, proposedCampaigns, editedCampaigns),
  };
}

function diffDocuments(
  before: readonly ConfigDocument[],
  after: readonly ConfigDocument[],
): DocumentDiff[] {
  const beforeByKey = new Map(before.map((document) => [documentKeyOf(document), document]));
  const afterByKey = new Map(after.map((document) => [documentKeyOf(document), document]));
  const diffs: DocumentDiff[] = [];
  for (const [key, document] of afterByKey) {
    const prior = beforeByKey.get(key);
    const fields = diffValues(prior ?? {}, document, "", 0);
    if (prior === undefined) diffs.push({ key, operation: "create", fields });
    else if (fields.length > 0) diffs.push({ key, operation: "update", fields });
  }
  for (const [key, document] of beforeByKey) {
    if (!afterByKey.has(key)) {
      diffs.push({ key, operation: "retire", fields: diffValues(document, {}, "", 0) });
    }
  }
  return diffs.sort((left, right) => (left.key < right.key ? -1 : 1));
}

function diffValues(before: unknown, after: unknown, path: string, depth: number): FieldChange[] {
  if (canonicalJson(before ?? null) === canonicalJson(after ?? null)) return [];
  if (isRecord(before) && isRecord(after) && depth < DIFF_DEPTH_MAX) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((key) =>
      diffValues(before[key], after[key], path === "" ? key : `${path}.${key}`, depth + 1),
    );
  }
  // Lists (scenarios, regions, tiers) are shown whole: their order rarely matters to a reader.
  return [{ path, before, after }];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function diffCampaigns(
  current: readonly EffectiveCampaign[],
  proposed: readonly EffectiveCampaign[],
  editedCampaigns: ReadonlySet<string>,
): CampaignEffect[] {
  const currentById = new Map(current.map((effective) => [effective.campaign.id, effective]));
  const proposedById = new Map(proposed.map((effective) => [effective.campaign.id, effective]));
  const effects: CampaignEffect[] = [];
  for (const [campaignId, after] of proposedById) {
    const before = currentById.get(campaignId);
    const fields = EFFECTIVE_FIELDS.flatMap((field): EffectiveFieldChange[] => {
      const valueBefore = before === undefined ? undefined : effectiveValue(before, field);
      const valueAfter = effectiveValue(after, field);
      if (canonicalJson(valueBefore ?? null) === canonicalJson(valueAfter)) return [];
      return [
        {
          field,
          before: valueBefore,
          after: valueAfter,
          // A campaign whose own document is unchanged got every change from its template or
          // program; an edited one inherits the fields its document leaves to the template.
          inherited:
            before !== undefined && (!editedCampaigns.has(campaignId) || isInherited(after, field)),
        },
      ];
    });
    if (before === undefined) effects.push({ campaignId, operation: "start", fields });
    else if (fields.length > 0) effects.push({ campaignId, operation: "change", fields });
  }
  for (const [campaignId, before] of currentById) {
    if (proposedById.has(campaignId)) continue;
    const fields = EFFECTIVE_FIELDS.map((field) => ({
      field,
      before: effectiveValue(before, field),
      after: undefined,
      inherited: false,
    }));
    effects.push({ campaignId, operation: "stop", fields });
  }
  return effects.sort((left, right) => (left.campaignId < right.campaignId ? -1 : 1));
}

function effectiveValue(effective: EffectiveCampaign, field: EffectiveField): unknown {
  switch (field) {
    case "offer":
      return effective.offer;
    case "funding":
      return effective.funding;
    case "label":
      return effective.label;
    case "scenarios":
      return [...effective.scenarios].sort();
    case "regions":
      return [...effective.campaign.scope.regions].sort();
  }
}

/** Whether the campaign's own document leaves `field` to its template. */
function isInherited(effective: EffectiveCampaign, field: EffectiveField): boolean {
  const campaign = effective.campaign;
  switch (field) {
    case "offer":
      return campaign.offer === undefined;
    case "funding":
      return campaign.funding === undefined;
    case "label":
      return true;
    case "scenarios":
      return campaign.scope.scenarios === undefined;
    case "regions":
      return false;
  }
}
