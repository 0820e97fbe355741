/**
 * `simulatePaymentFiles`: a simulation over recorded payments in NDJSON files (the sample log's
 * or the traffic writer's), in one process. Large samples are cut into segments at line starts
 * and read by worker threads, each evaluating its payments under both snapshots into its own
 * accumulator; the tallies are merged into one report, equal to the report one thread would give
 * (ADR 0011). Small samples are read on the calling thread: starting workers costs more.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { Snapshot } from "../core/evaluator/snapshot.ts";
import type { Finding } from "../core/findings.ts";
import {
  SimulationAccumulator,
  type SimulationOptions,
  type SimulationTally,
} from "../core/simulation/simulation-accumulator.ts";
import type { SimulationReport } from "../core/simulation/simulation-report.ts";
import {
  numberFindings,
  PAYMENT_FILE_READ_LIMITS,
  type PaymentFileSegment,
  readPaymentSegment,
  type SegmentReadResult,
  segmentFiles,
} from "./payment-file-reader.ts";
import {
  evaluatorPair,
  PROGRESS_PAYMENTS,
  type SimulateChangeOptions,
  simulationOptionsFor,
} from "./simulate-change.ts";

export const SIMULATION_THREAD_LIMITS = {
  threadsMax: 16,
  /** Below this many bytes of payments the calling thread reads them alone. */
  bytesPerWorkerMin: 16 * 1_048_576,
} as const;

export interface SimulatePaymentFilesInput {
  readonly current: Snapshot;
  readonly proposed: Snapshot;
  /** NDJSON files, read in this order (the sample log's files oldest first). */
  readonly paths: readonly string[];
  readonly sampleRateBps?: number;
  readonly options: SimulateChangeOptions;
  /**
   * Threads reading the files, this one included (0 and 1 both mean this one alone); by default
   * one per core, at most 4, and at most one per 16 MiB of payments.
   */
  readonly threads?: number;
  readonly onProgress?: (payments: number) => void;
}

export interface PaymentFilesSimulation {
  readonly report: SimulationReport;
  /** Lines read, blank ones included. */
  readonly lines: number;
  /** Lines that were no valid payment (also counted in the report's `paymentsInvalid`). */
  readonly badLines: number;
  /** What was wrong with the first bad lines (at most PAYMENT_FILE_READ_LIMITS.findingsMax). */
  readonly findings: readonly Finding[];
  readonly threads: number;
}

/** What a worker is given (structured-cloned) and what it answers. */
export interface SimulationWorkerData {
  readonly current: Snapshot;
  readonly proposed: Snapshot;
  readonly options: SimulationOptions;
  readonly segments: readonly PaymentFileSegment[];
}

export type SimulationWorkerMessage =
  | { readonly kind: "progress"; readonly payments: number }
  | {
      readonly kind: "done";
      readonly tally: SimulationTally;
      readonly results: readonly SegmentReadResult[];
    };

export async function simulatePaymentFiles(
  input: SimulatePaymentFilesInput,
): Promise<PaymentFilesSimulation> {
  const options = simulationOptionsFor(
    input.current,
    input.proposed,
    input.options,
    input.sampleRateBps,
  );
  const totalBytes = segmentFiles(input.paths, 1).reduce(
    (sum, segment) => sum + segment.endByte - segment.startByte,
    0,
  );
  const threads =
    input.threads ??
    Math.min(
      availableParallelism(),
      4,
      Math.floor(totalBytes / SIMULATION_THREAD_LIMITS.bytesPerWorkerMin),
    );
  if (!Number.isInteger(threads) || threads < 0 || threads > SIMULATION_THREAD_LIMITS.threadsMax)
    throw new RangeError(
      `threads must be 0..${SIMULATION_THREAD_LIMITS.threadsMax}, got ${threads}`,
    );
  const accumulator = new SimulationAccumulator(options);
  let results: SegmentReadResult[];
  if (threads <= 1) {
    results = simulateSegments(
      input.current,
      input.proposed,
      segmentFiles(input.paths, 1),
      accumulator,
      input.onProgress,
    );
  } else {
    results = await simulateInWorkers(input, options, threads, accumulator);
  }
  const report = accumulator.report();
  input.onProgress?.(report.payments + report.paymentsInvalid + report.paymentsOtherCurrency);
  const findings = numberFindings(results).slice(0, PAYMENT_FILE_READ_LIMITS.findingsMax);
  return {
    report,
    lines: results.reduce((sum, result) => sum + result.lines, 0),
    badLines: results.reduce((sum, result) => sum + result.badLines, 0),
    findings,
    threads: Math.max(threads, 1),
  };
}

/** Reads and evaluates segments on this thread. */
export function simulateSegments(
  current: Snapshot,
  proposed: Snapshot,
  segments: readonly PaymentFileSegment[],
  accumulator: SimulationAccumulator,
  onProgress?: (payments: number) => void,
): SegmentReadResult[] {
  const pair = evaluatorPair(current, proposed);
  let seen = 0;
  const onPayment = (value: Record<string, unknown>): boolean => {
    seen += 1;
    if (onProgress !== undefined && seen % PROGRESS_PAYMENTS === 0) onProgress(seen);
    return pair.evaluate(value, accumulator);
  };
  const onBadLine = () => accumulator.addInvalid();
  return segments.map((segment) => readPaymentSegment(segment, onPayment, onBadLine));
}

async function simulateInWorkers(
  input: SimulatePaymentFilesInput,
  options: SimulationOptions,
  threads: number,
  accumulator: SimulationAccumulator,
): Promise<SegmentReadResult[]> {
  const segments = segmentFiles(input.paths, threads);
  // Consecutive segments per worker, so each reads its files front to back.
  const perWorker = Math.ceil(segments.length / threads);
  const groups: PaymentFileSegment[][] = [];
  for (let index = 0; index < segments.length; index += perWorker)
    groups.push(segments.slice(index, index + perWorker));
  const progress = new Array<number>(groups.length).fill(0);
  const report = (index: number) => (payments: number) => {
    progress[index] = payments;
    input.onProgress?.(progress.reduce((sum, count) => sum + count, 0));
  };
  // The other groups go to workers; the first is read here meanwhile, which spares starting
  // one more worker.
  const answers = groups.slice(1).map((group, index) =>
    runWorker(
      { current: input.current, proposed: input.proposed, options, segments: group },
      report(index + 1),
    ),
  );
  let results: SegmentReadResult[];
  try {
    results = simulateSegments(
      input.current,
      input.proposed,
      groups[0] ?? [],
      accumulator,
      report(0),
    );
  } finally {
    // A failure here must not leave workers running unobserved.
    await Promise.allSettled(answers);
  }
  for (const answer of await Promise.all(answers)) {
    accumulator.merge(answer.tally);
    results.push(...answer.results);
  }
  return results;
}

function runWorker(
  data: SimulationWorkerData,
  onProgress: (payments: number) => void,
): Promise<Extract<SimulationWorkerMessage, { kind: "done" }>> {
  return new Promise((resolve, reject) => {
    const worker = startWorker(data);
    let done = false;
    worker.on("message", (message: SimulationWorkerMessage) => {
      if (message.kind === "progress") onProgress(message.payments);
      else {
        done = true;
        resolve(message);
      }
    });
    worker.on("error", reject);
    worker.on("exit", (code) => {
      if (!done) reject(new Error(`a simulation worker exited (code ${code}) before answering`));
    });
  });
}

/**
 * The worker runs this folder's TypeScript directly; Node 20 workers do not inherit tsx's loader,
 * so a two-line bootstrap registers it first (as the SQLite store's writer thread does).
 */
function startWorker(data: SimulationWorkerData): Worker {
  const entry = new URL("./simulation-worker.ts", import.meta.url);
  const tsxApi = import.meta.resolve("tsx/esm/api");
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(bootstrap, { eval: true, workerData: data });
}
