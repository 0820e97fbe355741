/**
 * Every benchmark, in the order they run. Adding one: a file under bench/ exporting a Benchmark,
 * and one line here (docs/reference/benchmarks.md).
 */
import {
  applyPostgresDeadlineBenchmark,
  applyPostgresTwoProcessBenchmark,
} from "./apply-postgres.ts";
import { applySqliteBenchmark } from "./apply-sqlite.ts";
import type { Benchmark } from "./benchmark.ts";
import { guardCheckBenchmark } from "./guard-check.ts";
import { httpBenchmark } from "./http.ts";
import { impactBenchmark } from "./impact.ts";
import { killPropagationBenchmark } from "./kill-propagation.ts";
import { quoteBenchmark } from "./quote.ts";
import { simulateBenchmark } from "./simulate.ts";
import { trafficGenerateBenchmark } from "./traffic-generate.ts";
import { trafficNdjsonReadBenchmark } from "./traffic-ndjson-read.ts";
import { trafficNdjsonWriteBenchmark } from "./traffic-ndjson-write.ts";

export const BENCHMARKS: readonly Benchmark[] = [
  trafficGenerateBenchmark,
  trafficNdjsonReadBenchmark,
  trafficNdjsonWriteBenchmark,
  quoteBenchmark,
  guardCheckBenchmark,
  simulateBenchmark,
  applySqliteBenchmark,
  applyPostgresTwoProcessBenchmark,
  applyPostgresDeadlineBenchmark,
  killPropagationBenchmark,
  impactBenchmark,
  httpBenchmark,
];
