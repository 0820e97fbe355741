/**
 * `--traffic-share FRACTION` (`bursar serve`, `bursar run --control DIR --guard`): the text parsed
 * into basis points exactly, bad values refused with exit 2 before anything starts, and the
 * server's share reaching its runtime guard and `/metrics` (docs/adr/0025-declared-traffic-share.md).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { describe, expect, test } from "vitest";
import { parseTrafficShareBps } from "../../src/cli/options.ts";
import { runCli } from "../support/run-cli.ts";
import { startTestServer } from "../support/server.ts";

describe("parseTrafficShareBps", () => {
  test.each([
    ["1", 10_000],
    ["1.0", 10_000],
    ["1.0000", 10_000],
    ["0.25", 2_500],
    ["0.5", 5_000],
    // 0.3334 × 10,000 in floating point is 3,333.9999999999995: the text is read digit by digit.
    ["0.3334", 3_334],
    ["0.0003", 3],
    ["0.0001", 1],
    [" 0.25 ", 2_500],
  ])("%j is %i bps", (text, bps) => {
    expect(parseTrafficShareBps(text)).toBe(bps);
  });

  test.each([
    "0",
    "0.0",
    "0.00001",
    "1.0001",
    "1.5",
    "2",
    "-0.5",
    ".5",
    "5.",
    "1e-1",
    "25%",
    "0,25",
    "abc",
    "",
    "NaN",
    "Infinity",
  ])("%j is refused", (text) => {
    expect(parseTrafficShareBps(text)).toBeUndefined();
  });
});

describe("the flag as a user gives it", () => {
  test("a bad share is refused with exit 2 before anything starts; without --guard, bursar run refuses it", () => {
    const data = mkdtempSync(join(tmpdir(), "bursar-traffic-share-"));
    const serve = runCli(["serve", "--traffic-share", "1.5", "--data", join(data, "serve")]);
    expect(serve.status).toBe(2);
    expect(serve.stderr).toContain("--traffic-share: expected a decimal in (0, 1]");
    expect(serve.stderr).toContain('got "1.5"');
    expect(serve.stdout).not.toContain("listening");
    const control = join(data, "control");
    const run = runCli(["run", "--control", control, "--guard", "--traffic-share", "0.00001"]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('got "0.00001"');
    const unguarded = runCli(["run", "--traffic-share", "0.5", "--seconds", "1"]);
    expect(unguarded.status).toBe(2);
    expect(unguarded.stderr).toContain("--traffic-share needs --guard");
    // A guarded run at half the traffic says so where it names what it served.
    const guarded = runCli([
      "run",
      "--control",
      control,
      "--guard",
      "--traffic-share",
      "0.5",
      "--tps",
      "10",
      "--seconds",
      "1",
    ]);
    expect(guarded.status).toBe(0);
    expect(guarded.stdout).toContain("(control store, guarded at a traffic share of 0.5)");
  });
});

describe("a server's share", () => {
  test("is shown on /metrics as a ratio", async () => {
    const server = await startTestServer("sqlite", { trafficShareBps: 2_500 });
    try {
      const token = await server.tokenFor(["operator"]);
      const answer = await server.request("GET", "/metrics", { token });
      const family = parsePrometheusTextFormat(answer.body as string).find(
        (candidate) => candidate.name === "bursar_guard_traffic_share_ratio",
      );
      expect(family?.type).toBe("GAUGE");
      expect(family?.metrics.map((sample) => Number(sample.value))).toEqual([0.25]);
    } finally {
      await server.stop();
    }
  });

  test("reaches its runtime guard: one the guard's policy refuses stops the start", async () => {
    await expect(startTestServer("sqlite", { trafficShareBps: 0 })).rejects.toThrow(
      /trafficShareBps 0 is not an integer within 1\.\.10000/,
    );
  });
});
