/**
 * The webhook outbox over plain maps: for application tests, and the model the durable stores'
 * contract is written against. Nothing here awaits between a check and its write, so every
 * call is one atomic step, as the durable stores' transactions are. Rows are copied on the way
 * in and out, so no caller changes what is stored by holding a reference.
 */

import type { MemoryAuditLogStore } from "../control/memory-audit-log-store.ts";
import type { AuditEntryInput } from "../core/audit/audit-entry.ts";
import {
  WEBHOOK_DELIVERY_LIMITS,
  type WebhookAttemptCode,
  type WebhookDeadReason,
  type WebhookDeliveryState,
  type WebhookNotification,
  webhookDeliveryId,
} from "../core/guard/webhook-delivery.ts";
import {
  WEBHOOK_ENDPOINT_LIMITS,
  type WebhookEndpoint,
  type WebhookEndpointListing,
  webhookEndpointProblem,
  webhookEndpointWants,
} from "../core/guard/webhook-endpoint.ts";
import {
  type ClaimedWebhookDelivery,
  claimRequestProblem,
  outboxFullRefusal,
  prepareWebhookNotification,
  type WebhookAttemptListing,
  type WebhookAttemptOutcome,
  type WebhookClaimRequest,
  type WebhookDeliveryFilter,
  type WebhookDeliveryListing,
  type WebhookEndpointWriteResult,
  type WebhookEnqueueResult,
  type WebhookFinishResult,
  type WebhookOutbox,
  WebhookOutboxError,
  webhookListLimitOf,
} from "./webhook-outbox.ts";

interface StoredEndpoint extends WebhookEndpoint {
  readonly createdAtMs: number;
}

interface StoredDelivery {
  readonly deliveryId: string;
  readonly position: number;
  readonly endpointId: string;
  readonly notificationId: string;
  readonly eventType: string;
  readonly body: string;
  state: WebhookDeliveryState;
  attempts: number;
  nextAttemptAtMs: number;
  claimToken: string | null;
  readonly createdAtMs: number;
  finishedAtMs: number | null;
  lastAttemptCode: WebhookAttemptCode | null;
  lastStatus: number | null;
  deadReason: WebhookDeadReason | null;
  readonly attemptList: WebhookAttemptListing[];
}

export interface MemoryWebhookOutboxOptions {
  /** Endpoint changes' audit entries go here; without it they are refused as `audit_refused`. */
  readonly audit?: MemoryAuditLogStore;
  readonly pendingMax?: number;
}

export class MemoryWebhookOutbox implements WebhookOutbox {
  private readonly endpoints = new Map<string, StoredEndpoint>();
  private readonly deliveries = new Map<string, StoredDelivery>();
  private readonly pendingMax: number;
  private closed = false;

  constructor(private readonly options: MemoryWebhookOutboxOptions = {}) {
    this.pendingMax = options.pendingMax ?? WEBHOOK_DELIVERY_LIMITS.pendingMax;
  }

  async addEndpoint(
    endpoint: WebhookEndpoint,
    nowMs: number,
    audit: AuditEntryInput | undefined,
  ): Promise<WebhookEndpointWriteResult> {
    this.checkOpen();
    const problem = webhookEndpointProblem(endpoint);
    if (problem !== undefined) return { ok: false, code: problem.code, message: problem.message };
    if (this.endpoints.has(endpoint.id)) {
      return { ok: false, code: "endpoint_exists", message: `${endpoint.id} is configured` };
    }
    if (this.endpoints.size >= WEBHOOK_ENDPOINT_LIMITS.endpointsMax) {
      return {
        ok: false,
        code: "too_many_endpoints",
        message: `${this.endpoints.size} configured`,
      };
    }
    const refusal = this.appendAudit(audit);
    if (refusal !== undefined) return refusal;
    this.endpoints.set(endpoint.id, {
      id: endpoint.id,
      url: endpoint.url,
      secret: endpoint.secret,
      eventTypes: [...endpoint.eventTypes],
      enabled: endpoint.enabled,
      createdAtMs: nowMs,
    });
    return { ok: true };
  }

  async removeEndpoint(
    id: string,
    nowMs: number,
    audit: AuditEntryInput | undefined,
  ): Promise<WebhookEndpointWriteResult> {
    this.checkOpen();
    if (!this.endpoints.has(id)) {
      return { ok: false, code: "endpoint_not_found", message: `${id} is not configured` };
    }
    const refusal = this.appendAudit(audit);
    if (refusal !== undefined) return refusal;
    this.endpoints.delete(id);
    for (const delivery of this.deliveries.values()) {
      if (delivery.endpointId === id && delivery.state === "pending") {
        delivery.state = "dead";
        delivery.deadReason = "endpoint_removed";
        delivery.claimToken = null;
        delivery.finishedAtMs = nowMs;
      }
    }
    return { ok: true };
  }

  async setEndpointEnabled(
    id: string,
    enabled: boolean,
    audit: AuditEntryInput | undefined,
  ): Promise<WebhookEndpointWriteResult> {
    this.checkOpen();
    const stored = this.endpoints.get(id);
    if (stored === undefined) {
      return { ok: false, code: "endpoint_not_found", message: `${id} is not configured` };
    }
    const refusal = this.appendAudit(audit);
    if (refusal !== undefined) return refusal;
    this.endpoints.set(id, { ...stored, enabled });
    return { ok: true };
  }

  async listEndpoints(): Promise<readonly WebhookEndpointListing[]> {
    this.checkOpen();
    return [...this.endpoints.values()]
      .sort((left, right) => (left.id < right.id ? -1 : 1))
      .map(({ secret: _secret, ...listing }) => ({
        ...listing,
        eventTypes: [...listing.eventTypes],
      }));
  }

  async enqueue(notification: WebhookNotification, nowMs: number): Promise<WebhookEnqueueResult> {
    return this.enqueueNow(notification, nowMs, this.pendingMax);
  }

  /**
   * The enqueue as one synchronous step, for the memory incident store's write (which must be
   * atomic, as the durable stores' transactions are). `pendingMax` null passes the bound.
   */
  enqueueNow(
    notification: WebhookNotification,
    nowMs: number,
    pendingMax: number | null,
  ): WebhookEnqueueResult {
    this.checkOpen();
    const prepared = prepareWebhookNotification(notification, nowMs);
    if (!prepared.ok) return prepared;
    const targets = [...this.endpoints.values()]
      .filter((endpoint) => webhookEndpointWants(endpoint, notification.eventType))
      .map((endpoint) => endpoint.id)
      .sort();
    const deliveryIds = targets.map((endpointId) => webhookDeliveryId(notification.id, endpointId));
    const fresh = deliveryIds.filter((id) => !this.deliveries.has(id));
    if (pendingMax !== null) {
      const pending = [...this.deliveries.values()].filter(
        (each) => each.state === "pending",
      ).length;
      const full = outboxFullRefusal(pending, fresh.length, pendingMax);
      if (full !== undefined) return full;
    }
    for (const [index, endpointId] of targets.entries()) {
      const deliveryId = deliveryIds[index]!;
      if (this.deliveries.has(deliveryId)) continue;
      this.deliveries.set(deliveryId, {
        deliveryId,
        position: this.deliveries.size + 1,
        endpointId,
        notificationId: notification.id,
        eventType: notification.eventType,
        body: prepared.body,
        state: "pending",
        attempts: 0,
        nextAttemptAtMs: nowMs,
        claimToken: null,
        createdAtMs: nowMs,
        finishedAtMs: null,
        lastAttemptCode: null,
        lastStatus: null,
        deadReason: null,
        attemptList: [],
      });
    }
    return { ok: true, deliveryIds, added: fresh.length };
  }

  async claimDue(request: WebhookClaimRequest): Promise<readonly ClaimedWebhookDelivery[]> {
    this.checkOpen();
    const problem = claimRequestProblem(request);
    if (problem !== undefined) throw new WebhookOutboxError("read_failed", `bad claim: ${problem}`);
    const due = [...this.deliveries.values()]
      .filter(
        (delivery) =>
          delivery.state === "pending" &&
          delivery.nextAttemptAtMs <= request.nowMs &&
          this.endpoints.get(delivery.endpointId)?.enabled === true,
      )
      .sort(
        (left, right) =>
          left.nextAttemptAtMs - right.nextAttemptAtMs || left.position - right.position,
      );
    const claimed: ClaimedWebhookDelivery[] = [];
    for (const delivery of due) {
      if (delivery.attempts >= request.attemptsMax) {
        delivery.state = "dead";
        delivery.deadReason = "claim_expired";
        delivery.claimToken = null;
        delivery.finishedAtMs = request.nowMs;
        continue;
      }
      if (claimed.length >= request.limit) continue;
      const endpoint = this.endpoints.get(delivery.endpointId)!;
      delivery.attempts += 1;
      delivery.claimToken = request.claimToken;
      delivery.nextAttemptAtMs = request.nowMs + request.claimMs;
      delivery.attemptList.push({
        attempt: delivery.attempts,
        startedAtMs: request.nowMs,
        finishedAtMs: null,
        code: null,
        status: null,
      });
      claimed.push({
        deliveryId: delivery.deliveryId,
        endpointId: delivery.endpointId,
        url: endpoint.url,
        secret: endpoint.secret,
        eventType: delivery.eventType,
        notificationId: delivery.notificationId,
        body: delivery.body,
        attempt: delivery.attempts,
        claimToken: request.claimToken,
      });
    }
    return claimed;
  }

  async finishAttempt(outcome: WebhookAttemptOutcome): Promise<WebhookFinishResult> {
    this.checkOpen();
    const delivery = this.deliveries.get(outcome.deliveryId);
    if (
      delivery === undefined ||
      delivery.state !== "pending" ||
      delivery.claimToken !== outcome.claimToken ||
      delivery.attempts !== outcome.attempt
    ) {
      return {
        ok: false,
        code: "claim_lost",
        message: `${outcome.deliveryId} is no longer claimed`,
      };
    }
    const attempt = delivery.attemptList[outcome.attempt - 1]!;
    delivery.attemptList[outcome.attempt - 1] = {
      ...attempt,
      finishedAtMs: outcome.finishedAtMs,
      code: outcome.code,
      status: outcome.status,
    };
    delivery.claimToken = null;
    delivery.lastAttemptCode = outcome.code;
    delivery.lastStatus = outcome.status;
    delivery.state = outcome.next.state;
    if (outcome.next.state === "pending") {
      delivery.nextAttemptAtMs = outcome.next.nextAttemptAtMs;
    } else {
      delivery.finishedAtMs = outcome.finishedAtMs;
      if (outcome.next.state === "dead") delivery.deadReason = outcome.next.deadReason;
    }
    return { ok: true };
  }

  async listDeliveries(filter: WebhookDeliveryFilter): Promise<readonly WebhookDeliveryListing[]> {
    this.checkOpen();
    return [...this.deliveries.values()]
      .filter(
        (delivery) =>
          (filter.state === undefined || delivery.state === filter.state) &&
          (filter.endpointId === undefined || delivery.endpointId === filter.endpointId),
      )
      .sort((left, right) => right.position - left.position)
      .slice(0, webhookListLimitOf(filter.limit))
      .map((delivery) => ({
        deliveryId: delivery.deliveryId,
        endpointId: delivery.endpointId,
        notificationId: delivery.notificationId,
        eventType: delivery.eventType,
        state: delivery.state,
        attempts: delivery.attempts,
        nextAttemptAtMs: delivery.state === "pending" ? delivery.nextAttemptAtMs : null,
        createdAtMs: delivery.createdAtMs,
        finishedAtMs: delivery.finishedAtMs,
        lastAttemptCode: delivery.lastAttemptCode,
        lastStatus: delivery.lastStatus,
        deadReason: delivery.deadReason,
      }));
  }

  async attemptsOf(deliveryId: string): Promise<readonly WebhookAttemptListing[]> {
    this.checkOpen();
    return (this.deliveries.get(deliveryId)?.attemptList ?? []).map((attempt) => ({ ...attempt }));
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private appendAudit(audit: AuditEntryInput | undefined): WebhookEndpointWriteResult | undefined {
    if (audit === undefined) return undefined;
    if (this.options.audit === undefined) {
      return { ok: false, code: "audit_refused", message: "this outbox has no audit log" };
    }
    const appended = this.options.audit.appendNow(audit);
    return appended.ok
      ? undefined
      : { ok: false, code: "audit_refused", message: `${appended.code}: ${appended.message}` };
  }

  private checkOpen(): void {
    if (this.closed) throw new WebhookOutboxError("closed", "the webhook outbox is closed");
  }
}
