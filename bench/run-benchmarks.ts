/**
 * The benchmark harness (CONTRACTS.md, "Benchmarks"). With --json, stdout carries only figure
 * lines and everything for people goes to stderr; without it, both go to stdout. Returns the
 * exit code instead of exiting, so a test can run it in-process.
 */
import { parseArgs } from "node:util";
import {
  type Benchmark,
  FIGURE_NAME_PATTERN,
  FIGURE_UNITS,
  type Figure,
  type FigureSpec,
} from "./benchmark.ts";
import { BENCHMARKS } from "./registry.ts";

export const EXIT_OK = 0;
/** A benchmark failed: its figures are reported as skipped with the reason. */
export const EXIT_BENCHMARK_FAILED = 1;
/** Bad flags or a bad environment: nothing was measured. */
export const EXIT_USAGE = 2;

export interface BenchIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
}

const USAGE = "usage: npm run --silent bench -- [--json] [--filter PREFIX]";

export async function runBenchmarks(
  argv: readonly string[],
  io: BenchIo,
  benchmarks: readonly Benchmark[] = BENCHMARKS,
): Promise<number> {
  let json: boolean;
  let filter: string;
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: {
        json: { type: "boolean", default: false },
        filter: { type: "string", default: "" },
      },
      strict: true,
      allowPositionals: false,
    });
    json = values.json;
    filter = values.filter;
  } catch (cause) {
    io.stderr(`bench: ${cause instanceof Error ? cause.message : String(cause)}\n${USAGE}\n`);
    return EXIT_USAGE;
  }
  const scale = parseScale(io.env.BURSAR_BENCH_SCALE);
  if (scale === undefined) {
    io.stderr(
      `bench: BURSAR_BENCH_SCALE must be a number in (0, 1], got ${JSON.stringify(io.env.BURSAR_BENCH_SCALE)}\n`,
    );
    return EXIT_USAGE;
  }
  const people = json ? io.stderr : io.stdout;
  const selected = benchmarks
    .map((benchmark) => ({
      benchmark,
      specs: benchmark.figures.filter((spec) => spec.bench.startsWith(filter)),
    }))
    .filter(({ specs }) => specs.length > 0);
  if (selected.length === 0) {
    const names = benchmarks.flatMap((benchmark) => benchmark.figures.map((spec) => spec.bench));
    io.stderr(
      `bench: no figure starts with ${JSON.stringify(filter)}; figures: ${names.join(", ")}\n`,
    );
    return EXIT_USAGE;
  }
  if (scale !== 1) people(`scale ${scale}: reduced workloads, not for publication\n`);

  const rows: { figure: Figure; fixture: string }[] = [];
  let failed = false;
  for (const { benchmark, specs } of selected) {
    const fixture = benchmark.fixture(scale);
    people(`running ${benchmark.name}: ${fixture}\n`);
    let figures: readonly Figure[];
    try {
      figures = checkFigures(
        benchmark,
        await benchmark.run({ scale, progress: (message) => people(`  ${message}\n`) }),
      );
    } catch (cause) {
      failed = true;
      const why = cause instanceof Error ? cause.message : String(cause);
      people(`  failed: ${why}\n`);
      figures = benchmark.figures.map((spec) => ({
        bench: spec.bench,
        value: null,
        unit: spec.unit,
        skipped: `failed: ${why}`,
      }));
    }
    for (const figure of figures) {
      if (!specs.some((spec) => spec.bench === figure.bench)) continue;
      rows.push({ figure, fixture });
      if (json) io.stdout(`${JSON.stringify(figure)}\n`);
    }
  }
  people(renderTable(rows));
  return failed ? EXIT_BENCHMARK_FAILED : EXIT_OK;
}

function parseScale(text: string | undefined): number | undefined {
  if (text === undefined || text === "") return 1;
  const scale = Number(text);
  return Number.isFinite(scale) && scale > 0 && scale <= 1 ? scale : undefined;
}

/** A benchmark must report exactly its declared figures, each in the contract's shape. */
function checkFigures(benchmark: Benchmark, figures: readonly Figure[]): readonly Figure[] {
  const declared = new Map<string, FigureSpec>(benchmark.figures.map((spec) => [spec.bench, spec]));
  const seen = new Set<string>();
  for (const figure of figures) {
    const spec = declared.get(figure.bench);
    if (spec === undefined)
      throw new Error(`${benchmark.name} reported undeclared figure ${figure.bench}`);
    if (seen.has(figure.bench)) throw new Error(`${benchmark.name} reported ${figure.bench} twice`);
    seen.add(figure.bench);
    if (figure.unit !== spec.unit)
      throw new Error(`${figure.bench} is in ${figure.unit}, declared ${spec.unit}`);
    if (figure.value !== null && !Number.isFinite(figure.value)) {
      throw new Error(`${figure.bench} has no finite value: ${figure.value}`);
    }
  }
  for (const spec of benchmark.figures) {
    if (!seen.has(spec.bench)) throw new Error(`${benchmark.name} did not report ${spec.bench}`);
  }
  return figures;
}

/** Checks the registry itself: names and units as the contract says, no figure twice. */
export function registryProblems(benchmarks: readonly Benchmark[]): string[] {
  const problems: string[] = [];
  const names = new Set<string>();
  for (const benchmark of benchmarks) {
    for (const spec of benchmark.figures) {
      if (!FIGURE_NAME_PATTERN.test(spec.bench))
        problems.push(`${spec.bench}: not a dotted lower-case name`);
      if (!spec.bench.startsWith(`${benchmark.name}.`))
        problems.push(`${spec.bench}: outside ${benchmark.name}`);
      if (!(FIGURE_UNITS as readonly string[]).includes(spec.unit))
        problems.push(`${spec.bench}: unknown unit ${spec.unit}`);
      if (names.has(spec.bench)) problems.push(`${spec.bench}: declared twice`);
      names.add(spec.bench);
    }
  }
  return problems;
}

function renderTable(rows: readonly { figure: Figure; fixture: string }[]): string {
  // A benchmark's figures share one fixture: it is printed once, on its first figure.
  const cells = rows.map(({ figure, fixture }, index) => [
    figure.bench,
    figure.value === null ? "skipped" : formatValue(figure.value),
    figure.unit,
    figure.value === null
      ? `${figure.skipped}; ${fixture}`
      : index > 0 && rows[index - 1]!.fixture === fixture
        ? "(as above)"
        : fixture,
  ]);
  const header = ["bench", "value", "unit", "fixture"];
  const widths = [0, 1, 2].map((column) =>
    Math.max(header[column]!.length, ...cells.map((cell) => cell[column]!.length)),
  );
  const line = (cell: readonly string[]): string =>
    [
      cell[0]!.padEnd(widths[0]!),
      cell[1]!.padStart(widths[1]!),
      cell[2]!.padEnd(widths[2]!),
      cell[3]!,
    ].join("  ");
  return `\n${[line(header), ...cells.map(line)].join("\n")}\n`;
}

function formatValue(value: number): string {
  return Number.isInteger(value) ? value.toLocaleString("en-US") : value.toPrecision(4);
}
