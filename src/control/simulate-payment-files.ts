/**
 * `simulatePaymentFiles`: a simulation over recorded payments in NDJSON files (the sample log's
 * or the traffic writer's), in one process. Large samples are cut into segments at line starts
 * and read by worker threads, each evaluating its payments under both snapshots into its own
 * accumulator; the tallies are merged into one report, equal to the report one thread would give
 * (ADR 0013). Small samples are read on the calling thread: starting workers costs more.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { Snapshot } from "../core/evaluator/snapshot.ts";
import type { Finding } from "../core/findings.ts";
import { SimulatedPayment } from "../core/simulation/simulated-payment.ts";
import {
  SimulationAccumulator,
  type SimulationOptions,
  type SimulationTally,
} from "../core/simulation/simulation-accumulator.ts";
import type { SimulationReport } from "../core/simulation/simulation-report.ts";
import { parsePaymentLineInto } from "./parse-payment-json-fast.ts";
import {
  numberFindings,
  PAYMENT_FILE_READ_LIMITS,
  type PaymentFileSegment,
  type PaymentLineSink,
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
  /**
   * Segments per thread: threads claim them one at a time, so a worker that starts late (loading
   * its code takes a fraction of a second) or runs slow takes fewer. Small enough (~5 MB of
   * 300 MB on 2 threads, a tenth of a second) that the last ones claimed end close together.
   */
  segmentsPerThread: 32,
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
  /** One Int32: the next segment to claim, shared by every thread of the simulation. */
  readonly nextSegment: SharedArrayBuffer;
}

/** A segment's reading, with its place among the segments (to number findings in file order). */
export interface ClaimedSegment {
  readonly index: number;
  readonly result: SegmentReadResult;
}

export type SimulationWorkerMessage =
  | { readonly kind: "progress"; readonly payments: number }
  | {
      readonly kind: "done";
      readonly tally: SimulationTally;
      readonly claimed: readonly ClaimedSegment[];
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
  const next = new Int32Array(new SharedArrayBuffer(4));
  return simulateClaimedSegments(current, proposed, segments, next, accumulator, onProgress)
    .sort((left, right) => left.index - right.index)
    .map((claimed) => claimed.result);
}

/**
 * Claims segments one at a time from the shared counter `next` and reads and evaluates each on
 * this thread, until none is left.
 */
export function simulateClaimedSegments(
  current: Snapshot,
  proposed: Snapshot,
  segments: readonly PaymentFileSegment[],
  next: Int32Array,
  accumulator: SimulationAccumulator,
  onProgress?: (payments: number) => void,
): ClaimedSegment[] {
  const pair = evaluatorPair(current, proposed);
  pair.prepare(accumulator);
  let seen = 0;
  const onPayment = (value: Record<string, unknown>): boolean => {
    seen += 1;
    if (onProgress !== undefined && seen % PROGRESS_PAYMENTS === 0) onProgress(seen);
    return pair.evaluate(value, accumulator);
  };
  const onBadLine = () => accumulator.addInvalid();
  // Lines in the writer's format with a valid payment go straight into one reused payment,
  // with no object; the rest take the object path, which counts and explains bad lines.
  const evaluateSimulated = pair.evaluateSimulated;
  const simulated = new SimulatedPayment();
  const onLine: PaymentLineSink | undefined =
    evaluateSimulated === undefined
      ? undefined
      : (text, start, end) => {
          if (!parsePaymentLineInto(text, start, end, simulated)) return false;
          seen += 1;
          if (onProgress !== undefined && seen % PROGRESS_PAYMENTS === 0) onProgress(seen);
          evaluateSimulated(simulated, accumulator);
          return true;
        };
  const claimed: ClaimedSegment[] = [];
  for (
    let index = Atomics.add(next, 0, 1);
    index < segments.length;
    index = Atomics.add(next, 0, 1)
  ) {
    const result = readPaymentSegment(
      segments[index]!,
      onPayment,
      onBadLine,
      PAYMENT_FILE_READ_LIMITS.findingsMax,
      onLine,
    );
    claimed.push({ index, result });
  }
  return claimed;
}

async function simulateInWorkers(
  input: SimulatePaymentFilesInput,
  options: SimulationOptions,
  threads: number,
  accumulator: SimulationAccumulator,
): Promise<SegmentReadResult[]> {
  const segments = segmentFiles(input.paths, threads * SIMULATION_THREAD_LIMITS.segmentsPerThread);
  const nextSegment = new SharedArrayBuffer(4);
  const progress = new Array<number>(threads).fill(0);
  const report = (thread: number) => (payments: number) => {
    progress[thread] = payments;
    input.onProgress?.(progress.reduce((sum, count) => sum + count, 0));
  };
  const data = { current: input.current, proposed: input.proposed, options, segments, nextSegment };
  // Workers start, and this thread claims segments meanwhile: it takes more of them while the
  // workers are still loading their code.
  const answers = Array.from({ length: threads - 1 }, (_, index) =>
    runWorker(data, report(index + 1)),
  );
  let claimed: ClaimedSegment[];
  try {
    claimed = simulateClaimedSegments(
      input.current,
      input.proposed,
      segments,
      new Int32Array(nextSegment),
      accumulator,
      report(0),
    );
  } finally {
    // A failure here must not leave workers running unobserved.
    await Promise.allSettled(answers);
  }
  for (const answer of await Promise.all(answers)) {
    accumulator.merge(answer.tally);
    claimed.push(...answer.claimed);
  }
  return claimed.sort((left, right) => left.index - right.index).map((item) => item.result);
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
