/**
 * The API token store over plain values, for application tests and as the model the durable
 * stores' contract is written against. Audit entries go to a memory audit log inside the same
 * synchronous step, so a write and its entry happen together or not at all; JavaScript runs one
 * step at a time, so `createFirst` needs no lock.
 */

import { API_TOKEN_LIMITS, isApiTokenId } from "../core/access/api-token.ts";
import type { AuditEntryInput } from "../core/audit/audit-entry.ts";
import {
  type ApiTokenListOptions,
  type ApiTokenRecord,
  type ApiTokenRow,
  type ApiTokenStore,
  ApiTokenStoreError,
  type ApiTokenWriteResult,
  apiTokenListLimitOf,
  apiTokenOfRow,
  apiTokenRowOf,
  type CreateApiTokenRequest,
  createRefusalOf,
  type RevokeApiTokenRequest,
  revokeMissRefusal,
  revokeRefusalOf,
  tokenCreatedAuditEntry,
  tokenIdTakenRefusal,
  tokenRevokedAuditEntry,
  tokensExistRefusal,
  tooManyTokensRefusal,
} from "./api-token-store.ts";
import type { MemoryAuditLogStore } from "./memory-audit-log-store.ts";

export class MemoryApiTokenStore implements ApiTokenStore {
  /** Rows by id, in creation order. Kept as rows, so no caller holds a reference into the store. */
  private readonly rows = new Map<string, ApiTokenRow>();
  private closed = false;

  constructor(private readonly audit: MemoryAuditLogStore) {}

  async create(request: CreateApiTokenRequest): Promise<ApiTokenWriteResult> {
    return this.createStep(request, false);
  }

  async createFirst(request: CreateApiTokenRequest): Promise<ApiTokenWriteResult> {
    return this.createStep(request, true);
  }

  async revoke(request: RevokeApiTokenRequest): Promise<ApiTokenWriteResult> {
    this.checkOpen();
    const refusal = revokeRefusalOf(request);
    if (refusal !== undefined) return refusal;
    const row = isApiTokenId(request.id) ? this.rows.get(request.id) : undefined;
    if (row === undefined || row.revoked_at_ms !== null) {
      return revokeMissRefusal(request.id, row === undefined ? undefined : apiTokenOfRow(row));
    }
    const revoked: ApiTokenRow = { ...row, revoked_at_ms: request.atMs, revoked_by: request.actor };
    this.appendAudit(tokenRevokedAuditEntry(apiTokenOfRow(row), request));
    this.rows.set(row.id, revoked);
    return { ok: true, record: apiTokenOfRow(revoked) };
  }

  async find(id: string): Promise<ApiTokenRecord | undefined> {
    this.checkOpen();
    const row = isApiTokenId(id) ? this.rows.get(id) : undefined;
    return row === undefined ? undefined : apiTokenOfRow(row);
  }

  async list(options: ApiTokenListOptions): Promise<ApiTokenRecord[]> {
    this.checkOpen();
    const limit = apiTokenListLimitOf(options.limit);
    const records: ApiTokenRecord[] = [];
    for (const row of [...this.rows.values()].reverse()) {
      if (records.length >= limit) break;
      if (options.includeRevoked || row.revoked_at_ms === null) records.push(apiTokenOfRow(row));
    }
    return records;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private createStep(request: CreateApiTokenRequest, first: boolean): ApiTokenWriteResult {
    this.checkOpen();
    const refusal = createRefusalOf(request);
    if (refusal !== undefined) return refusal;
    if (first && this.rows.size > 0) return tokensExistRefusal();
    if (this.rows.has(request.record.id)) return tokenIdTakenRefusal(request.record.id);
    const active = this.activeCount();
    if (active >= API_TOKEN_LIMITS.activeTokensMax) return tooManyTokensRefusal(active);
    const row = apiTokenRowOf(request.record);
    this.appendAudit(tokenCreatedAuditEntry(request.record));
    this.rows.set(row.id, row);
    return { ok: true, record: apiTokenOfRow(row) };
  }

  private activeCount(): number {
    let active = 0;
    for (const row of this.rows.values()) if (row.revoked_at_ms === null) active += 1;
    return active;
  }

  /** The entry was checked with the request, so a refusal here is a bug. */
  private appendAudit(entry: AuditEntryInput): void {
    const appended = this.audit.appendNow(entry);
    if (!appended.ok) throw new Error(`the audit log refused a checked entry: ${appended.code}`);
  }

  private checkOpen(): void {
    if (this.closed) throw new ApiTokenStoreError("closed", "the memory api token store is closed");
  }
}
