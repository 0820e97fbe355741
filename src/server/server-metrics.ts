/**
 * The server's Prometheus metrics (docs/reference/http-api.md, "Metrics"), in a registry of its
 * own so two servers in one process (tests) never share counters. Label values are bounded: routes
 * are the table's patterns, reasons the reason-code catalog, campaigns and funders the served
 * configuration's (at most the snapshot's campaign limit).
 */
import {
  Counter,
  type CounterConfiguration,
  collectDefaultMetrics,
  Gauge,
  Histogram,
  type LabelValues,
  Registry,
} from "prom-client";
import type { Decision } from "../core/evaluator/decision.ts";
import { BREAKER_STATES } from "../core/guard/breaker-lifecycle.ts";
import { WHOLE_TRAFFIC_BPS } from "../core/guard/guard-monitors.ts";
import type { ProposalCheck } from "../core/guard/proposal-check.ts";
import type { RecordedCheck } from "../core/ledger/checked-subsidies.ts";
import type { ReservationAnswer } from "../core/ledger/reservation.ts";
import type { KillConfirmationCode } from "../guard/kill-confirmer.ts";

/** Latency buckets in seconds: a payment's budget is milliseconds, a control action's seconds. */
const LATENCY_BUCKETS_S = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
];

/** What the metrics read at scrape time, from the running server. */
export interface MetricsSources {
  readonly breakers: () => readonly { breakerId: string; state: string }[];
  readonly snapshot: () => { version: number; loadedAtMs: number } | undefined;
  readonly rolloutShareBps: () => number;
  /** This process's declared share of the traffic, in bps: fixed at start. */
  readonly trafficShareBps: number;
  readonly killStale: () => boolean;
  /** Money this process holds in budget leases (PostgreSQL); 0 for a store without leases. */
  readonly leaseHeldMinor: () => number;
  readonly nowMs: () => number;
}

export class ServerMetrics {
  readonly registry = new Registry();
  private readonly requestSeconds: Histogram<"route" | "method" | "status">;
  /**
   * Each label set's child, bound once: binding is the dearest part of a labelled call. The keys
   * are bounded as the labels are (routes, statuses).
   */
  private readonly requestChildren = new Map<string, { observe(value: number): void }>();
  private readonly decisions: TalliedCounter<"operation" | "reason">;
  private readonly reservedSubsidyMinor: TalliedCounter<"campaign" | "funding">;
  private readonly ledgerAnswers: TalliedCounter<"operation" | "code">;
  private readonly ledgerFailures: Counter<"cause">;
  private readonly ledgerBatchRequests: Histogram;
  private readonly ledgerCommitSeconds: Histogram;
  private readonly guardProposals: TalliedCounter<"outcome" | "reason">;
  private readonly guardAllowedMinor: TalliedCounter<never>;
  private readonly guardLedger: TalliedCounter<"outcome">;
  private readonly killConfirmations: Counter<"outcome">;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: "bursar_process_" });
    this.requestSeconds = new Histogram({
      name: "bursar_http_request_duration_seconds",
      help: "Time from a request's arrival to its response, by route pattern, method and status.",
      labelNames: ["route", "method", "status"],
      buckets: LATENCY_BUCKETS_S,
      registers,
    });
    this.decisions = new TalliedCounter({
      name: "bursar_decisions_total",
      help: "Payments decided, by operation (quote, apply) and reason code (granted when something was granted, none when nothing matched).",
      labelNames: ["operation", "reason"],
      registers,
    });
    this.reservedSubsidyMinor = new TalliedCounter({
      name: "bursar_subsidy_reserved_minor_total",
      help: "Subsidy reserved in the ledger, in minor units, by campaign and funding source.",
      labelNames: ["campaign", "funding"],
      registers,
    });
    this.guardProposals = new TalliedCounter({
      name: "bursar_guard_check_proposals_total",
      help: "Guard mode: external proposals answered, by outcome (allowed, clamped, refused) and reason code (none unless refused).",
      labelNames: ["outcome", "reason"],
      registers,
    });
    this.guardAllowedMinor = new TalliedCounter({
      name: "bursar_guard_check_allowed_minor_total",
      help: "Guard mode: external subsidies allowed (allowed and clamped amounts), in minor units; a replayed answer is not counted again.",
      registers,
    });
    this.guardLedger = new TalliedCounter({
      name: "bursar_guard_check_ledger_total",
      help: "Guard mode: checks by what the ledger of checked subsidies did (recorded, replayed, nothing_allowed, unavailable, idempotency_conflict, …).",
      labelNames: ["outcome"],
      registers,
    });
    this.killConfirmations = new Counter({
      name: "bursar_kill_confirmations_total",
      help: "Kills this process obeys that other processes published, by what became of its confirmation on the kill's incident (confirmed, already_confirmed, no_incident, incident_refused, store_failed, too_many_pending); a retried attempt is counted each time.",
      labelNames: ["outcome"],
      registers,
    });
    this.ledgerAnswers = new TalliedCounter({
      name: "bursar_ledger_answers_total",
      help: "The ledger's answers by operation (apply, commit, release, refund) and code.",
      labelNames: ["operation", "code"],
      registers,
    });
    this.ledgerFailures = new Counter({
      name: "bursar_ledger_failures_total",
      help: "Ledger calls answered ledger_unavailable (the payment went on at full price), by cause: deadline (the store took longer than 50 ms) or store (it failed).",
      labelNames: ["cause"],
      registers,
    });
    this.ledgerBatchRequests = new Histogram({
      name: "bursar_ledger_batch_requests",
      help: "Requests made durable per ledger transaction (group commit).",
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
      registers,
    });
    this.ledgerCommitSeconds = new Histogram({
      name: "bursar_ledger_commit_duration_seconds",
      help: "Time one ledger transaction took to become durable.",
      buckets: LATENCY_BUCKETS_S,
      registers,
    });
    new Gauge({
      name: "bursar_breaker_state",
      help: "Each breaker's state: 1 for the state it is in, 0 for the others.",
      labelNames: ["breaker", "state"],
      registers,
      collect() {
        this.reset();
        for (const breaker of sources.breakers()) {
          for (const state of BREAKER_STATES) {
            this.set({ breaker: breaker.breakerId, state }, breaker.state === state ? 1 : 0);
          }
        }
      },
    });
    new Gauge({
      name: "bursar_snapshot_version",
      help: "Version of the stable snapshot served (0 when nothing is served).",
      registers,
      collect() {
        this.set(sources.snapshot()?.version ?? 0);
      },
    });
    new Gauge({
      name: "bursar_snapshot_age_seconds",
      help: "Seconds since the configuration served was loaded.",
      registers,
      collect() {
        const snapshot = sources.snapshot();
        this.set(snapshot === undefined ? 0 : (sources.nowMs() - snapshot.loadedAtMs) / 1000);
      },
    });
    new Gauge({
      name: "bursar_rollout_share_bps",
      help: "Share of identities the change rolling out reaches, in bps (0 when none rolls out).",
      registers,
      collect() {
        this.set(sources.rolloutShareBps());
      },
    });
    // Fixed for the process's life; shown so a dashboard can check a fleet's shares add up to 1.
    new Gauge({
      name: "bursar_guard_traffic_share_ratio",
      help: "This process's declared share of the payment traffic (--traffic-share), by which the runtime guard scales the fleet's money-per-minute limits: 1 for the whole traffic.",
      registers,
    }).set(sources.trafficShareBps / WHOLE_TRAFFIC_BPS);
    new Gauge({
      name: "bursar_ledger_lease_held_minor",
      help: "Money this process holds in budget leases, in minor units: stranded until expiry should it stop now (PostgreSQL; 0 on SQLite).",
      registers,
      collect() {
        this.set(sources.leaseHeldMinor());
      },
    });
    new Gauge({
      name: "bursar_kill_state_stale",
      help: "1 while the kill state is not confirmed current and every decision grants nothing.",
      registers,
      collect() {
        this.set(sources.killStale() ? 1 : 0);
      },
    });
  }

  observeRequest(route: string, method: string, status: number, elapsedMs: number): void {
    boundChild(this.requestChildren, `${route} ${method} ${status}`, () =>
      this.requestSeconds.labels({ route, method, status: String(status) }),
    ).observe(elapsedMs / 1000);
  }

  observeDecision(operation: "quote" | "apply", decision: Decision): void {
    const reason = decision.reason ?? (decision.subsidies.length > 0 ? "granted" : "none");
    this.decisions.add(`${operation} ${reason}`, () => ({ operation, reason }));
  }

  /** Every subsidy a reservation made reserved; call once per reservation, when it is made. */
  observeReservation(reservation: ReservationAnswer): void {
    for (const subsidy of reservation.subsidies) {
      if (subsidy.code !== "reserved") continue;
      this.reservedSubsidyMinor.add(
        `${subsidy.campaignId} ${subsidy.funding}`,
        () => ({ campaign: subsidy.campaignId, funding: subsidy.funding }),
        subsidy.amountMinor,
      );
    }
  }

  /** One answered guard check: its proposals by outcome and reason, and what its ledger did. */
  observeGuardCheck(check: ProposalCheck | RecordedCheck): void {
    for (const answer of check.answers) {
      const reason = answer.reason ?? "none";
      this.guardProposals.add(`${answer.outcome} ${reason}`, () => ({
        outcome: answer.outcome,
        reason,
      }));
    }
    const replayed = "replayed" in check && check.replayed;
    // A replay allows nothing new: its money was counted when it was first answered.
    if (check.allowedTotalMinor > 0 && !replayed) {
      this.guardAllowedMinor.add("", () => ({}), check.allowedTotalMinor);
    }
    if ("ledger" in check && check.ledger !== null) {
      const outcome = replayed ? "replayed" : check.ledger;
      this.guardLedger.add(outcome, () => ({ outcome }));
    }
  }

  /** One outcome of a kill's confirmation (`KillConfirmer`), by its code (a closed catalog). */
  observeKillConfirmation(code: KillConfirmationCode): void {
    this.killConfirmations.inc({ outcome: code });
  }

  observeLedgerAnswer(operation: "apply" | "commit" | "release" | "refund", code: string): void {
    this.ledgerAnswers.add(`${operation} ${code}`, () => ({ operation, code }));
  }

  observeLedgerFailure(cause: "deadline" | "store"): void {
    this.ledgerFailures.inc({ cause });
  }

  observeLedgerBatch(requests: number, commitMs: number): void {
    this.ledgerBatchRequests.observe(requests);
    this.ledgerCommitSeconds.observe(commitMs / 1000);
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** The child bound to `key` in `children`, bound by `bind` the first time. */
function boundChild<Child>(children: Map<string, Child>, key: string, bind: () => Child): Child {
  let child = children.get(key);
  if (child === undefined) {
    child = bind();
    children.set(key, child);
  }
  return child;
}

/**
 * A counter for the payment path: added to in plain numbers, one tally per label set, and handed
 * to its prom-client counter when that is scraped (its `collect`). prom-client's own `inc`
 * validates and hashes the labels object on every call, bound children too — about a µs a call,
 * and a payment makes one to five. Scrapes read the same totals.
 */
class TalliedCounter<Label extends string> {
  /** By a key naming the label values one to one; bounded as the labels are. */
  private readonly tallies = new Map<string, { labels: LabelValues<Label>; unscraped: number }>();

  constructor(configuration: Omit<CounterConfiguration<Label>, "collect">) {
    const tallies = this.tallies;
    new Counter<Label>({
      ...configuration,
      collect() {
        for (const tally of tallies.values()) {
          if (tally.unscraped === 0) continue;
          this.inc(tally.labels, tally.unscraped);
          tally.unscraped = 0;
        }
      },
    });
  }

  /** Adds `by` (default 1) to the label set `key` names; `labels` gives it the first time. */
  add(key: string, labels: () => LabelValues<Label>, by = 1): void {
    let tally = this.tallies.get(key);
    if (tally === undefined) {
      tally = { labels: labels(), unscraped: 0 };
      this.tallies.set(key, tally);
    }
    tally.unscraped += by;
  }
}
