/**
 * Holds this process's kill state and keeps it current (docs/reference/kill-switch.md,
 * ADR 0016): it polls the store's sequence every `pollMs` and reads the whole state when the
 * sequence moved, and, when the store offers notifications, reads it again on each one. Every
 * read that answers records the instant it was issued as the last time the state was confirmed
 * current: whatever was committed before that instant is in what it read. An evaluator guarded by
 * the watcher grants nothing once that instant is more than `allowedStalenessMs` ago, so a kill
 * reaches every guarded evaluator within the allowed staleness even when notifications are lost
 * and the store stops answering — by reading it, or by failing closed.
 *
 * Reads run one at a time (a poll never overtakes a full read); a read that does not answer
 * within `readTimeoutMs` is abandoned, so a hung store cannot stop the polling that would notice
 * it has recovered. Time and timers are injected.
 */
import type { Decision } from "../core/evaluator/decision.ts";
import {
  EMPTY_KILL_STATE,
  guardDecision,
  isKillStateStale,
  type Kill,
  type KillFreshness,
  KillMatcher,
  type KillState,
  killsNotIn,
} from "../core/guard/kill.ts";
import { wholeOption } from "../core/whole-option.ts";
import type { KillStore, KillSubscription } from "./kill-store.ts";

export interface KillTimers {
  setTimeout(callback: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const SYSTEM_TIMERS: KillTimers = {
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface KillWatcherOptions {
  readonly store: KillStore;
  readonly nowMs: () => number;
  readonly timers?: KillTimers;
  /** How often the sequence is polled. */
  readonly pollMs?: number;
  /** How long after its last confirmation the state still counts as current; above `pollMs`. */
  readonly allowedStalenessMs?: number;
  /** A read not answered within this is abandoned (and counts as failed). */
  readonly readTimeoutMs?: number;
  /** Use the store's notifications when it offers them; false polls only. */
  readonly notifications?: boolean;
  /** Told of every failed or abandoned read (for logs and metrics). */
  readonly onReadFailure?: (cause: unknown) => void;
  /** Told of every new state adopted. */
  readonly onState?: (state: KillState) => void;
  /**
   * Told of the kills this process obeys for the first time, when it begins to (`atMs`, the
   * clock then): every kill of the first state read, then each kill a later read or `adopt`
   * brings, once. Never called with an empty list. For a listener that tells others this process
   * obeys them (`KillConfirmer`); the watcher knows nothing of incidents. Must not throw.
   */
  readonly onKillsObeyed?: (kills: readonly Kill[], atMs: number) => void;
}

export const KILL_WATCHER_DEFAULTS = {
  // Four polls inside the allowed staleness: one slow read does not fail the evaluator closed.
  pollMs: 250,
  // "Takes effect within a second" (DESIGN §3.8), even with every notification lost.
  allowedStalenessMs: 1_000,
  readTimeoutMs: 750,
} as const;

const OPTION_RANGES = {
  pollMs: [5, 60_000],
  allowedStalenessMs: [10, 3_600_000],
  readTimeoutMs: [1, 60_000],
} as const;

type Wanted = "none" | "poll" | "full";

export class KillWatcher implements KillFreshness {
  readonly allowedStalenessMs: number;
  private readonly store: KillStore;
  private readonly nowMs: () => number;
  private readonly timers: KillTimers;
  private readonly pollMs: number;
  private readonly readTimeoutMs: number;
  private readonly onReadFailure: (cause: unknown) => void;
  private readonly onState: (state: KillState) => void;
  private readonly onKillsObeyed: ((kills: readonly Kill[], atMs: number) => void) | undefined;
  private current: KillState = EMPTY_KILL_STATE;
  /** Kills set through this process and not yet in a state read: obeyed at once. */
  private adopted: Kill[] = [];
  private matcher = new KillMatcher(EMPTY_KILL_STATE);
  private confirmed: number | null = null;
  private wanted: Wanted = "none";
  private reading: Promise<void> | undefined;
  private pollTimer: unknown;
  private subscription: KillSubscription | undefined;
  private stopped = false;

  private constructor(options: KillWatcherOptions) {
    this.store = options.store;
    this.nowMs = options.nowMs;
    this.timers = options.timers ?? SYSTEM_TIMERS;
    const option = (name: keyof typeof OPTION_RANGES): number =>
      wholeOption(name, options[name], KILL_WATCHER_DEFAULTS[name], OPTION_RANGES[name]);
    this.pollMs = option("pollMs");
    this.allowedStalenessMs = option("allowedStalenessMs");
    this.readTimeoutMs = option("readTimeoutMs");
    if (this.allowedStalenessMs <= this.pollMs) {
      // Otherwise every ordinary gap between two polls would fail the evaluator closed.
      throw new RangeError(
        `allowedStalenessMs ${this.allowedStalenessMs} must be above pollMs ${this.pollMs}`,
      );
    }
    this.onReadFailure = options.onReadFailure ?? (() => {});
    this.onState = options.onState ?? (() => {});
    this.onKillsObeyed = options.onKillsObeyed;
  }

  /**
   * Listens (when the store offers it and `notifications` is not false), reads the state once,
   * and starts polling. A first read that fails leaves the watcher stale until one succeeds.
   */
  static async start(options: KillWatcherOptions): Promise<KillWatcher> {
    const watcher = new KillWatcher(options);
    if (options.notifications !== false && options.store.listen !== undefined) {
      watcher.subscription = await options.store.listen({
        onSignal: () => watcher.request("full"),
      });
    }
    await watcher.refresh();
    watcher.schedulePoll();
    return watcher;
  }

  /** The decision with this process's kills and the staleness gate applied. */
  guard(decision: Decision): Decision {
    return guardDecision(decision, this.matcher, this, this.nowMs());
  }

  get state(): KillState {
    return this.current;
  }

  get confirmedAtMs(): number | null {
    return this.confirmed;
  }

  isStale(): boolean {
    return isKillStateStale(this, this.nowMs());
  }

  /**
   * Obeys a kill this process has just published, before any read brings it: in the same process
   * a kill takes effect at once. Only kills are adopted this way, never clears: turning money back
   * on waits for the store's state.
   */
  adopt(kill: Kill): void {
    if (kill.sequence <= this.current.sequence) return;
    if (this.adopted.some((adopted) => adopted.sequence === kill.sequence)) return;
    this.adopted.push(kill);
    this.rebuildMatcher();
    this.onKillsObeyed?.([kill], this.nowMs());
    this.request("full");
  }

  /** Reads the whole state now; resolves when no read is wanted any more. */
  async refresh(): Promise<void> {
    this.request("full");
    await this.reading;
  }

  /** Stops polling and listening; waits for a read in flight (bounded by its time-out). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.timers.clearTimeout(this.pollTimer);
    this.wanted = "none";
    await this.subscription?.stop();
    await this.reading;
  }

  private schedulePoll(): void {
    if (this.stopped) return;
    this.pollTimer = this.timers.setTimeout(() => {
      this.request("poll");
      this.schedulePoll();
    }, this.pollMs);
  }

  private request(kind: Exclude<Wanted, "none">): void {
    if (this.stopped) return;
    if (kind === "full" || this.wanted === "none") this.wanted = kind;
    if (this.reading === undefined) {
      this.reading = this.readWhileWanted().finally(() => {
        this.reading = undefined;
      });
    }
  }

  private async readWhileWanted(): Promise<void> {
    while (this.wanted !== "none" && !this.stopped) {
      const kind = this.wanted;
      this.wanted = "none";
      const issuedAtMs = this.nowMs();
      try {
        if (kind === "full") {
          this.adoptState(await this.withinTimeout(this.store.readState()), issuedAtMs);
        } else if (
          (await this.withinTimeout(this.store.readSequence())) === this.current.sequence
        ) {
          this.confirm(issuedAtMs);
        } else {
          // The sequence moved (or went back: a restored database is the truth): read it all.
          this.wanted = "full";
        }
      } catch (cause) {
        this.onReadFailure(cause);
      }
    }
  }

  private adoptState(state: KillState, issuedAtMs: number): void {
    if (this.stopped) return;
    const changed = state.sequence !== this.current.sequence;
    const obeyed =
      changed && this.onKillsObeyed !== undefined
        ? killsNotIn(state.active, this.current.active, this.adopted)
        : [];
    this.current = state;
    this.adopted = this.adopted.filter((kill) => kill.sequence > state.sequence);
    this.rebuildMatcher();
    this.confirm(issuedAtMs);
    if (changed) this.onState(state);
    if (obeyed.length > 0) this.onKillsObeyed?.(obeyed, this.nowMs());
  }

  private rebuildMatcher(): void {
    this.matcher = new KillMatcher(
      this.adopted.length === 0
        ? this.current
        : { sequence: this.current.sequence, active: [...this.current.active, ...this.adopted] },
    );
  }

  private confirm(issuedAtMs: number): void {
    if (this.confirmed === null || issuedAtMs > this.confirmed) this.confirmed = issuedAtMs;
  }

  private withinTimeout<T>(reading: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = this.timers.setTimeout(
        () => reject(new Error(`a kill store read took over ${this.readTimeoutMs} ms`)),
        this.readTimeoutMs,
      );
      reading.then(
        (value) => {
          this.timers.clearTimeout(timer);
          resolve(value);
        },
        (cause: unknown) => {
          this.timers.clearTimeout(timer);
          reject(cause);
        },
      );
    });
  }
}
