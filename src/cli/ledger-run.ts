/**
 * `bursar run --ledger DIR`: the run's payments applied through the durable ledger as a payment
 * service would — `apply` (quote + reserve every limit, durable before it answers) and, for each
 * reservation, `commit` as the payment completes — into the embedded SQLite store in DIR, then
 * the ledger verified. The same seed sends the same payment ids, so running again replays every
 * stored answer instead of reserving twice.
 */
import { join } from "node:path";
import type { Snapshot } from "../core/evaluator/snapshot.ts";
import type { LedgerVerification } from "../core/ledger/ledger-verification.ts";
import type { Payment } from "../core/model/payment.ts";
import { type ApplyAnswer, LedgerService } from "../ledger/ledger-service.ts";
import { LEDGER_FILE_NAME, SqliteLedgerStore } from "../stores/sqlite/sqlite-ledger-store.ts";

/** Payments in flight at once: enough for the store's group commit to fill its batches. */
const IN_FLIGHT = 1_000;

export interface LedgerRunReport {
  readonly path: string;
  readonly applied: number;
  /** Answers by code: reserved, no_subsidy, idempotency_conflict, ledger_unavailable. */
  readonly answers: Record<string, number>;
  readonly replayed: number;
  /** Subsidies a limit refused, by refusal code. */
  readonly refusedSubsidies: Record<string, number>;
  readonly reservedMinor: number;
  readonly committedMinor: number;
  readonly verification: LedgerVerification;
}

export class LedgerRun {
  private readonly answers: Record<string, number> = {};
  private readonly refusedSubsidies: Record<string, number> = {};
  private applied = 0;
  private replayed = 0;
  private reservedMinor = 0;
  private committedMinor = 0;
  private inFlight = new Set<Promise<void>>();
  private simulatedNowMs = 0;

  private constructor(
    private readonly path: string,
    private readonly store: SqliteLedgerStore,
    private readonly service: LedgerService,
  ) {}

  static async open(directory: string, snapshot: Snapshot): Promise<LedgerRun> {
    const path = join(directory, LEDGER_FILE_NAME);
    const store = await SqliteLedgerStore.open({ path });
    let run: LedgerRun | undefined;
    // The run's clock is the payments' own: reservations and commits happen in simulated time.
    const service = new LedgerService({
      store,
      nowMs: () => run?.simulatedNowMs ?? 0,
      // A batch job waits for its store; the deadline protects live payments, not this.
      storeDeadlineMs: null,
    });
    run = new LedgerRun(path, store, service);
    await service.activate(snapshot);
    return run;
  }

  /** Applies the payment (and commits it), keeping at most IN_FLIGHT payments in flight. */
  async apply(payment: Payment): Promise<void> {
    this.simulatedNowMs = Math.max(this.simulatedNowMs, payment.atMs);
    if (this.inFlight.size >= IN_FLIGHT) await Promise.race(this.inFlight);
    const work = this.applyAndCommit(payment).finally(() => this.inFlight.delete(work));
    this.inFlight.add(work);
  }

  private async applyAndCommit(payment: Payment): Promise<void> {
    const answer = await this.service.apply(payment);
    this.count(answer);
    if (answer.code !== "reserved" || answer.replayed) return;
    const settled = await this.service.commit(payment.paymentId);
    if (settled.code === "committed") {
      this.committedMinor += settled.entries.reduce((sum, entry) => sum + entry.committedMinor, 0);
    }
  }

  private count(answer: ApplyAnswer): void {
    this.applied += 1;
    this.answers[answer.code] = (this.answers[answer.code] ?? 0) + 1;
    if (answer.replayed) this.replayed += 1;
    for (const subsidy of answer.reservation?.subsidies ?? []) {
      if (subsidy.code === "reserved") this.reservedMinor += subsidy.amountMinor;
      else this.refusedSubsidies[subsidy.code] = (this.refusedSubsidies[subsidy.code] ?? 0) + 1;
    }
  }

  /** Waits for every payment in flight, verifies the ledger and closes it. */
  async finish(): Promise<LedgerRunReport> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
    try {
      return {
        path: this.path,
        applied: this.applied,
        answers: this.answers,
        replayed: this.replayed,
        refusedSubsidies: this.refusedSubsidies,
        reservedMinor: this.reservedMinor,
        committedMinor: this.committedMinor,
        verification: await this.store.verify(),
      };
    } finally {
      await this.store.close();
    }
  }
}
