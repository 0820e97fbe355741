/**
 * The incidents' store port. Every write is one atomic step with its audit entry, guarded by the
 * incident's revision, so two people (or a person and a breaker) acting on one incident at once
 * cannot both win, and no action is stored without its entry nor audited without having
 * happened (ADR 0012's rule, kept for incidents). The memory store serves application tests;
 * SQLite and PostgreSQL pass the same contract suite (test/guard/incident-store.contract.ts).
 */
import type { AuditEntryInput } from "../core/audit/audit-entry.ts";
import type { Incident } from "../core/guard/incident.ts";
import type { IncidentState } from "../core/guard/incident-lifecycle.ts";
import type { WebhookNotification } from "../core/guard/webhook-delivery.ts";
import { prepareWebhookNotification } from "./webhook-outbox.ts";

export interface StoredIncident {
  readonly incident: Incident;
  /** Grows by one with every write; a write names the revision it read. */
  readonly revision: number;
}

export type IncidentWriteResult =
  | { readonly ok: true; readonly revision: number }
  | {
      readonly ok: false;
      readonly code: "concurrent_update" | "audit_refused" | "notification_refused";
      readonly message: string;
    };

export interface IncidentStore {
  /** A new, never used incident id (`incident-1`, `incident-2`, …), also across processes. */
  nextIncidentId(): Promise<string>;
  getIncident(id: string): Promise<StoredIncident | undefined>;
  /** Incidents, newest opened first, at most `limit` (clamped to 0..1,000); optionally one state. */
  listIncidents(options: {
    readonly state?: IncidentState;
    readonly limit: number;
  }): Promise<readonly Incident[]>;
  /**
   * Writes the incident (a new one with `expectedRevision` 0), appends the audit entry and
   * enqueues the notifications to the webhook outbox in one atomic step: an incident never
   * changes without its notification, nor is one sent for a change that was not stored. The
   * notifications are written past the outbox's pending bound (incidents.md, "Notifications").
   * Refused as `concurrent_update` when the stored revision is not `expectedRevision`; as
   * `audit_refused` when the audit log refuses the entry; as `notification_refused` when a
   * notification is unusable (`prepareWebhookNotification`). Nothing is written then.
   */
  writeIncident(
    incident: Incident,
    expectedRevision: number,
    audit: AuditEntryInput,
    notifications?: readonly WebhookNotification[],
  ): Promise<IncidentWriteResult>;
  close(): Promise<void>;
}

export interface PreparedIncidentNotification {
  readonly notification: WebhookNotification;
  /** The body every endpoint receives, rendered once. */
  readonly body: string;
}

/**
 * Checks and renders the notifications of one write before its transaction begins, as every store
 * does, so a transaction never has to roll back for one.
 */
export function prepareIncidentNotifications(
  notifications: readonly WebhookNotification[],
  nowMs: number,
):
  | { readonly ok: true; readonly prepared: readonly PreparedIncidentNotification[] }
  | Extract<IncidentWriteResult, { ok: false }> {
  const prepared: PreparedIncidentNotification[] = [];
  for (const notification of notifications) {
    const rendered = prepareWebhookNotification(notification, nowMs);
    if (!rendered.ok) {
      return {
        ok: false,
        code: "notification_refused",
        message: `${notification.id}: ${rendered.code}: ${rendered.message}`,
      };
    }
    prepared.push({ notification, body: rendered.body });
  }
  return { ok: true, prepared };
}

/** Incidents one `listIncidents` returns at most. */
export const INCIDENT_LIST_LIMIT_MAX = 1_000;

/** Failures of a store, never refusals of a write (docs/reference/incidents.md). */
export const INCIDENT_STORE_ERROR_CODES = {
  closed: "The store is closed; every call after `close` fails with this code.",
  open_failed:
    "The database could not be opened or migrated, or an option is out of range; nothing was changed.",
  read_failed:
    "A read failed (connection lost, time-out, a row that is not the JSON the store wrote); retry or look at the database.",
  write_failed:
    "The transaction holding a write failed or its outcome is unknown (a connection lost during COMMIT): read the incident's revision to learn whether it was written.",
} as const;

export type IncidentStoreErrorCode = keyof typeof INCIDENT_STORE_ERROR_CODES;

export class IncidentStoreError extends Error {
  override readonly name = "IncidentStoreError";

  constructor(
    readonly code: IncidentStoreErrorCode,
    detail: string,
  ) {
    super(`incident store ${code}: ${detail}`);
  }
}

/** `incident-N`: the id of the N-th number a store handed out. */
export function incidentIdOf(number: number): string {
  return `incident-${number}`;
}

/** The limit `listIncidents` applies: clamped to 0..max, as every store does. */
export function incidentListLimitOf(limit: number): number {
  if (!Number.isFinite(limit)) return limit > 0 ? INCIDENT_LIST_LIMIT_MAX : 0;
  return Math.min(Math.max(Math.trunc(limit), 0), INCIDENT_LIST_LIMIT_MAX);
}

/** An incident read back from the JSON a store wrote; text that is not JSON is read_failed. */
export function incidentOfJson(json: string): Incident {
  try {
    return JSON.parse(json) as Incident;
  } catch (error) {
    throw new IncidentStoreError(
      "read_failed",
      `an incident is stored as text that is not JSON: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
