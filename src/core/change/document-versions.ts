/**
 * Versions of configuration documents (templates, campaigns, programs, the envelope). A version
 * is immutable; a change writes new versions; an identifier, once used, is never used for
 * another document, even after it is retired. Everything here is pure: content hashes come from
 * a hash function the caller injects.
 */
import type { ConfigDocument, DocumentKind } from "../model/document.ts";
import { type ChangeResult, refuse } from "./change-codes.ts";

/** `kind/id`, e.g. `campaign/idc-coffee-afternoon-tea`. */
export type DocumentKey = `${DocumentKind}/${string}`;

export function documentKeyOf(document: Pick<ConfigDocument, "kind" | "id">): DocumentKey {
  return `${document.kind}/${document.id}`;
}

export interface DocumentVersion {
  readonly key: DocumentKey;
  /** 1 for the first version, then 2, 3, … per document. */
  readonly version: number;
  /** The content of this version; null when this version retires the document. */
  readonly document: ConfigDocument | null;
  readonly contentHash: string;
  /** The change request that wrote it. */
  readonly changeId: string;
}

export type ChangeEdit =
  | { readonly op: "put"; readonly document: ConfigDocument }
  | { readonly op: "retire"; readonly key: DocumentKey };

export function keyOfEdit(edit: ChangeEdit): DocumentKey {
  return edit.op === "put" ? documentKeyOf(edit.document) : edit.key;
}

/**
 * An effective campaign's version (a campaign joined with its template): its campaign
 * document's version plus its template's, less one. Either document's new version raises it, a
 * rollback too (it writes new versions), so it only ever grows and names one effective content
 * per campaign: a template edit gives every campaign using it a new version, which is what the
 * ledger records each grant under and what an impact report or a kill names.
 */
export function effectiveCampaignVersions(
  campaigns: readonly { readonly id: string; readonly template: string }[],
  versionOf: (key: DocumentKey) => number | undefined,
): Map<string, number> {
  const versions = new Map<string, number>();
  for (const campaign of campaigns) {
    const own = versionOf(`campaign/${campaign.id}`) ?? 1;
    const template = versionOf(`template/${campaign.template}`) ?? 1;
    versions.set(campaign.id, own + template - 1);
  }
  return versions;
}

/** The version of each edited document a change was made against; 0 for a new document. */
export type BaseVersions = Readonly<Record<DocumentKey, number>>;

export const VERSION_LIMITS = {
  /** Edits in one change request: a bigger change is harder to review, so split it. */
  editsPerChangeMax: 200,
} as const;

/** Reads the latest version of a document, or undefined when it never existed. */
export type LatestVersionOf = (key: DocumentKey) => DocumentVersion | undefined;

/** The base versions of `edits` against what is stored now; refuses edits that cannot apply. */
export function baseVersionsOf(
  edits: readonly ChangeEdit[],
  latestOf: LatestVersionOf,
): ChangeResult<{ baseVersions: BaseVersions }> {
  if (edits.length === 0) return refuse("empty_change", "a change request needs at least one edit");
  if (edits.length > VERSION_LIMITS.editsPerChangeMax) {
    return refuse(
      "too_many_edits",
      `${edits.length} edits; at most ${VERSION_LIMITS.editsPerChangeMax} per change request`,
    );
  }
  const baseVersions: Record<DocumentKey, number> = {};
  for (const edit of edits) {
    const key = keyOfEdit(edit);
    if (key in baseVersions) return refuse("duplicate_edit", `${key} is edited twice`);
    const latest = latestOf(key);
    if (edit.op === "retire" && (latest === undefined || latest.document === null)) {
      return refuse("document_not_found", `${key} does not exist, so it cannot be retired`);
    }
    if (latest?.document === null) {
      return refuse("id_reused", `${key} was retired; its identifier is never used again`);
    }
    baseVersions[key] = latest?.version ?? 0;
  }
  return { ok: true, baseVersions };
}

/**
 * The versions a change writes when it takes effect, checked against what is stored now: every
 * edited document must still be at the change's base version (no lost update), and a new
 * document's identifier must never have been used.
 */
export function versionsWrittenBy(
  change: {
    readonly id: string;
    readonly edits: readonly ChangeEdit[];
    readonly baseVersions: BaseVersions;
  },
  latestOf: LatestVersionOf,
  hashOf: (document: ConfigDocument | null) => string,
): ChangeResult<{ versions: DocumentVersion[] }> {
  const versions: DocumentVersion[] = [];
  for (const edit of change.edits) {
    const key = keyOfEdit(edit);
    const base = change.baseVersions[key] ?? 0;
    const latest = latestOf(key);
    if (base === 0 && latest !== undefined) {
      return refuse(
        "id_reused",
        `${key} exists (version ${latest.version}); pick a new identifier`,
      );
    }
    if ((latest?.version ?? 0) !== base) {
      return refuse(
        "base_outdated",
        `${key} is at version ${latest?.version} but the change was made against version ${base}; edit the change again`,
      );
    }
    const document = edit.op === "put" ? edit.document : null;
    versions.push({
      key,
      version: base + 1,
      document,
      contentHash: hashOf(document),
      changeId: change.id,
    });
  }
  return { ok: true, versions };
}

const ROLLBACK_SUFFIX = "/rollback";

/** Who a rollback's versions are written by: `change-7/rollback` for the rollback of change-7. */
export function rollbackWriterId(changeId: string): string {
  return changeId + ROLLBACK_SUFFIX;
}

/** The change a version's writer names, and whether the version is that change's rollback. */
export function writerOf(changeId: string): {
  readonly changeId: string;
  readonly rollback: boolean;
} {
  return changeId.endsWith(ROLLBACK_SUFFIX)
    ? { changeId: changeId.slice(0, -ROLLBACK_SUFFIX.length), rollback: true }
    : { changeId, rollback: false };
}

/**
 * The versions that undo one change: for each document it wrote, a new version equal to the
 * content before it (a document it created is retired). Other changes stay; if a later change
 * edited one of the same documents, the rollback is refused rather than undoing that one too.
 */
export function versionsUndoing(
  change: { readonly id: string; readonly written: readonly DocumentVersion[] },
  rollbackChangeId: string,
  latestOf: LatestVersionOf,
  versionOf: (key: DocumentKey, version: number) => DocumentVersion | undefined,
  hashOf: (document: ConfigDocument | null) => string,
): ChangeResult<{ versions: DocumentVersion[] }> {
  const versions: DocumentVersion[] = [];
  for (const written of change.written) {
    const latest = latestOf(written.key);
    if (latest === undefined || latest.version !== written.version) {
      return refuse(
        "superseded",
        `${written.key} was changed again after ${change.id} (by ${latest?.changeId}); roll that change back first`,
      );
    }
    const prior = written.version > 1 ? versionOf(written.key, written.version - 1) : undefined;
    if (written.version > 1 && prior === undefined) {
      throw new Error(`version ${written.version - 1} of ${written.key} is missing from the store`);
    }
    const document = prior?.document ?? null;
    versions.push({
      key: written.key,
      version: written.version + 1,
      document,
      contentHash: hashOf(document),
      changeId: rollbackChangeId,
    });
  }
  return { ok: true, versions };
}
