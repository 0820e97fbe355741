/**
 * A campaign's versions as its page lists them (GET /v1/documents/campaign/{id}/versions;
 * docs/reference/http-api.md, "Document versions"): one row per version with its state, when,
 * and the change behind it with that change's marks; and what an earlier version held that the
 * newest does not, field by field. Pure.
 */
import { changeMarks } from "./change-review.ts";

export type VersionState = "active" | "rolling_out" | "retired" | "rolled_back" | "superseded";

export interface VersionChangeView {
  readonly id: string;
  readonly title: string;
  readonly authorId: string;
  readonly state: string;
  readonly approvals: readonly {
    readonly reviewerId: string;
    readonly at: string;
    readonly byPolicy: boolean;
  }[];
  readonly forced: readonly {
    readonly gate: string;
    readonly adminIds: readonly string[];
    readonly reason: string;
  }[];
  readonly operatorAction: { readonly kind: string; readonly reason: string } | null;
  readonly closingReason: string | null;
}

export interface VersionEntryView {
  readonly version: number;
  readonly state: VersionState;
  readonly retires: boolean;
  readonly writtenAt: string | null;
  readonly activatedAt: string | null;
  readonly changeId: string;
  readonly rollback: boolean;
  readonly change: VersionChangeView | null;
}

export interface VersionPageView {
  readonly key: string;
  readonly latestVersion: number;
  readonly versions: readonly VersionEntryView[];
  readonly nextBeforeVersion: number | null;
}

export interface VersionRow {
  readonly version: number;
  readonly state: VersionState;
  /** The state in words: "active", "rolling out", … */
  readonly stateLabel: string;
  /** The version every payer outside a rollout gets now. */
  readonly isActive: boolean;
  readonly writtenAtMs: number | null;
  readonly activatedAtMs: number | null;
  /** The change to link to (for a rollback, the change rolled back). */
  readonly changeId: string;
  /** The writer as stored: `change-7`, or `change-7/rollback`. */
  readonly writerId: string;
  /** What the version did, in words: the change's title, or what undid or took effect. */
  readonly what: string;
  readonly by: string;
  /** The change's marks (`changeMarks`), or why a rollback undid it. */
  readonly marks: readonly string[];
}

const STATE_LABELS: Readonly<Record<VersionState, string>> = {
  active: "active",
  rolling_out: "rolling out",
  retired: "retired",
  rolled_back: "rolled back",
  superseded: "superseded",
};

function instantMs(text: string | null): number | null {
  if (text === null) return null;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : null;
}

function marksOf(entry: VersionEntryView): string[] {
  const change = entry.change;
  if (change === null) return [];
  // A rollback's gates are not the undone change's: it carries why that change was undone.
  if (entry.rollback) return change.closingReason === null ? [] : [`why: ${change.closingReason}`];
  return changeMarks(change);
}

function whatOf(entry: VersionEntryView): string {
  const title = entry.change?.title ?? entry.changeId;
  if (entry.rollback) return `rollback of "${title}"`;
  if (entry.retires) return `retired by "${title}"`;
  return title;
}

function byOf(entry: VersionEntryView): string {
  const change = entry.change;
  if (change === null) return "—";
  // A rollback is an operator's (or the guard's) act on someone else's change: its author did
  // not write this version, so only the change is named.
  if (entry.rollback) return `undoing ${change.authorId}'s change`;
  const reviewers = change.approvals.map((approval) =>
    approval.byPolicy ? "the policy" : approval.reviewerId,
  );
  return reviewers.length === 0
    ? change.authorId
    : `${change.authorId}, approved by ${reviewers.join(" and ")}`;
}

/** The page's rows, as the API orders them (newest first). */
export function versionRows(page: VersionPageView): VersionRow[] {
  return page.versions.map((entry) => ({
    version: entry.version,
    state: entry.state,
    stateLabel: STATE_LABELS[entry.state] ?? entry.state,
    isActive: entry.state === "active",
    writtenAtMs: instantMs(entry.writtenAt),
    activatedAtMs: instantMs(entry.activatedAt),
    changeId: entry.change?.id ?? entry.changeId,
    writerId: entry.changeId,
    what: whatOf(entry),
    by: byOf(entry),
    marks: marksOf(entry),
  }));
}

export interface FieldDifference {
  /** Dotted path inside the document, e.g. `limits.totalBudgetMinor`. */
  readonly path: string;
  /** The value in the earlier version; undefined when it lacks the field. */
  readonly earlier?: unknown;
  /** The value in the newer one; undefined when it lacks the field. */
  readonly newer?: unknown;
}

/** Documents are small; the bound keeps a strange one from taking the page down. */
const DIFF_DEPTH_MAX = 16;
const DIFF_FIELDS_MAX = 500;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Leaves by dotted path: objects are walked, lists and scalars are values (compared whole). */
function leavesOf(value: unknown, path: string, depth: number, into: Map<string, unknown>): void {
  // An empty object inside is a value ({} against {a: 1} shows); the document itself is walked.
  if (isRecord(value) && depth < DIFF_DEPTH_MAX && (depth === 0 || Object.keys(value).length > 0)) {
    for (const [key, inner] of Object.entries(value)) {
      leavesOf(inner, path === "" ? key : `${path}.${key}`, depth + 1, into);
    }
    return;
  }
  into.set(path, value);
}

function sameValue(left: unknown, right: unknown): boolean {
  return JSON.stringify(left) === JSON.stringify(right);
}

/**
 * What differs between an earlier version's document and a newer one's, field by field, in
 * path order; a retired version (null) differs in every field the other has. At most 500 fields.
 */
export function versionDifferences(
  earlier: Record<string, unknown> | null,
  newer: Record<string, unknown> | null,
): FieldDifference[] {
  const before = new Map<string, unknown>();
  const after = new Map<string, unknown>();
  if (earlier !== null) leavesOf(earlier, "", 0, before);
  if (newer !== null) leavesOf(newer, "", 0, after);
  const paths = [...new Set([...before.keys(), ...after.keys()])].sort();
  const differences: FieldDifference[] = [];
  for (const path of paths) {
    const left = before.get(path);
    const right = after.get(path);
    if (sameValue(left, right)) continue;
    differences.push({
      path,
      ...(left === undefined ? {} : { earlier: left }),
      ...(right === undefined ? {} : { newer: right }),
    });
    if (differences.length >= DIFF_FIELDS_MAX) break;
  }
  return differences;
}
