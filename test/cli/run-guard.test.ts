/**
 * `bursar run --control DIR --guard` as a user runs it, on a real control.sqlite: the examples
 * imported and active, then the 2025-01-16 template edit forced past lint and approval by two
 * administrators and rolled out by the default plan (1 % first). The guarded run learns its
 * baselines from the stable traffic, trips on the forced versions' subsidy per payment, kills
 * them, rolls the change back and opens an incident whose window starts at their first grant —
 * which `bursar incident list`, `bursar kill
 * list` and `bursar change show` then show. Without --control, --guard is refused.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { proposedExamplesCopy } from "../support/proposed-examples.ts";
import { runCli } from "../support/run-cli.ts";

const AT = ["--at", "2025-01-16T14:00:00+08:00"];
const ACKS = [
  "lint.scope_everything|campaign/idc-national-qr-everyday|scope",
  "lint.scope_everything|campaign/lucky-mobile-topup|scope",
  "lint.scope_everything|campaign/lucky-national-qr|scope",
].flatMap((key) => ["--ack", `${key}=a national campaign, reviewed at import`]);
let data: string;

function change(args: readonly string[]) {
  return runCli(["change", ...args, "--data", data, ...AT, "--json"], undefined, 120_000);
}

function ok(args: readonly string[]) {
  const result = change(args);
  if (result.status !== 0) throw new Error(`${args.join(" ")}: ${result.stdout} ${result.stderr}`);
  // biome-ignore lint/suspicious/noExplicitAny: the CLI's JSON, read the way a script would
  return JSON.parse(result.stdout) as any;
}

beforeAll(() => {
  data = mkdtempSync(join(tmpdir(), "bursar-run-guard-"));
});

describe("bursar run --control --guard", { timeout: 600_000 }, () => {
  test("trips on a forced template edit, kills it, rolls it back and opens an incident", () => {
    const imported = ok(["create", "examples", "--title", "import the examples", "--as", "ana"]);
    ok(["submit", "change-1", "--as", "ana", "--seconds", "60", ...ACKS]);
    for (const reviewer of ["rui", "mei"]) {
      ok(["approve", "change-1", "--hash", imported.change.contentHash, "--as", reviewer]);
    }
    ok(["rollout", "change-1", "--stages", "1000,10000", "--as", "ops"]);
    const importRun = runCli(
      ["run", "--control", data, "--tps", "200", "--seconds", "330"],
      undefined,
      240_000,
    );
    expect(importRun.status).toBe(0);
    expect(ok(["show", "change-1"]).change.state).toBe("active");

    const bad = ok([
      "create",
      proposedExamplesCopy(),
      "--title",
      "routine template update",
      "--as",
      "ana",
    ]);
    const id = bad.change.id as string;
    expect(change(["submit", id, "--as", "ana", "--seconds", "60"]).status).toBe(1);
    const reason = "campaign deadline tonight, checked by hand";
    for (const gate of ["lint", "approval"]) {
      for (const admin of ["root1", "root2"]) {
        ok(["force", id, "--gate", gate, "--reason", reason, "--as", admin]);
      }
    }
    expect(ok(["submit", id, "--as", "ana", "--seconds", "60"]).change.state).toBe("approved");
    expect(ok(["rollout", id, "--as", "ops"]).change.state).toBe("rolling_out");

    const run = runCli(
      [
        "run",
        "--control",
        data,
        "--guard",
        "--tps",
        "2000",
        "--seconds",
        "150",
        "--start",
        "2025-01-16T14:39:00+08:00",
      ],
      undefined,
      300_000,
    );
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("guarded");
    expect(run.stderr).toMatch(
      new RegExp(
        `guard at .*: per_payment\\.above_previous on campaign .*; rolled back ${id}; .*incident-1`,
      ),
    );
    expect(ok(["show", id]).change.state).toBe("rolled_back");

    const incidents = runCli(["incident", "list", "--data", data, "--json"]);
    expect(incidents.status).toBe(0);
    const listed = JSON.parse(incidents.stdout);
    expect(JSON.stringify(listed)).toContain("per_payment.above_previous");
    const shown = runCli(["incident", "show", "incident-1", "--data", data]);
    expect(shown.stdout).toMatch(/kill_confirmed.*bursar-run-\d+@/);
    // Its window starts at the forced versions' first grant, before the trip, so the impact
    // report counts what they granted before the guard saw enough of them.
    expect(shown.stdout).toContain("first_anomalous_subsidy");
    const json = runCli(["incident", "show", "incident-1", "--data", data, "--json"]);
    const { incident } = JSON.parse(json.stdout) as {
      incident: { windowStartMs: number; timeline: { kind: string; atMs: number }[] };
    };
    const tripAtMs = incident.timeline.find((entry) => entry.kind === "trip")!.atMs;
    expect(incident.windowStartMs).toBeLessThan(tripAtMs);
    const kills = runCli(["kill", "list", "--data", data, "--json"]);
    expect(kills.status).toBe(0);
    expect(kills.stdout).toContain("breaker campaign:");
    const audit = runCli(["audit", "verify", "--data", data, "--json"]);
    expect(JSON.parse(audit.stdout).ok).toBe(true);
  });

  test("--guard without --control is refused as unusable input", () => {
    const result = runCli(["run", "--guard", "--seconds", "1"]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("--guard needs --control");
  });
});
