/**
 * The change store over plain maps: for application tests, and the model the durable stores'
 * contract is written against. Values are copied through JSON on the way in and out, as a
 * database would, so no caller can change what is stored by holding a reference.
 */
import type { AuditEntryInput } from "../core/audit/audit-entry.ts";
import type { ChangeRequest } from "../core/change/change-request.ts";
import type { DocumentKey, DocumentVersion } from "../core/change/document-versions.ts";
import {
  CHANGE_LIST_LIMIT_MAX,
  type ChangeStore,
  type ChangeWriteResult,
  type DocumentVersionRecord,
  historyBoundOf,
  type StoredChange,
  VERSION_HISTORY_LIMIT_MAX,
  versionConflictOf,
} from "./change-store.ts";
import { ChangeStoreError } from "./change-store-error.ts";
import type { MemoryAuditLogStore } from "./memory-audit-log-store.ts";

export class MemoryChangeStore implements ChangeStore {
  private readonly changes = new Map<string, { json: string; revision: number; order: number }>();
  private readonly versions = new Map<DocumentKey, string[]>();
  /** When each version was written, in the order of `versions`. */
  private readonly writtenAt = new Map<DocumentKey, string[]>();
  private changeCount = 0;
  private closed = false;

  /** Audit entries go to this log, checked before anything is written. */
  constructor(private readonly audit: MemoryAuditLogStore) {}

  async nextChangeId(): Promise<string> {
    this.checkOpen();
    this.changeCount += 1;
    return `change-${this.changeCount}`;
  }

  async getChange(id: string): Promise<StoredChange | undefined> {
    this.checkOpen();
    const stored = this.changes.get(id);
    return stored === undefined
      ? undefined
      : { change: JSON.parse(stored.json), revision: stored.revision };
  }

  async listChanges(options: {
    state?: ChangeRequest["state"];
    limit: number;
  }): Promise<readonly ChangeRequest[]> {
    this.checkOpen();
    const limit = Math.min(Math.max(options.limit, 0), CHANGE_LIST_LIMIT_MAX);
    return [...this.changes.values()]
      .sort((left, right) => right.order - left.order)
      .map((stored) => JSON.parse(stored.json) as ChangeRequest)
      .filter((change) => options.state === undefined || change.state === options.state)
      .slice(0, limit);
  }

  async writeChange(
    change: ChangeRequest,
    expectedRevision: number,
    versions: readonly DocumentVersion[],
    audit: AuditEntryInput | undefined,
  ): Promise<ChangeWriteResult> {
    this.checkOpen();
    const stored = this.changes.get(change.id);
    if ((stored?.revision ?? 0) !== expectedRevision) {
      return { ok: false, code: "concurrent_update", message: `${change.id} changed meanwhile` };
    }
    if (change.state === "rolling_out") {
      for (const [id, other] of this.changes) {
        if (id !== change.id && (JSON.parse(other.json) as ChangeRequest).state === "rolling_out") {
          return {
            ok: false,
            code: "concurrent_update",
            message: `${id} is rolling out; one at a time`,
          };
        }
      }
    }
    const conflict = versionConflictOf(versions, (key) => this.versions.get(key)?.length ?? 0);
    if (conflict !== undefined) {
      return { ok: false, code: "concurrent_update", message: `${conflict.key} changed meanwhile` };
    }
    // Nothing here awaits, so the checks above still hold when the entry is appended and the
    // change written: the step is atomic as the durable stores' transactions are.
    const appended = audit === undefined ? undefined : this.audit.appendNow(audit);
    if (appended !== undefined && !appended.ok) {
      return { ok: false, code: "audit_refused", message: appended.message };
    }
    for (const version of versions) {
      const list = this.versions.get(version.key) ?? [];
      list.push(JSON.stringify(version));
      this.versions.set(version.key, list);
      const times = this.writtenAt.get(version.key) ?? [];
      times.push(change.updatedAt);
      this.writtenAt.set(version.key, times);
    }
    const revision = expectedRevision + 1;
    const order = stored?.order ?? this.changes.size + 1;
    this.changes.set(change.id, { json: JSON.stringify(change), revision, order });
    return { ok: true, revision };
  }

  async latestVersion(key: DocumentKey): Promise<DocumentVersion | undefined> {
    this.checkOpen();
    const last = this.versions.get(key)?.at(-1);
    return last === undefined ? undefined : JSON.parse(last);
  }

  async version(key: DocumentKey, version: number): Promise<DocumentVersion | undefined> {
    this.checkOpen();
    const found = this.versions.get(key)?.[version - 1];
    return found === undefined ? undefined : JSON.parse(found);
  }

  async latestVersions(): Promise<readonly DocumentVersion[]> {
    this.checkOpen();
    return [...this.versions.values()].map((list) => JSON.parse(list.at(-1)!) as DocumentVersion);
  }

  async versionHistory(
    key: DocumentKey,
    options: { readonly beforeVersion?: number; readonly limit: number },
  ): Promise<readonly DocumentVersionRecord[]> {
    this.checkOpen();
    // Clamped as the SQL stores clamp (listLimitOf): whole numbers, NaN none, Infinity the most.
    const limit = Number.isFinite(options.limit)
      ? Math.min(Math.max(Math.trunc(options.limit), 0), VERSION_HISTORY_LIMIT_MAX)
      : options.limit > 0
        ? VERSION_HISTORY_LIMIT_MAX
        : 0;
    const below = historyBoundOf(options.beforeVersion);
    const list = this.versions.get(key) ?? [];
    const times = this.writtenAt.get(key) ?? [];
    const records: DocumentVersionRecord[] = [];
    // Version n is at index n - 1: numbers are dense, each the previous plus one.
    for (let index = Math.min(list.length, below - 1) - 1; index >= 0; index -= 1) {
      if (records.length >= limit) break;
      records.push({ ...(JSON.parse(list[index]!) as DocumentVersion), writtenAt: times[index]! });
    }
    return records;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private checkOpen(): void {
    if (this.closed) throw new ChangeStoreError("closed", "the change store is closed");
  }
}
