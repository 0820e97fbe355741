/**
 * `npm run --silent bench -- [--json] [--filter PREFIX]`: runs the benchmarks in bench/registry.ts.
 * See docs/reference/benchmarks.md.
 */
import { runBenchmarks } from "./run-benchmarks.ts";

process.exitCode = await runBenchmarks(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
});
