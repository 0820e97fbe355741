/**
 * Confirms on a kill's incident that this process obeys the kill: one `kill_confirmed` entry per
 * process and kill (docs/reference/kill-switch.md, "Confirmations"), so the operator reading the
 * incident sees every process that applies it, not only the one whose guard tripped. Told of the
 * kills this process begins to obey by a `KillWatcher`'s or a `GuardedRunner`'s
 * `onKillsObeyed`, which know nothing of incidents; this file knows nothing of how kills travel.
 *
 * A kill names no incident. The link is the incident's `kill_published` entry with the kill's
 * sequence (`recordsKill`), which the responder writes after it published the kill, rolled back
 * and opened the incident: another process usually obeys the kill before that entry exists. So
 * a kill whose incident is not found yet stays pending and is looked for again every `retryMs`,
 * at most `attemptsMax` times (30 s by default: far beyond the responder's few writes), then
 * dropped as `no_incident` — the fate of a kill a person set without an incident. A store that
 * fails (a read, a write, the incident changed meanwhile) is retried the same way and dropped as
 * `store_failed` when the attempts run out: the kill is obeyed all the same, only its record is
 * missing, and the outcome is reported to `onOutcome` (logs) and counted (`counts`). An incident
 * that refuses the entry (resolved, its timeline full) is dropped at once: retrying cannot help.
 * Nothing here throws into the caller: `obeyed` only records and starts the work.
 *
 * At most once per (kill, evaluator id), also across a restart under the same id and against this
 * process's guarded runner confirming its own kill: `IncidentService.confirmKill` checks the
 * timeline inside the write it guards with the incident's revision. Checking first was chosen
 * over a deterministic entry id because timeline entries have no id, and the check is exact in
 * the same step that writes. A process restarted under a new id (`bursar serve` names itself by
 * its pid) is a new process: it confirms again, under its new name.
 *
 * Rounds run one at a time; a round reads the newest `KILL_CONFIRMER_LIMITS.incidentsSearched`
 * incidents once for every pending kill. Time for the entries and timers for the retries are
 * injected.
 */
import { hostname } from "node:os";
import { type Incident, recordsKill } from "../core/guard/incident.ts";
import type { Kill } from "../core/guard/kill.ts";
import { wholeOption } from "../core/whole-option.ts";
import type { IncidentService } from "./incident-service.ts";
import { type KillTimers, SYSTEM_TIMERS } from "./kill-watcher.ts";

/**
 * A process's name on incidents' timelines: its program, pid and host (`bursar-serve-4242@pay-7`),
 * so that processes on two hosts sharing a pid are not taken for one (which would confirm a kill
 * once for both). The host keeps only characters an incident's ids allow, at most 64 of them.
 */
export function processEvaluatorId(program: "serve" | "run"): string {
  const host = hostname()
    .replace(/[^A-Za-z0-9.-]/g, "-")
    .slice(0, 64);
  return `bursar-${program}-${process.pid}@${host === "" ? "unknown-host" : host}`;
}

/** What became of a kill's confirmation; a closed catalog (docs/reference/kill-switch.md). */
export const KILL_CONFIRMATION_CODES = {
  confirmed: "This process's kill_confirmed entry was written on the kill's incident.",
  already_confirmed:
    "The incident already holds this evaluator's confirmation of the kill (its guarded runner wrote it, or the same evaluator id before a restart): nothing written.",
  no_incident:
    "No incident among the newest 100 records the kill (a kill_published entry with its killSequence) after every attempt — a kill set by a person, say: nothing written.",
  incident_refused:
    "The incident refused the entry (resolved, its timeline full, …; the incident's code is in the message): dropped, retrying cannot help.",
  store_failed:
    "The incident store failed or the incident kept changing meanwhile: retried after retryMs, dropped when the attempts run out.",
  too_many_pending:
    "1,000 kills already wait for their confirmation (the incident store has been failing): this one is dropped.",
} as const;

export type KillConfirmationCode = keyof typeof KILL_CONFIRMATION_CODES;

export interface KillConfirmationOutcome {
  readonly code: KillConfirmationCode;
  readonly killSequence: number;
  /** The incident written to (or that refused), when one was found. */
  readonly incidentId: string | null;
  /** True when the kill stays pending and is tried again after `retryMs`. */
  readonly retrying: boolean;
  readonly message: string;
}

export interface KillConfirmerOptions {
  readonly incidents: IncidentService;
  /** How this process is named on the timeline (`byId` and `details.evaluatorId`). */
  readonly evaluatorId: string;
  /** The clock entries are stamped with when the caller gives no instant. */
  readonly nowMs: () => number;
  readonly timers?: KillTimers;
  /** Wait between two attempts for one kill. */
  readonly retryMs?: number;
  /** Attempts per kill: looks for its incident, and writes. */
  readonly attemptsMax?: number;
  /**
   * Told of every final outcome, and of each failure that will be retried (`retrying`); a kill
   * whose incident is not found yet is reported only when dropped. A throw is ignored.
   */
  readonly onOutcome?: (outcome: KillConfirmationOutcome) => void;
}

export const KILL_CONFIRMER_DEFAULTS = {
  retryMs: 1_000,
  // With retryMs: 30 s for the responder to record its kill on the incident it opens.
  attemptsMax: 30,
} as const;

export const KILL_CONFIRMER_LIMITS = {
  /**
   * Newest incidents searched for the one recording a kill: the responder opens it seconds after
   * the kill, so it is among the newest unless a hundred incidents opened meanwhile.
   */
  incidentsSearched: 100,
  /** Kills waiting for their confirmation at most (more than can be active): more are dropped. */
  pendingMax: 1_000,
} as const;

const OPTION_RANGES = {
  retryMs: [10, 60_000],
  attemptsMax: [1, 1_000],
} as const;

interface PendingKill {
  readonly kill: Kill;
  /** When this process began to obey it: the entry's instant. */
  readonly atMs: number;
  attempts: number;
}

export class KillConfirmer {
  /** Outcomes reported so far, by code (a store failure once per attempt). */
  readonly counts: Record<KillConfirmationCode, number> = {
    confirmed: 0,
    already_confirmed: 0,
    no_incident: 0,
    incident_refused: 0,
    store_failed: 0,
    too_many_pending: 0,
  };
  private readonly retryMs: number;
  private readonly attemptsMax: number;
  private readonly timers: KillTimers;
  private readonly pending = new Map<number, PendingKill>();
  private running: Promise<void> | undefined;
  private again = false;
  private retryTimer: unknown;
  private stopped = false;

  constructor(private readonly options: KillConfirmerOptions) {
    this.timers = options.timers ?? SYSTEM_TIMERS;
    const option = (name: keyof typeof OPTION_RANGES): number =>
      wholeOption(name, options[name], KILL_CONFIRMER_DEFAULTS[name], OPTION_RANGES[name]);
    this.retryMs = option("retryMs");
    this.attemptsMax = option("attemptsMax");
  }

  /** How many kills wait for their confirmation. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /**
   * This process began to obey `kills` at `atMs` (now when absent): confirm each on its incident.
   * Returns at once; the work runs after (see `idle`). A kill already pending is not added twice.
   */
  obeyed(kills: readonly Kill[], atMs: number = this.options.nowMs()): void {
    if (this.stopped || kills.length === 0) return;
    for (const kill of kills) {
      if (this.pending.has(kill.sequence)) continue;
      if (this.pending.size >= KILL_CONFIRMER_LIMITS.pendingMax) {
        this.report({
          code: "too_many_pending",
          killSequence: kill.sequence,
          incidentId: null,
          retrying: false,
          message: `${KILL_CONFIRMER_LIMITS.pendingMax} kills already wait for their confirmation`,
        });
        continue;
      }
      this.pending.set(kill.sequence, { kill, atMs, attempts: 0 });
    }
    this.run();
  }

  /** Resolves when no round runs (tests, and before closing the incident store). */
  async idle(): Promise<void> {
    while (this.running !== undefined) await this.running;
  }

  /** Stops retrying and waits for the round in flight; pending kills are given up silently. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timers.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    await this.idle();
    this.pending.clear();
  }

  private run(): void {
    if (this.stopped) return;
    if (this.running !== undefined) {
      this.again = true;
      return;
    }
    this.running = this.roundsWhileWanted().finally(() => {
      this.running = undefined;
      this.scheduleRetry();
    });
  }

  /** Never rejects: nobody awaits it but `idle`, and the watcher must not hear of it. */
  private async roundsWhileWanted(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.round();
      } catch (cause) {
        // A bug, or an incident stored as something other than what a store writes.
        for (const pending of [...this.pending.values()]) {
          this.failed(pending, "store_failed", null, messageOf(cause));
        }
      }
    } while (this.again && !this.stopped);
  }

  private scheduleRetry(): void {
    if (this.stopped || this.pending.size === 0 || this.retryTimer !== undefined) return;
    this.retryTimer = this.timers.setTimeout(() => {
      this.retryTimer = undefined;
      this.run();
    }, this.retryMs);
  }

  private async round(): Promise<void> {
    const due = [...this.pending.values()];
    if (due.length === 0) return;
    let incidents: readonly Incident[];
    try {
      incidents = await this.options.incidents.list({
        limit: KILL_CONFIRMER_LIMITS.incidentsSearched,
      });
    } catch (cause) {
      for (const pending of due) {
        this.failed(pending, "store_failed", null, `listing incidents failed: ${messageOf(cause)}`);
      }
      return;
    }
    for (const pending of due) {
      if (this.stopped) return;
      const sequence = pending.kill.sequence;
      // Newest first: a kill recorded on two incidents is confirmed on the newer.
      const incident = incidents.find((candidate) => recordsKill(candidate, sequence));
      if (incident === undefined) {
        this.failed(pending, "no_incident", null, `no incident records kill ${sequence}`);
        continue;
      }
      await this.confirmOn(incident.id, pending);
    }
  }

  private async confirmOn(incidentId: string, pending: PendingKill): Promise<void> {
    const killSequence = pending.kill.sequence;
    try {
      const result = await this.options.incidents.confirmKill(incidentId, {
        evaluatorId: this.options.evaluatorId,
        killSequence,
        atMs: pending.atMs,
      });
      if (result.ok) {
        this.finish(
          pending,
          result.changed ? "confirmed" : "already_confirmed",
          incidentId,
          `kill ${killSequence} ${result.changed ? "confirmed" : "was confirmed already"} on ${incidentId} by ${this.options.evaluatorId}`,
        );
      } else if (result.code === "incident.concurrent_update") {
        this.failed(pending, "store_failed", incidentId, `${result.code}: ${result.message}`);
      } else {
        this.finish(pending, "incident_refused", incidentId, `${result.code}: ${result.message}`);
      }
    } catch (cause) {
      this.failed(pending, "store_failed", incidentId, messageOf(cause));
    }
  }

  /** One attempt failed: tried again after `retryMs` while attempts remain, else dropped. */
  private failed(
    pending: PendingKill,
    code: "no_incident" | "store_failed",
    incidentId: string | null,
    message: string,
  ): void {
    pending.attempts += 1;
    const retrying = pending.attempts < this.attemptsMax;
    if (!retrying) this.pending.delete(pending.kill.sequence);
    // A kill whose incident is not found yet is the ordinary case: told only when dropped.
    if (retrying && code === "no_incident") return;
    this.report({ code, killSequence: pending.kill.sequence, incidentId, retrying, message });
  }

  private finish(
    pending: PendingKill,
    code: KillConfirmationCode,
    incidentId: string,
    message: string,
  ): void {
    this.pending.delete(pending.kill.sequence);
    this.report({
      code,
      killSequence: pending.kill.sequence,
      incidentId,
      retrying: false,
      message,
    });
  }

  private report(outcome: KillConfirmationOutcome): void {
    this.counts[outcome.code] += 1;
    try {
      this.options.onOutcome?.(outcome);
    } catch {
      // A logger that throws must not stop the confirmations; the count above still holds it.
    }
  }
}

function messageOf(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
