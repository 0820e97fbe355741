/**
 * The incident store over a plain map: for application tests, and the model the durable stores'
 * contract is written against. Values are copied through JSON on the way in and out, as a
 * database would, so no caller can change what is stored by holding a reference.
 */
import type { MemoryAuditLogStore } from "../control/memory-audit-log-store.ts";
import type { AuditEntryInput } from "../core/audit/audit-entry.ts";
import type { Incident } from "../core/guard/incident.ts";
import type { IncidentState } from "../core/guard/incident-lifecycle.ts";
import type { WebhookNotification } from "../core/guard/webhook-delivery.ts";
import {
  type IncidentStore,
  IncidentStoreError,
  type IncidentWriteResult,
  incidentIdOf,
  incidentListLimitOf,
  incidentOfJson,
  prepareIncidentNotifications,
  type StoredIncident,
} from "./incident-store.ts";
import type { MemoryWebhookOutbox } from "./memory-webhook-outbox.ts";

export class MemoryIncidentStore implements IncidentStore {
  private readonly incidents = new Map<string, { json: string; revision: number; order: number }>();
  private incidentCount = 0;
  private closed = false;

  /**
   * Audit entries go to this log, checked before anything is written; notifications to `outbox`
   * (without one, as if no endpoint were configured).
   */
  constructor(
    private readonly audit: MemoryAuditLogStore,
    private readonly outbox?: MemoryWebhookOutbox,
  ) {}

  async nextIncidentId(): Promise<string> {
    this.checkOpen();
    this.incidentCount += 1;
    return incidentIdOf(this.incidentCount);
  }

  async getIncident(id: string): Promise<StoredIncident | undefined> {
    this.checkOpen();
    const stored = this.incidents.get(id);
    return stored === undefined
      ? undefined
      : { incident: incidentOfJson(stored.json), revision: stored.revision };
  }

  async listIncidents(options: {
    readonly state?: IncidentState;
    readonly limit: number;
  }): Promise<readonly Incident[]> {
    this.checkOpen();
    return [...this.incidents.values()]
      .sort((left, right) => right.order - left.order)
      .map((stored) => incidentOfJson(stored.json))
      .filter((incident) => options.state === undefined || incident.state === options.state)
      .slice(0, incidentListLimitOf(options.limit));
  }

  async writeIncident(
    incident: Incident,
    expectedRevision: number,
    audit: AuditEntryInput,
    notifications: readonly WebhookNotification[] = [],
  ): Promise<IncidentWriteResult> {
    this.checkOpen();
    const prepared = prepareIncidentNotifications(notifications, incident.updatedAtMs);
    if (!prepared.ok) return prepared;
    const stored = this.incidents.get(incident.id);
    if ((stored?.revision ?? 0) !== expectedRevision) {
      return { ok: false, code: "concurrent_update", message: `${incident.id} changed meanwhile` };
    }
    // Nothing here awaits, so the check above still holds when the entry is appended and the
    // incident written: the step is atomic as the durable stores' transactions are.
    const appended = this.audit.appendNow(audit);
    if (!appended.ok) return { ok: false, code: "audit_refused", message: appended.message };
    const revision = expectedRevision + 1;
    const order = stored?.order ?? this.incidents.size + 1;
    this.incidents.set(incident.id, { json: JSON.stringify(incident), revision, order });
    for (const { notification } of prepared.prepared) {
      // Unbounded (null): an incident's notification is never refused for a full outbox.
      this.outbox?.enqueueNow(notification, incident.updatedAtMs, null);
    }
    return { ok: true, revision };
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private checkOpen(): void {
    if (this.closed) throw new IncidentStoreError("closed", "the incident store is closed");
  }
}
