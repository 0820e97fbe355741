import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  type Benchmark,
  FIGURE_NAME_PATTERN,
  FIGURE_UNITS,
  measureThroughput,
} from "../../bench/benchmark.ts";
import { BENCHMARKS } from "../../bench/registry.ts";
import { registryProblems, runBenchmarks } from "../../bench/run-benchmarks.ts";

/** A tiny workload: the harness is what is under test here, not the machine. */
const TINY = { BURSAR_BENCH_SCALE: "0.001" };

async function bench(
  argv: readonly string[],
  env: Record<string, string> = TINY,
  benchmarks?: readonly Benchmark[],
) {
  let stdout = "";
  let stderr = "";
  const code = await runBenchmarks(
    argv,
    { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text), env },
    benchmarks,
  );
  return { code, stdout, stderr };
}

/** Every stdout line must be one figure in the contract's shape. */
function figuresOf(stdout: string): Record<string, unknown>[] {
  const lines = stdout.split("\n").filter((line) => line !== "");
  return lines.map((line) => {
    const figure = JSON.parse(line) as Record<string, unknown>;
    expect(FIGURE_NAME_PATTERN.test(String(figure.bench))).toBe(true);
    expect(FIGURE_UNITS).toContain(figure.unit);
    if (figure.value === null) {
      expect(Object.keys(figure).sort()).toEqual(["bench", "skipped", "unit", "value"]);
      expect(typeof figure.skipped).toBe("string");
    } else {
      expect(Object.keys(figure).sort()).toEqual(["bench", "unit", "value"]);
      expect(Number.isFinite(figure.value)).toBe(true);
    }
    return figure;
  });
}

describe("the benchmark harness", () => {
  it("with --json --filter traffic.generate prints only that figure, as a JSON line", async () => {
    const result = await bench(["--json", "--filter", "traffic.generate"]);
    expect(result.code).toBe(0);
    const figures = figuresOf(result.stdout);
    expect(figures.map((figure) => figure.bench)).toEqual(["traffic.generate.ops_per_s"]);
    expect(figures[0]!.unit).toBe("ops/s");
    expect(figures[0]!.value as number).toBeGreaterThan(0);
    // The table with the fixture (seed and sizes) goes to stderr under --json.
    expect(result.stderr).toContain("seed 20250116");
    expect(result.stderr).toContain("traffic.generate.ops_per_s");
  });

  // Every benchmark at a tiny scale, the HTTP ones with their server children: well under a
  // minute on a quiet machine, more while CI runs other suites beside it.
  it("runs every registered figure once with --json", { timeout: 240_000 }, async () => {
    const result = await bench(["--json"]);
    expect(result.code).toBe(0);
    const names = BENCHMARKS.flatMap((benchmark) => benchmark.figures.map((spec) => spec.bench));
    expect(figuresOf(result.stdout).map((figure) => figure.bench)).toEqual(names);
  });

  it("without --json prints the table on stdout", async () => {
    const result = await bench(["--filter", "traffic.ndjson_read"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /traffic\.ndjson_read\.ops_per_s +[\d,]+ +ops\/s +\d+ valid generated payment lines/,
    );
    expect(() => JSON.parse(result.stdout.split("\n")[0]!)).toThrow();
  });

  it.each([[["--jsn"]], [["--filter"]], [["extra"]]])(
    "refuses %j with exit code 2 and measures nothing",
    async (argv) => {
      const result = await bench(argv);
      expect(result.code).toBe(2);
      expect(result.stdout).toBe("");
      expect(result.stderr).toContain("usage:");
    },
  );

  it("refuses a filter that matches nothing, and a bad scale", async () => {
    expect((await bench(["--filter", "no_such_area."])).code).toBe(2);
    const badScale = await bench(["--json"], { BURSAR_BENCH_SCALE: "7" });
    expect(badScale.code).toBe(2);
    expect(badScale.stderr).toContain("BURSAR_BENCH_SCALE");
  });

  it("reports a failing benchmark's figures as skipped and exits 1", async () => {
    const failing: Benchmark = {
      name: "demo.broken",
      figures: [
        { bench: "demo.broken.ops_per_s", unit: "ops/s" },
        { bench: "demo.broken.p99_us", unit: "us" },
      ],
      fixture: () => "nothing",
      run: () => Promise.reject(new Error("store unreachable")),
    };
    const result = await bench(["--json"], TINY, [failing]);
    expect(result.code).toBe(1);
    expect(figuresOf(result.stdout)).toEqual([
      {
        bench: "demo.broken.ops_per_s",
        value: null,
        unit: "ops/s",
        skipped: "failed: store unreachable",
      },
      {
        bench: "demo.broken.p99_us",
        value: null,
        unit: "us",
        skipped: "failed: store unreachable",
      },
    ]);
  });

  it("treats a benchmark that reports other figures than it declared as failed", async () => {
    const sloppy: Benchmark = {
      name: "demo.sloppy",
      figures: [{ bench: "demo.sloppy.ops_per_s", unit: "ops/s" }],
      fixture: () => "nothing",
      run: async () => [{ bench: "demo.sloppy.latency", value: 1, unit: "ms" }],
    };
    const result = await bench(["--json"], TINY, [sloppy]);
    expect(result.code).toBe(1);
    expect(figuresOf(result.stdout)[0]).toMatchObject({
      bench: "demo.sloppy.ops_per_s",
      value: null,
    });
  });

  it("keeps the registry within the contract: names, units, prefixes, no duplicates", () => {
    expect(registryProblems(BENCHMARKS)).toEqual([]);
    expect(
      registryProblems([
        {
          name: "a.b",
          figures: [
            { bench: "A.b.c", unit: "ops/s" },
            { bench: "x.y.z", unit: "us" },
          ],
          fixture: () => "",
          run: async () => [],
        },
      ]),
    ).toHaveLength(3);
  });

  it("measures throughput as count over elapsed, median of the passes", async () => {
    let passes = 0;
    const throughput = await measureThroughput({
      count: 1_000,
      warmUpCount: 10,
      setUp: () => undefined,
      pass: (_state, count) => {
        passes += 1;
        let sum = 0;
        for (let index = 0; index < count; index += 1) sum += index;
        return sum;
      },
    });
    expect(passes).toBe(4);
    expect(throughput.passesOpsPerSecond).toHaveLength(3);
    expect(throughput.opsPerSecond).toBe(
      [...throughput.passesOpsPerSecond].sort((a, b) => a - b)[1],
    );
    expect(throughput.checksum).toBe(45 + 3 * 499_500);
  });
});

describe("docs/reference/benchmarks.md", () => {
  it("documents every registered figure with its unit", () => {
    const doc = readFileSync(
      new URL("../../docs/reference/benchmarks.md", import.meta.url),
      "utf8",
    );
    for (const spec of BENCHMARKS.flatMap((benchmark) => benchmark.figures)) {
      expect(doc).toContain(`| \`${spec.bench}\` | ${spec.unit} |`);
    }
  });
});

describe("npm run bench", () => {
  it("prints only JSON lines on stdout with --json --filter traffic.generate", async () => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "bench/run.ts", "--json", "--filter", "traffic.generate"],
      {
        env: { ...process.env, ...TINY },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(code).toBe(0);
    expect(figuresOf(stdout).map((figure) => figure.bench)).toEqual(["traffic.generate.ops_per_s"]);
    expect(stderr).toContain("scale 0.001");
  });
});
