import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli/main.ts";
import { parseInstantWithOffset } from "../../src/cli/traffic-flags.ts";
import { paymentSchema } from "../../src/core/model/payment.ts";
import { SCENARIOS } from "../../src/core/scenario.ts";

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI in-process, capturing what it writes. */
async function run(args: readonly string[]): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const text = (chunk: unknown) =>
    typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString("utf8");
  const out = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    stdout += text(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
    stderr += text(chunk);
    return true;
  });
  try {
    const code = await main(args);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), "bursar-traffic-"));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

/** 200 payments: seed 3, 50 per second for 4 seconds. */
const SMALL_RUN = ["traffic", "generate", "--seed", "3", "--tps", "50", "--seconds", "4"];

describe("bursar traffic generate", () => {
  it("writes tps × seconds valid payments as NDJSON, the same on every run", async () => {
    const first = await run(SMALL_RUN);
    expect(first.code).toBe(0);
    const lines = first.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(200);
    expect(lines.every((line) => paymentSchema.safeParse(JSON.parse(line)).success)).toBe(true);
    const second = await run(SMALL_RUN);
    expect(second.stdout).toBe(first.stdout);
  });

  it("writes the same bytes to --out, and says so on stderr", async () => {
    const file = join(directory, "out.ndjson");
    const toFile = await run([...SMALL_RUN, "--out", file]);
    const toStdout = await run(SMALL_RUN);
    expect(toFile).toMatchObject({ code: 0, stdout: "" });
    expect(toFile.stderr).toContain(`wrote 200 payments to ${file}`);
    expect(await readFile(file, "utf8")).toBe(toStdout.stdout);
  });

  it("starts the window at --start, an instant with its offset", async () => {
    const result = await run([
      "traffic",
      "generate",
      "--seed",
      "1",
      "--tps",
      "5",
      "--seconds",
      "2",
      "--start",
      "2025-11-11T00:00:00+08:00",
    ]);
    const times = result.stdout
      .trimEnd()
      .split("\n")
      .map((line) => (JSON.parse(line) as { atMs: number }).atMs);
    const startMs = Date.parse("2025-11-10T16:00:00Z");
    expect(times.every((atMs) => atMs >= startMs && atMs < startMs + 2_000)).toBe(true);
  });

  it.each([
    [["--seed", "x", "--tps", "1", "--seconds", "1"], "--seed: expected a whole number"],
    [
      ["--seed", "1", "--tps", "0", "--seconds", "1"],
      "--tps: tps must be 1..1000000, got 0 [traffic.out_of_range]",
    ],
    [["--seed", "1", "--tps", "1000000", "--seconds", "604800"], "[traffic.too_many_payments]"],
    [["--seed", "1", "--tps", "1"], "missing --seconds"],
    [
      ["--seed", "1", "--tps", "1", "--seconds", "1", "--start", "2025-01-16T14:40:00"],
      "--start: expected a date and time with its offset",
    ],
    [
      ["--seed", "1", "--tps", "1", "--seconds", "1", "--users", "1"],
      "--users: users must be 2..20000000",
    ],
    [["--seed", "1", "--tps", "1", "--seconds", "1", "--bogus"], "unknown option '--bogus'"],
  ])("refuses %j with exit code 2 and a message naming the flag", async (flags, message) => {
    const result = await run(["traffic", "generate", ...flags]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(message);
  });

  it("exits 2 when the output file cannot be written", async () => {
    const result = await run([
      "traffic",
      "generate",
      "--seed",
      "1",
      "--tps",
      "1",
      "--seconds",
      "1",
      "--out",
      join(directory, "missing", "x.ndjson"),
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("no such file or directory");
  });
});

describe("bursar traffic summarize", () => {
  it("summarizes a generated run as one JSON object", async () => {
    const result = await run([
      "traffic",
      "summarize",
      "--seed",
      "20250116",
      "--tps",
      "200",
      "--seconds",
      "10",
      "--json",
    ]);
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    const report = JSON.parse(lines[0]!);
    expect(report).toMatchObject({
      source: {
        seed: 20250116,
        tps: 200,
        seconds: 10,
        startMs: 1_737_009_600_000,
        users: 1_000_000,
        merchants: 200_000,
      },
      payments: 2_000,
      usersCapped: false,
      badLines: 0,
      badLineSamples: [],
    });
    expect(report.users).toBeGreaterThan(1_000);
    expect(report.amountsMinor.CNY).toBeGreaterThan(0);
    expect(report.scenarios.map((row: { scenario: string }) => row.scenario)).toEqual([
      ...SCENARIOS,
    ]);
    const regionPayments = report.regions.reduce(
      (sum: number, row: { payments: number }) => sum + row.payments,
      0,
    );
    expect(regionPayments).toBe(2_000);
    expect(report.payeeKinds.map((row: { payeeKind: string }) => row.payeeKind)).toEqual([
      "merchant",
      "individual",
    ]);
  });

  it("summarizes what generate wrote exactly as it summarizes the run itself", async () => {
    const file = join(directory, "same.ndjson");
    await run([
      "traffic",
      "generate",
      "--seed",
      "8",
      "--tps",
      "100",
      "--seconds",
      "5",
      "--out",
      file,
    ]);
    const fromFile = JSON.parse((await run(["traffic", "summarize", file, "--json"])).stdout);
    const fromRun = JSON.parse(
      (
        await run([
          "traffic",
          "summarize",
          "--seed",
          "8",
          "--tps",
          "100",
          "--seconds",
          "5",
          "--json",
        ])
      ).stdout,
    );
    expect({ ...fromFile, source: undefined }).toEqual({ ...fromRun, source: undefined });
    expect(fromFile.source).toEqual({ file });
  });

  it("prints amounts in yuan for people", async () => {
    const result = await run([
      "traffic",
      "summarize",
      "--seed",
      "20250116",
      "--tps",
      "100",
      "--seconds",
      "3",
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("payments: 300");
    expect(result.stdout).toMatch(/total amount: \d+\.\d{2} CNY/);
    expect(result.stdout).toContain("window: 2025-01-16T14:40:00");
    expect(result.stdout).toMatch(/merchant_qr +\d+ +\d+\.\d %/);
  });

  it("reports bad lines with line, field and code and exits 1", async () => {
    const good = (
      await run(["traffic", "generate", "--seed", "2", "--tps", "3", "--seconds", "1"])
    ).stdout
      .trimEnd()
      .split("\n");
    const bad = JSON.parse(good[1]!);
    bad.amountMinor = 99.5;
    const file = join(directory, "bad.ndjson");
    await writeFile(file, [good[0], "oops", JSON.stringify(bad), good[2], ""].join("\n"));
    const result = await run(["traffic", "summarize", file, "--json"]);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report.payments).toBe(2);
    expect(report.badLines).toBe(2);
    expect(report.badLineSamples).toEqual([
      {
        line: 2,
        findings: [
          expect.objectContaining({ file, line: 2, path: "", code: "payment.invalid_json" }),
        ],
      },
      {
        line: 3,
        findings: [
          expect.objectContaining({
            file,
            line: 3,
            path: "amountMinor",
            code: "money.not_integer",
          }),
        ],
      },
    ]);
    const human = await run(["traffic", "summarize", file]);
    expect(human.code).toBe(1);
    expect(human.stdout).toContain(`${file}:3 amountMinor: error:`);
  });

  it("shows the first 20 bad lines and counts the rest", async () => {
    const file = join(directory, "many-bad.ndjson");
    await writeFile(file, Array.from({ length: 23 }, (_, index) => `bad ${index}`).join("\n"));
    const result = await run(["traffic", "summarize", file]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("bad lines: 23");
    expect(result.stdout).toContain(`${file}:20:`);
    expect(result.stdout).not.toContain(`${file}:21:`);
    expect(result.stdout).toContain("… and 3 more bad lines");
  });

  it.each([
    [["summarize"], "give a FILE, or --seed, --tps and --seconds"],
    [["summarize", "x.ndjson", "--seed", "1"], "not both"],
    [
      ["summarize", "/definitely/not/here.ndjson"],
      "cannot read /definitely/not/here.ndjson: no such file or directory",
    ],
    [
      ["summarize", "--seed", "1", "--tps", "1", "--seconds", "-3"],
      "--seconds: expected a whole number",
    ],
  ])("refuses %j with exit code 2", async (args, message) => {
    const result = await run(["traffic", ...args]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
  });

  it("exits 2 when FILE is a directory", async () => {
    const result = await run(["traffic", "summarize", directory]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("cannot read");
  });
});

describe("parseInstantWithOffset", () => {
  it("reads instants with an offset and refuses the rest", () => {
    expect(parseInstantWithOffset("2025-01-16T14:40:00+08:00")).toBe(1_737_009_600_000);
    expect(parseInstantWithOffset("2025-01-16T06:40Z")).toBe(1_737_009_600_000);
    expect(parseInstantWithOffset("2025-01-16T14:40:00.5+08:00")).toBe(1_737_009_600_500);
    expect(parseInstantWithOffset("2025-01-15T22:40:00-08:00")).toBe(1_737_009_600_000);
    for (const text of [
      "2025-01-16T14:40:00",
      "2025-02-30T00:00+08:00",
      "2025-01-16T24:00+08:00",
      "2025-01-16 14:40+08:00",
      "yesterday",
      "2025-01-16T14:40+25:00",
    ]) {
      expect(parseInstantWithOffset(text), text).toBeUndefined();
    }
  });
});

describe("bin/bursar.js", () => {
  it("stops quietly with exit code 0 when the reader closes the pipe", async () => {
    const child = spawn(
      process.execPath,
      ["bin/bursar.js", "traffic", "generate", "--seed", "1", "--tps", "100000", "--seconds", "60"],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    let first = "";
    child.stdout.once("data", (chunk: Buffer) => {
      first = chunk.toString().split("\n")[0]!;
      child.stdout.destroy();
    });
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(JSON.parse(first)).toMatchObject({ paymentId: "p1-0" });
    expect(code).toBe(0);
    expect(stderr).not.toContain("Error");
  });
});
