/**
 * Templates in the console: the fields the template editor offers (each a path into the template
 * document, as findings name it) and the templates list's rows — each template with the campaigns
 * that use it, since an edit of a template is an edit of every one of them. Pure.
 */
import type { DraftField } from "./campaign-draft.ts";

export const TEMPLATE_FIELDS: readonly DraftField[] = [
  { path: "name", label: "Name", kind: "text" },
  {
    path: "offer.kind",
    label: "Offer kind",
    kind: "text",
    help: "fixed, percent, random or threshold; each takes its own parameters below.",
  },
  {
    path: "offer.amountMinor",
    label: "Offer amount off (minor units)",
    kind: "minor",
    help: "A fixed offer's amount; campaigns without their own inherit it.",
  },
  {
    path: "offer.rateBps",
    label: "Offer rate (bps)",
    kind: "minor",
    help: "A percent offer's rate.",
  },
  {
    path: "offer.capMinor",
    label: "Offer cap per payment (minor units)",
    kind: "minor",
    help: "A percent offer must have one.",
  },
  { path: "bands.amountMinor.min", label: "Band: amount at least (minor units)", kind: "minor" },
  { path: "bands.amountMinor.max", label: "Band: amount at most (minor units)", kind: "minor" },
  {
    path: "funding.source",
    label: "Funding source",
    kind: "text",
    help: "platform, merchant, bank or government.",
  },
  {
    path: "funding.programId",
    label: "Subsidy programme",
    kind: "text",
    help: "Government funding names a registered programme.",
  },
  { path: "label", label: "Label", kind: "text", help: "What payers are told funds it." },
  {
    path: "allowedScenarios",
    label: "Allowed scenarios",
    kind: "list",
    help: "Comma-separated; campaigns inherit these when they name none.",
  },
  {
    path: "allowedRegions",
    label: "Allowed regions",
    kind: "list",
    help: "Comma-separated ISO 3166-2 codes; empty allows any region.",
  },
];

interface DocumentLike {
  readonly kind: string;
  readonly id: string;
  readonly [field: string]: unknown;
}

export interface TemplateRow {
  readonly id: string;
  readonly name: string;
  readonly currency: string;
  readonly offer: string;
  readonly funding: string;
  readonly label: string;
  readonly allowedScenarios: readonly string[];
  /** Campaigns that use it, by id: what an edit of it reaches. */
  readonly campaignIds: readonly string[];
}

/** A short reading of an offer: `fixed 50`, `percent 2000 bps, cap 20000`. */
export function offerSummary(offer: unknown): string {
  if (typeof offer !== "object" || offer === null) return "—";
  const { kind, ...parameters } = offer as Record<string, unknown>;
  const parts = Object.entries(parameters)
    .filter(([, value]) => typeof value === "number" || typeof value === "string")
    .map(([key, value]) => `${key} ${String(value)}`);
  return [String(kind ?? "?"), ...parts].join(" ");
}

/** The templates of a configuration, by id, each with the campaigns that use it. */
export function templateRows(documents: readonly DocumentLike[]): TemplateRow[] {
  const users = new Map<string, string[]>();
  for (const document of documents) {
    if (document.kind !== "campaign" || typeof document.template !== "string") continue;
    users.set(document.template, [...(users.get(document.template) ?? []), document.id]);
  }
  return documents
    .filter((document) => document.kind === "template")
    .map((template) => {
      const funding = template.funding as { source?: unknown; programId?: unknown } | undefined;
      return {
        id: template.id,
        name: String(template.name ?? ""),
        currency: String(template.currency ?? ""),
        offer: offerSummary(template.offer),
        funding:
          funding === undefined
            ? "—"
            : `${String(funding.source)}${funding.programId === undefined ? "" : ` (${String(funding.programId)})`}`,
        label: String(template.label ?? ""),
        allowedScenarios: Array.isArray(template.allowedScenarios)
          ? template.allowedScenarios.map(String)
          : [],
        campaignIds: [...(users.get(template.id) ?? [])].sort(),
      };
    })
    .sort((left, right) => left.id.localeCompare(right.id));
}
