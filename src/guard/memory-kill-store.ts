/**
 * The kill store over plain values, for application tests and as the model the durable stores'
 * contract is written against. Audit entries go to a memory audit log inside the same synchronous
 * step, so a write and its entry happen together or not at all. It pushes changes to listeners
 * (on a microtask, after the write), as PostgreSQL's notifications do after COMMIT.
 */
import { refusalOf } from "../control/audit-log.ts";
import type { MemoryAuditLogStore } from "../control/memory-audit-log-store.ts";
import { KILL_LIMITS, type Kill, type KillState } from "../core/guard/kill.ts";
import {
  type ClearKillRequest,
  clearRefusalOf,
  type KillStore,
  KillStoreError,
  type KillStoreListener,
  type KillSubscription,
  type KillWriteResult,
  killClearedAuditEntry,
  killOfRow,
  killSetAuditEntry,
  type PublishKillRequest,
  publishRefusalOf,
  scopeJson,
} from "./kill-store.ts";

export class MemoryKillStore implements KillStore {
  private sequence = 0;
  /** Active kills by their sequence, in insertion (= sequence) order. */
  private readonly active = new Map<number, Kill>();
  private readonly listeners = new Set<KillStoreListener>();
  private closed = false;

  constructor(private readonly audit: MemoryAuditLogStore) {}

  async publishKill(request: PublishKillRequest): Promise<KillWriteResult> {
    this.checkOpen();
    const refusal = publishRefusalOf(request);
    if (refusal !== undefined) return refusal;
    if (this.active.size >= KILL_LIMITS.activeKillsMax) {
      return { ok: false, code: "too_many_kills", message: `${this.active.size} kills are active` };
    }
    // Through the stored form, as a database would: no caller keeps a reference into the store.
    const kill = killOfRow({
      sequence: this.sequence + 1,
      scope_json: scopeJson(request.scope),
      reason: request.reason,
      actor: request.actor,
      at_ms: request.atMs,
    });
    const entry = killSetAuditEntry(kill);
    const auditRefusal = refusalOf(entry);
    if (auditRefusal !== undefined && !auditRefusal.ok) {
      return {
        ok: false,
        code: "audit_refused",
        message: `${auditRefusal.code}: ${auditRefusal.message}`,
      };
    }
    this.audit.appendNow(entry);
    this.sequence = kill.sequence;
    this.active.set(kill.sequence, kill);
    this.signal();
    return { ok: true, kill, sequence: this.sequence };
  }

  async clearKill(request: ClearKillRequest): Promise<KillWriteResult> {
    this.checkOpen();
    const refusal = clearRefusalOf(request);
    if (refusal !== undefined) return refusal;
    const kill = this.active.get(request.killSequence);
    if (kill === undefined) {
      return {
        ok: false,
        code: "kill_not_active",
        message: `kill ${request.killSequence} is not active`,
      };
    }
    const entry = killClearedAuditEntry(kill, request, this.sequence + 1);
    const auditRefusal = refusalOf(entry);
    if (auditRefusal !== undefined && !auditRefusal.ok) {
      return {
        ok: false,
        code: "audit_refused",
        message: `${auditRefusal.code}: ${auditRefusal.message}`,
      };
    }
    this.audit.appendNow(entry);
    this.sequence += 1;
    this.active.delete(kill.sequence);
    this.signal();
    return { ok: true, kill, sequence: this.sequence };
  }

  async readState(): Promise<KillState> {
    this.checkOpen();
    return { sequence: this.sequence, active: [...this.active.values()] };
  }

  async readSequence(): Promise<number> {
    this.checkOpen();
    return this.sequence;
  }

  async listen(listener: KillStoreListener): Promise<KillSubscription> {
    this.checkOpen();
    this.listeners.add(listener);
    return {
      stop: async () => {
        this.listeners.delete(listener);
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
  }

  private signal(): void {
    // After the write has returned, as a notification arrives after COMMIT.
    for (const listener of this.listeners) queueMicrotask(() => listener.onSignal());
  }

  private checkOpen(): void {
    if (this.closed) throw new KillStoreError("closed", "the memory kill store is closed");
  }
}
