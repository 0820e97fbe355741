/**
 * A document's history as people read it (GET /v1/documents/{kind}/{id}/versions;
 * docs/reference/http-api.md): each version newest first, with the change that wrote it, when,
 * and where it stands now — the active one, the one rolling out, one rolled back, one superseded.
 * A read model over the change store's port; it writes nothing. Its reads are not one snapshot:
 * a version written between them shows on the next read.
 */
import type { ChangeRequest } from "../core/change/change-request.ts";
import { type DocumentKey, writerOf } from "../core/change/document-versions.ts";
import type { ConfigDocument } from "../core/model/document.ts";
import type { ChangeStore, DocumentVersionRecord } from "./change-store.ts";

/**
 * Where a version stands (docs/reference/http-api.md, "Document versions"):
 * `active` — what every payer outside a rollout gets (during a rollout, the version before it);
 * `rolling_out` — the newest, written by the change rolling out, served to its share only;
 * `retired` — the version that retired the document, in force;
 * `rolled_back` — written by a change since rolled back (a newer version restored the content
 * before it);
 * `superseded` — replaced by a newer version.
 */
export const VERSION_STATES = [
  "active",
  "rolling_out",
  "retired",
  "rolled_back",
  "superseded",
] as const;
export type VersionState = (typeof VERSION_STATES)[number];

/** Versions one page lists at most, and by default. */
export const VERSION_PAGE_MAX = 100;
export const VERSION_PAGE_DEFAULT = 20;

/** The change behind a version, as the history shows it: who, under what gates. */
export interface VersionChange {
  readonly id: string;
  readonly title: string;
  readonly authorId: string;
  readonly state: ChangeRequest["state"];
  readonly approvals: readonly {
    readonly reviewerId: string;
    readonly at: string;
    readonly byPolicy: boolean;
  }[];
  readonly forced: readonly {
    readonly gate: string;
    readonly adminIds: readonly string[];
    readonly reason: string;
    readonly at: string;
  }[];
  readonly operatorAction: { readonly kind: string; readonly reason: string } | null;
  readonly closingReason: string | null;
}

export interface VersionEntry {
  readonly version: number;
  readonly state: VersionState;
  /** This version retires the document (it has no content). */
  readonly retires: boolean;
  readonly contentHash: string;
  /** When the store wrote it; null for versions written before it kept the time. */
  readonly writtenAt: string | null;
  /**
   * When it reached every payer: when written, for a rollback or an operator's action (in force
   * at once); when its change's staged rollout completed, for a change still active. Null when
   * that moment is not known: still rolling out, or its change was rolled back since.
   */
  readonly activatedAt: string | null;
  /** The writer as stored: `change-7`, or `change-7/rollback` for the rollback of change-7. */
  readonly changeId: string;
  /** This version undoes `change` (restores the content before it). */
  readonly rollback: boolean;
  /** The change that wrote it (for a rollback, the change rolled back); null if not found. */
  readonly change: VersionChange | null;
}

export interface VersionPage {
  readonly key: DocumentKey;
  readonly latestVersion: number;
  /** Newest first. */
  readonly versions: readonly VersionEntry[];
  /** `beforeVersion` for the next, older page; null after the oldest version. */
  readonly nextBeforeVersion: number | null;
}

function changeOf(change: ChangeRequest): VersionChange {
  return {
    id: change.id,
    title: change.title,
    authorId: change.authorId,
    state: change.state,
    approvals: change.approvals.map(({ reviewerId, at, byPolicy }) => ({
      reviewerId,
      at,
      byPolicy,
    })),
    forced: change.forced.map(({ gate, adminIds, reason, at }) => ({
      gate,
      adminIds,
      reason,
      at,
    })),
    operatorAction: change.operatorAction ?? null,
    closingReason: change.closingReason ?? null,
  };
}

/** What the state of a version is judged from, read once per page. */
export interface HistoryContext {
  readonly latestVersion: number;
  /** The change rolling out now, if any. */
  readonly rolling: ChangeRequest | undefined;
}

function wroteIt(change: ChangeRequest | undefined, key: DocumentKey, version: number): boolean {
  return (
    change?.written.some((written) => written.key === key && written.version === version) ?? false
  );
}

/** Where `record` stands, given the newest version and the rollout in progress. Pure. */
export function versionStateOf(
  record: DocumentVersionRecord,
  writer: ChangeRequest | undefined,
  context: HistoryContext,
): VersionState {
  const { latestVersion, rolling } = context;
  const latestRollingOut = wroteIt(rolling, record.key, latestVersion);
  const inForce = record.version === latestVersion - (latestRollingOut ? 1 : 0);
  if (record.version === latestVersion && latestRollingOut) return "rolling_out";
  if (inForce) return record.document === null ? "retired" : "active";
  const { rollback } = writerOf(record.changeId);
  if (!rollback && writer?.state === "rolled_back" && wroteIt(writer, record.key, record.version))
    return "rolled_back";
  return "superseded";
}

/** When `record` reached every payer, if known (see `VersionEntry.activatedAt`). Pure. */
export function activatedAtOf(
  record: DocumentVersionRecord,
  writer: ChangeRequest | undefined,
): string | null {
  if (writer === undefined) return null;
  if (writerOf(record.changeId).rollback || writer.operatorAction !== undefined)
    return record.writtenAt;
  // An active change is never written again (only rolled back, which changes its state), so its
  // last write is the one that completed its rollout.
  return writer.state === "active" ? writer.updatedAt : null;
}

export class DocumentHistory {
  constructor(
    private readonly store: Pick<
      ChangeStore,
      "versionHistory" | "latestVersion" | "getChange" | "listChanges"
    >,
  ) {}

  /** A page of `key`'s versions newest first, or undefined for a document never written. */
  async page(
    key: DocumentKey,
    options: { readonly beforeVersion?: number; readonly limit: number },
  ): Promise<VersionPage | undefined> {
    const limit = Math.min(Math.max(Math.trunc(options.limit), 1), VERSION_PAGE_MAX);
    const context = await this.context(key);
    if (context === undefined) return undefined;
    const records = await this.store.versionHistory(key, {
      ...(options.beforeVersion === undefined ? {} : { beforeVersion: options.beforeVersion }),
      limit,
    });
    const entries = await this.entriesOf(records, context);
    const oldest = records.at(-1)?.version;
    return {
      key,
      latestVersion: context.latestVersion,
      versions: entries,
      nextBeforeVersion:
        oldest !== undefined && oldest > 1 && records.length === limit ? oldest : null,
    };
  }

  /** One version with its content, or undefined when the document has no such version. */
  async version(
    key: DocumentKey,
    version: number,
  ): Promise<(VersionEntry & { readonly document: ConfigDocument | null }) | undefined> {
    const context = await this.context(key);
    if (context === undefined) return undefined;
    const [record] = await this.store.versionHistory(key, { beforeVersion: version + 1, limit: 1 });
    if (record?.version !== version) return undefined;
    const [found] = await this.entriesOf([record], context);
    return { ...found!, document: record.document };
  }

  private async context(key: DocumentKey): Promise<HistoryContext | undefined> {
    const latest = await this.store.latestVersion(key);
    if (latest === undefined) return undefined;
    const [rolling] = await this.store.listChanges({ state: "rolling_out", limit: 1 });
    return { latestVersion: latest.version, rolling };
  }

  private async entriesOf(
    records: readonly DocumentVersionRecord[],
    context: HistoryContext,
  ): Promise<VersionEntry[]> {
    // One read per change, however many of the page's versions it wrote; a page is bounded.
    const changes = new Map<string, ChangeRequest | undefined>();
    for (const record of records) {
      const { changeId } = writerOf(record.changeId);
      if (!changes.has(changeId))
        changes.set(changeId, (await this.store.getChange(changeId))?.change);
    }
    return records.map((record) => {
      const { changeId, rollback } = writerOf(record.changeId);
      const writer = changes.get(changeId);
      return {
        version: record.version,
        state: versionStateOf(record, writer, context),
        retires: record.document === null,
        contentHash: record.contentHash,
        writtenAt: record.writtenAt,
        activatedAt: activatedAtOf(record, writer),
        changeId: record.changeId,
        rollback,
        change: writer === undefined ? null : changeOf(writer),
      };
    });
  }
}
