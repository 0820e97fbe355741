/**
 * The campaign editor's draft (console/src/pages/campaign-edit.tsx): the fields it offers, each a
 * path into the campaign document; what a typed value becomes in the draft (a number when it
 * reads as one, the text itself otherwise, so validation can say what is wrong with it; nothing
 * when emptied); and which findings of `POST /v1/lint` belong beside which field. Pure.
 */

export type FieldKind = "text" | "minor" | "list";

export interface DraftField {
  /** Dotted path in the campaign document, as findings name it. */
  readonly path: string;
  readonly label: string;
  readonly kind: FieldKind;
  readonly help?: string;
}

export const CAMPAIGN_FIELDS: readonly DraftField[] = [
  { path: "display.title", label: "Display title", kind: "text", help: "What payers see." },
  { path: "display.description", label: "Display description", kind: "text" },
  {
    path: "offer.amountMinor",
    label: "Amount off (minor units)",
    kind: "minor",
    help: "A fixed offer's amount, within the template's band; empty inherits the template's.",
  },
  {
    path: "scope.scenarios",
    label: "Scenarios",
    kind: "list",
    help: "Comma-separated; empty inherits the template's.",
  },
  {
    path: "scope.regions",
    label: "Regions",
    kind: "list",
    help: "Comma-separated ISO 3166-2 codes.",
  },
  { path: "schedule.start", label: "Start (local time)", kind: "text" },
  { path: "schedule.end", label: "End (local time)", kind: "text" },
  { path: "limits.totalBudgetMinor", label: "Total budget (minor units)", kind: "minor" },
  { path: "limits.dailyBudgetMinor", label: "Daily budget (minor units)", kind: "minor" },
  { path: "limits.perPaymentCapMinor", label: "Cap per payment (minor units)", kind: "minor" },
  {
    path: "limits.spendPerMinuteMaxMinor",
    label: "Spend per minute ceiling (minor units)",
    kind: "minor",
  },
];

type Json = Record<string, unknown>;

export function valueAt(document: Json, path: string): unknown {
  let value: unknown = document;
  for (const part of path.split(".")) {
    if (typeof value !== "object" || value === null) return undefined;
    value = (value as Json)[part];
  }
  return value;
}

/** The text a field shows for the document's value. */
export function fieldText(document: Json, field: DraftField): string {
  const value = valueAt(document, field.path);
  if (value === undefined || value === null) return "";
  if (Array.isArray(value)) return value.join(", ");
  return String(value);
}

/** What the typed text becomes in the document. */
export function parsedValue(field: DraftField, text: string): unknown {
  const trimmed = text.trim();
  if (trimmed === "") return undefined;
  if (field.kind === "list") return trimmed.split(/[\s,]+/).filter((part) => part !== "");
  if (field.kind === "minor") {
    // A whole number is sent as one; anything else as typed, for validation to name.
    return /^-?\d+$/.test(trimmed) ? Number(trimmed) : trimmed;
  }
  return text;
}

/** A copy of the document with `path` set to `value` (removed when undefined; empty parents go). */
export function withValue(document: Json, path: string, value: unknown): Json {
  const [head, ...rest] = path.split(".") as [string, ...string[]];
  const copy: Json = { ...document };
  if (rest.length === 0) {
    if (value === undefined) delete copy[head];
    else copy[head] = value;
    return copy;
  }
  const child = copy[head];
  const next = withValue(
    typeof child === "object" && child !== null && !Array.isArray(child) ? (child as Json) : {},
    rest.join("."),
    value,
  );
  if (Object.keys(next).length === 0) delete copy[head];
  else copy[head] = next;
  return copy;
}

export interface PlacedFinding {
  readonly key: string;
  readonly code: string;
  readonly severity: "error" | "warning";
  readonly message: string;
  readonly source: string;
  readonly path: string;
}

/**
 * Findings on this document placed beside the field whose path is theirs or encloses theirs
 * (`scope.regions.3` beside Regions); a finding on a field's parent (`scope`) beside each of its
 * fields shown; the rest — other documents, fields the editor does not show — in `others`.
 */
export function placeFindings(
  findings: readonly PlacedFinding[],
  source: string,
  fields: readonly DraftField[],
): { byField: ReadonlyMap<string, PlacedFinding[]>; others: PlacedFinding[] } {
  const byField = new Map<string, PlacedFinding[]>();
  const others: PlacedFinding[] = [];
  for (const finding of findings) {
    const matches =
      finding.source !== source || finding.path === ""
        ? []
        : fields.filter(
            (field) =>
              finding.path === field.path ||
              finding.path.startsWith(`${field.path}.`) ||
              field.path.startsWith(`${finding.path}.`),
          );
    if (matches.length === 0) others.push(finding);
    for (const field of matches)
      byField.set(field.path, [...(byField.get(field.path) ?? []), finding]);
  }
  return { byField, others };
}
