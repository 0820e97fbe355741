/**
 * The audit log in memory, for application tests: the same checks, sealing and verification as
 * the durable stores. JavaScript runs one append at a time, so the chain needs no lock.
 */
import { AuditChainVerifier, type AuditVerification } from "../core/audit/audit-chain-verifier.ts";
import type { AuditEntry, AuditEntryInput, AuditHead } from "../core/audit/audit-entry.ts";
import {
  type AppendAuditResult,
  type AuditLogStore,
  AuditLogStoreError,
  checkReadRange,
  EMPTY_AUDIT_HEAD,
  refusalOf,
  sealAuditEntry,
  sha256Hex,
  type VerifyAuditOptions,
} from "./audit-log.ts";

export class MemoryAuditLogStore implements AuditLogStore {
  private readonly entries: AuditEntry[] = [];
  private recordedHead: AuditHead = EMPTY_AUDIT_HEAD;
  private closed = false;

  async append(input: AuditEntryInput): Promise<AppendAuditResult> {
    return this.appendNow(input);
  }

  /** The same append, synchronous: the memory change store appends inside its own atomic step. */
  appendNow(input: AuditEntryInput): AppendAuditResult {
    this.checkOpen();
    const refusal = refusalOf(input);
    if (refusal !== undefined) return refusal;
    const entry = sealAuditEntry(input, this.recordedHead);
    this.entries.push(entry);
    this.recordedHead = { sequence: entry.sequence, hash: entry.hash };
    return { ok: true, entry };
  }

  async read(fromSequence: number, limit: number): Promise<readonly AuditEntry[]> {
    this.checkOpen();
    checkReadRange(fromSequence, limit);
    return this.entries.slice(fromSequence - 1, fromSequence - 1 + limit);
  }

  async head(): Promise<AuditHead> {
    this.checkOpen();
    return this.recordedHead;
  }

  async verify(options: VerifyAuditOptions = {}): Promise<AuditVerification> {
    this.checkOpen();
    const verifier = new AuditChainVerifier({
      hashText: sha256Hex,
      recordedHead: this.recordedHead,
      ...(options.anchor === undefined ? {} : { anchor: options.anchor }),
    });
    for (const entry of this.entries) verifier.add(entry);
    options.onProgress?.(this.entries.length);
    return verifier.finish();
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private checkOpen(): void {
    if (this.closed) throw new AuditLogStoreError("closed", "the memory audit log is closed");
  }
}
