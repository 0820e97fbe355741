/**
 * What a benchmark is, and how throughput is measured. The figures' shape is a published contract
 * (CONTRACTS.md, "Benchmarks"): `{bench, value, unit}`, or `value: null` with `skipped`.
 */

export const FIGURE_UNITS = ["ops/s", "us", "ms", "s", "ratio", "minor", "count"] as const;
export type FigureUnit = (typeof FIGURE_UNITS)[number];

/** `area.case.metric`: dotted, lower case. */
export const FIGURE_NAME_PATTERN = /^[a-z0-9_]+(?:\.[a-z0-9_]+){2,}$/;

export type Figure =
  | { readonly bench: string; readonly value: number; readonly unit: FigureUnit }
  | {
      readonly bench: string;
      readonly value: null;
      readonly unit: FigureUnit;
      readonly skipped: string;
    };

export interface FigureSpec {
  readonly bench: string;
  readonly unit: FigureUnit;
}

export interface BenchmarkContext {
  /**
   * Workload multiplier, 1 for the real run. Tests set BURSAR_BENCH_SCALE to a tiny value to
   * check the harness in milliseconds; published figures always come from scale 1.
   */
  readonly scale: number;
  /** A line of progress for the person waiting (stderr under --json). */
  readonly progress: (message: string) => void;
}

export interface Benchmark {
  /** The common prefix of its figures, e.g. `traffic.generate`. */
  readonly name: string;
  /** Every figure it reports, declared up front so a failed run can still report each as skipped. */
  readonly figures: readonly FigureSpec[];
  /** The inputs (seed, sizes) at this scale, printed in the table so anyone can reproduce the run. */
  fixture(scale: number): string;
  /** Measures; returns one figure per declared spec. */
  run(context: BenchmarkContext): Promise<readonly Figure[]>;
}

/** A workload size at a scale: never below `minimum`, so a tiny scale still does some work. */
export function scaled(count: number, scale: number, minimum = 1_000): number {
  return Math.max(minimum, Math.round(count * scale));
}

export interface ThroughputOptions<State> {
  /** Operations in one timed pass: the fixed workload. */
  readonly count: number;
  /** Operations in the untimed warm-up pass, which lets the JIT compile the hot code first. */
  readonly warmUpCount: number;
  /** Timed passes; the median is reported (3 keeps one slow pass on a shared VM from counting). */
  readonly passes?: number;
  /** Untimed preparation before every pass (e.g. a fresh generator). */
  readonly setUp: (count: number) => State | Promise<State>;
  /** The timed work: `count` operations. Returns a checksum so the work cannot be optimised away. */
  readonly pass: (state: State, count: number) => number | Promise<number>;
}

export interface Throughput {
  readonly opsPerSecond: number;
  readonly passesOpsPerSecond: readonly number[];
  readonly checksum: number;
}

/**
 * Throughput as count / elapsed over whole passes, timed with process.hrtime.bigint() around
 * the pass and not around each call, so the timer's own cost does not count.
 */
export async function measureThroughput<State>(
  options: ThroughputOptions<State>,
): Promise<Throughput> {
  const passes = options.passes ?? 3;
  let checksum = await options.pass(await options.setUp(options.warmUpCount), options.warmUpCount);
  const rates: number[] = [];
  for (let pass = 0; pass < passes; pass += 1) {
    const state = await options.setUp(options.count);
    const startNs = process.hrtime.bigint();
    checksum += await options.pass(state, options.count);
    const elapsedNs = process.hrtime.bigint() - startNs;
    rates.push(options.count / (Number(elapsedNs) / 1e9));
  }
  const sorted = [...rates].sort((a, b) => a - b);
  return {
    opsPerSecond: sorted[Math.floor(sorted.length / 2)]!,
    passesOpsPerSecond: rates,
    checksum,
  };
}
