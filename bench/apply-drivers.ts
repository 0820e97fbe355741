/**
 * The two ways the apply benchmarks drive `LedgerService.apply`. Each call awaits the store, so
 * concurrency comes from many calls in flight, which the store gathers into group commits.
 */
import type { Payment } from "../src/core/model/payment.ts";
import type { LedgerService } from "../src/ledger/ledger-service.ts";
import { ApplyOutcomes } from "./apply-outcomes.ts";

/**
 * Closed loop at saturation: `inFlight` lanes, each starting the next payment as soon as its
 * previous one is answered, so the store always has a full batch waiting.
 */
export async function applySaturated(
  service: LedgerService,
  payments: readonly Payment[],
  inFlight: number,
): Promise<ApplyOutcomes> {
  const outcomes = new ApplyOutcomes();
  let next = 0;
  const lane = async () => {
    while (next < payments.length) {
      const payment = payments[next]!;
      next += 1;
      outcomes.record(await service.apply(payment));
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, payments.length) }, lane));
  return outcomes;
}

export interface OpenLoopOptions {
  readonly offeredPerS: number;
  readonly durationMs: number;
}

export interface OpenLoopResult {
  readonly outcomes: ApplyOutcomes;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /**
   * From the first scheduled arrival to the issue of the last: above the timetable's duration,
   * this thread (quote, plan, handing calls to the worker) could not even offer the load.
   */
  readonly lastIssuedMs: number;
  /** From the first scheduled arrival to the last answer: how long the backlog took to drain. */
  readonly lastAnswerMs: number;
}

/**
 * Open loop: arrival i is due at `i / offeredPerS` seconds, whatever happened to earlier ones,
 * and its latency runs from that due time to its answer. Arrivals that the event loop issues late
 * (because it was busy) are charged for the delay, so a store that cannot keep up shows it.
 */
export function applyOpenLoop(
  service: LedgerService,
  payments: readonly Payment[],
  options: OpenLoopOptions,
): Promise<OpenLoopResult> {
  const total = Math.min(
    payments.length,
    Math.floor((options.offeredPerS * options.durationMs) / 1000),
  );
  if (total === 0) throw new Error("an open loop needs at least one arrival");
  const intervalMs = 1000 / options.offeredPerS;
  const latenciesMs = new Float64Array(total);
  const outcomes = new ApplyOutcomes();
  return new Promise((resolve, reject) => {
    let issued = 0;
    let answered = 0;
    let lastAnswerAtMs = 0;
    let lastIssuedAtMs = 0;
    const startMs = performance.now();
    const finish = () => {
      latenciesMs.sort();
      resolve({
        outcomes,
        p50Ms: latenciesMs[Math.floor(total * 0.5)]!,
        p99Ms: latenciesMs[Math.min(total - 1, Math.floor(total * 0.99))]!,
        maxMs: latenciesMs[total - 1]!,
        lastIssuedMs: lastIssuedAtMs - startMs,
        lastAnswerMs: lastAnswerAtMs - startMs,
      });
    };
    const issue = (index: number) => {
      const dueMs = startMs + index * intervalMs;
      service.apply(payments[index]!).then((answer) => {
        lastAnswerAtMs = performance.now();
        latenciesMs[index] = lastAnswerAtMs - dueMs;
        outcomes.record(answer);
        answered += 1;
        if (answered === total) finish();
      }, reject);
    };
    const tick = () => {
      const due = Math.min(total, Math.floor((performance.now() - startMs) / intervalMs) + 1);
      while (issued < due) {
        issue(issued);
        issued += 1;
      }
      if (issued === total) lastIssuedAtMs = performance.now();
      // setImmediate, not a timer: arrivals are 25 µs apart, far below a timer's resolution.
      if (issued < total) setImmediate(tick);
    };
    tick();
  });
}
