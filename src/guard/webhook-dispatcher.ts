/**
 * Delivers the outbox's due deliveries (docs/reference/webhooks.md, ADR 0017): claims up to its
 * free slots, POSTs each signed body with a time-out, and records the outcome and the next state
 * (delivered on a 2xx, else retried with backoff and jitter, dead after the last attempt).
 * Deliveries are at least once: a dispatcher that crashes between the POST and the record leaves
 * a claim that expires, and the delivery is attempted again under the same `Bursar-Delivery` id,
 * which receivers deduplicate on. Any number of dispatchers may run over one store; a claim is
 * taken by one of them only.
 *
 * Time, sleeping, randomness, claim tokens and the HTTP call are injected, so tests run the
 * whole retry schedule in milliseconds and a replay is reproducible.
 */
import { randomUUID } from "node:crypto";
import {
  type WebhookAttemptCode,
  type WebhookDeliveryNext,
  webhookAttemptCodeOfStatus,
  webhookDeliveryNext,
} from "../core/guard/webhook-delivery.ts";
import {
  DEFAULT_WEBHOOK_RETRY_POLICY,
  type WebhookRetryPolicy,
  webhookRetryPolicyProblem,
} from "../core/guard/webhook-retry.ts";
import type { ClaimedWebhookDelivery, WebhookOutbox } from "./webhook-outbox.ts";
import { signWebhookBody } from "./webhook-signing.ts";

export interface WebhookPostRequest {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly timeoutMs: number;
}

export type WebhookPostResult =
  | { readonly status: number }
  | { readonly error: "timeout" | "network_error"; readonly detail: string };

/** Sends one request; never throws for the endpoint's failures, only returns them. */
export type WebhookPost = (request: WebhookPostRequest) => Promise<WebhookPostResult>;

/** What a dispatcher reports after each attempt: no secret, no body, no URL. */
export interface WebhookAttemptReport {
  readonly deliveryId: string;
  readonly endpointId: string;
  readonly eventType: string;
  readonly attempt: number;
  readonly code: WebhookAttemptCode;
  readonly status: number | null;
  readonly durationMs: number;
  readonly next: WebhookDeliveryNext;
  /** False when the claim expired meanwhile: the outcome was not recorded, another attempt follows. */
  readonly recorded: boolean;
}

export interface WebhookDispatcherOptions {
  readonly outbox: WebhookOutbox;
  readonly policy?: WebhookRetryPolicy;
  /** Attempts in flight at once, at most; a claim takes no more than the free slots. */
  readonly concurrencyMax?: number;
  /** How long one POST may take to answer with a status. */
  readonly timeoutMs?: number;
  /** How long a claim holds; at least twice the time-out, so a live attempt is never re-claimed. */
  readonly claimMs?: number;
  /** How long the loop sleeps when nothing is due. */
  readonly pollIntervalMs?: number;
  readonly post?: WebhookPost;
  readonly nowMs?: () => number;
  /** Resolves after `ms`, or at once when `signal` aborts. */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** A number in [0, 1) for the jitter. */
  readonly random01?: () => number;
  /** A token unique to one claim, across processes and restarts. */
  readonly newClaimToken?: () => string;
  readonly onAttempt?: (report: WebhookAttemptReport) => void;
  /** A store failure: the loop goes on after sleeping; claims held expire and are retried. */
  readonly onError?: (error: unknown) => void;
}

export const WEBHOOK_DISPATCHER_DEFAULTS = {
  concurrencyMax: 4,
  timeoutMs: 10_000,
  claimMs: 60_000,
  pollIntervalMs: 1_000,
} as const;

const OPTION_RANGES = {
  concurrencyMax: [1, 64],
  timeoutMs: [1, 120_000],
  claimMs: [2, 3_600_000],
  pollIntervalMs: [1, 600_000],
} as const;

export const WEBHOOK_USER_AGENT = "Bursar-Webhooks/1";

export class WebhookDispatcher {
  private readonly outbox: WebhookOutbox;
  private readonly policy: WebhookRetryPolicy;
  private readonly concurrencyMax: number;
  private readonly timeoutMs: number;
  private readonly claimMs: number;
  private readonly pollIntervalMs: number;
  private readonly post: WebhookPost;
  private readonly nowMs: () => number;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly random01: () => number;
  private readonly newClaimToken: () => string;
  private readonly onAttempt: (report: WebhookAttemptReport) => void;
  private readonly onError: (error: unknown) => void;
  private readonly inFlight = new Set<Promise<void>>();
  private loop: Promise<void> | undefined;
  private stopping = false;
  private wake: AbortController | undefined;

  constructor(options: WebhookDispatcherOptions) {
    this.outbox = options.outbox;
    this.policy = options.policy ?? DEFAULT_WEBHOOK_RETRY_POLICY;
    const policyProblem = webhookRetryPolicyProblem(this.policy);
    if (policyProblem !== undefined) throw new RangeError(`webhook retry policy: ${policyProblem}`);
    const option = (name: keyof typeof OPTION_RANGES): number => {
      const [minimum, maximum] = OPTION_RANGES[name];
      const value = options[name] ?? WEBHOOK_DISPATCHER_DEFAULTS[name];
      if (!Number.isSafeInteger(value) || value < minimum || value > maximum) {
        throw new RangeError(
          `webhook dispatcher ${name} ${value} is not within ${minimum}..${maximum}`,
        );
      }
      return value;
    };
    this.concurrencyMax = option("concurrencyMax");
    this.timeoutMs = option("timeoutMs");
    this.claimMs = option("claimMs");
    this.pollIntervalMs = option("pollIntervalMs");
    if (this.claimMs < 2 * this.timeoutMs) {
      throw new RangeError(
        `webhook dispatcher claimMs ${this.claimMs} is less than twice timeoutMs`,
      );
    }
    this.post = options.post ?? fetchWebhookPost;
    this.nowMs = options.nowMs ?? Date.now;
    this.sleep = options.sleep ?? sleepUnlessAborted;
    this.random01 = options.random01 ?? Math.random;
    this.newClaimToken = options.newClaimToken ?? randomUUID;
    this.onAttempt = options.onAttempt ?? (() => {});
    this.onError = options.onError ?? (() => {});
  }

  /** Attempts in flight now. */
  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /**
   * Claims what is due now (up to the free slots), attempts it and waits for every attempt it
   * started to be recorded. Returns how many it started. For tests and one-shot runs; `start`
   * runs it in a loop.
   */
  async runOnce(): Promise<number> {
    const started = await this.claimAndStart();
    await Promise.all([...this.inFlight]);
    return started;
  }

  /** Runs until `stop`: claims whenever a slot is free, sleeps when nothing is due. */
  start(): void {
    if (this.loop !== undefined) throw new Error("the webhook dispatcher is started already");
    this.stopping = false;
    this.loop = this.run();
  }

  /**
   * Stops claiming, then waits for the attempts in flight to be recorded (each bounded by the
   * time-out), so nothing this dispatcher claimed is left to a claim's expiry.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.abort();
    await this.loop;
    this.loop = undefined;
    await Promise.all([...this.inFlight]);
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      let started = 0;
      if (this.inFlight.size < this.concurrencyMax) {
        try {
          started = await this.claimAndStart();
        } catch (error) {
          this.onError(error);
        }
      }
      if (this.stopping) break;
      // A full claim suggests more is due: claim again at once while slots are free.
      if (started > 0 && this.inFlight.size < this.concurrencyMax) continue;
      this.wake = new AbortController();
      await this.sleep(this.pollIntervalMs, this.wake.signal);
      this.wake = undefined;
    }
  }

  private async claimAndStart(): Promise<number> {
    const free = this.concurrencyMax - this.inFlight.size;
    if (free <= 0) return 0;
    const claimed = await this.outbox.claimDue({
      nowMs: this.nowMs(),
      limit: free,
      claimMs: this.claimMs,
      claimToken: this.newClaimToken(),
      attemptsMax: this.policy.attemptsMax,
    });
    for (const delivery of claimed) {
      const attempt = this.attempt(delivery).finally(() => {
        this.inFlight.delete(attempt);
        // A slot is free: the loop need not sleep out its interval.
        this.wake?.abort();
      });
      this.inFlight.add(attempt);
    }
    return claimed.length;
  }

  private async attempt(delivery: ClaimedWebhookDelivery): Promise<void> {
    const startedAtMs = this.nowMs();
    const headers = {
      "content-type": "application/json",
      "user-agent": WEBHOOK_USER_AGENT,
      "bursar-event": delivery.eventType,
      "bursar-delivery": delivery.deliveryId,
      "bursar-attempt": String(delivery.attempt),
      "bursar-signature": signWebhookBody(delivery.secret, delivery.body, startedAtMs),
    };
    let result: WebhookPostResult;
    try {
      result = await this.post({
        url: delivery.url,
        headers,
        body: delivery.body,
        timeoutMs: this.timeoutMs,
      });
    } catch (error) {
      // An injected poster that throws is treated as the network failing, never as a crash.
      result = {
        error: "network_error",
        detail: error instanceof Error ? error.message : String(error),
      };
    }
    const code = "status" in result ? webhookAttemptCodeOfStatus(result.status) : result.error;
    const status = "status" in result ? result.status : null;
    const finishedAtMs = this.nowMs();
    const next = webhookDeliveryNext(
      this.policy,
      delivery.attempt,
      code,
      finishedAtMs,
      this.random01(),
    );
    let recorded = false;
    try {
      const finished = await this.outbox.finishAttempt({
        deliveryId: delivery.deliveryId,
        claimToken: delivery.claimToken,
        attempt: delivery.attempt,
        code,
        status,
        finishedAtMs,
        next,
      });
      recorded = finished.ok;
    } catch (error) {
      // Unrecorded: the claim expires and the delivery is attempted again (at least once).
      this.onError(error);
    }
    this.onAttempt({
      deliveryId: delivery.deliveryId,
      endpointId: delivery.endpointId,
      eventType: delivery.eventType,
      attempt: delivery.attempt,
      code,
      status,
      durationMs: finishedAtMs - startedAtMs,
      next,
      recorded,
    });
  }
}

/**
 * POSTs with node's fetch: redirects are not followed (a redirect could carry a signed body
 * somewhere not configured; it counts as a failed attempt), the answer's body is not read, and
 * the time-out covers connecting and the status line.
 */
export const fetchWebhookPost: WebhookPost = async (request) => {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), request.timeoutMs);
  try {
    const response = await fetch(request.url, {
      method: "POST",
      headers: request.headers,
      body: request.body,
      redirect: "manual",
      signal: controller.signal,
    });
    // The body is of no use and may be large: let the connection go without reading it.
    await response.body?.cancel().catch(() => {});
    return { status: response.status };
  } catch (error) {
    if (controller.signal.aborted)
      return { error: "timeout", detail: `no answer in ${request.timeoutMs} ms` };
    const cause =
      error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : "";
    return {
      error: "network_error",
      detail: `${error instanceof Error ? error.message : String(error)}${cause}`,
    };
  } finally {
    clearTimeout(timer);
  }
};

function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
