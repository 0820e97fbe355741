/**
 * `bursar change` as a user runs it, on a real control.sqlite: the examples imported as a
 * reviewed change and rolled out by `bursar run --control`; the 2025-01-16 template edit blocked
 * at lint; forcing that takes two administrators; an operator's lowering; the audit log intact.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, inject, test } from "vitest";
import { proposedExamplesCopy } from "../support/proposed-examples.ts";
import { runCli } from "../support/run-cli.ts";

const AT = ["--at", "2025-01-16T14:00:00+08:00"];
let data: string;

function change(args: readonly string[]) {
  return runCli(["change", ...args, "--data", data, ...AT]);
}

function json(args: readonly string[]) {
  const result = change([...args, "--json"]);
  // biome-ignore lint/suspicious/noExplicitAny: the CLI's JSON, read the way a script would
  const body: any = JSON.parse(result.stdout);
  return { status: result.status, body };
}

const ACKS = [
  "lint.scope_everything|campaign/idc-national-qr-everyday|scope",
  "lint.scope_everything|campaign/lucky-mobile-topup|scope",
  "lint.scope_everything|campaign/lucky-national-qr|scope",
].flatMap((key) => ["--ack", `${key}=a national campaign, reviewed at import`]);

beforeAll(() => {
  data = mkdtempSync(join(tmpdir(), "bursar-change-cli-"));
});

// Each step starts a process; the import simulates and runs traffic: minutes on a loaded machine.
describe("bursar change", { timeout: 180_000 }, () => {
  test("imports the examples as a change: lint, money, four eyes, rollout by bursar run", () => {
    const created = json(["create", "examples", "--title", "import the examples", "--as", "ana"]);
    expect(created).toMatchObject({
      status: 0,
      body: { ok: true, change: { id: "change-1", state: "draft" } },
    });
    const hash = created.body.change.contentHash as string;

    const unacknowledged = json(["submit", "change-1", "--as", "ana", "--seconds", "60"]);
    expect(unacknowledged).toMatchObject({
      status: 1,
      body: { ok: false, code: "warnings_unacknowledged" },
    });
    const submitted = json(["submit", "change-1", "--as", "ana", "--seconds", "60", ...ACKS]);
    expect(submitted.status).toBe(0);
    expect(submitted.body.change.state).toBe("in_review");
    expect(submitted.body.change.assessment.risk.level).toBe("high");
    expect(submitted.body.change.assessment.proposedSubsidyPerHourMinor).toBeGreaterThan(0);

    expect(
      json(["approve", "change-1", "--hash", hash, "--as", "ana", "--roles", "author,reviewer"])
        .body,
    ).toMatchObject({
      code: "author_cannot_approve",
    });
    expect(
      json(["approve", "change-1", "--hash", "0".repeat(64), "--as", "rui"]).body,
    ).toMatchObject({ code: "content_changed" });
    expect(json(["approve", "change-1", "--hash", hash, "--as", "rui"]).body.change.state).toBe(
      "in_review",
    );
    expect(json(["approve", "change-1", "--hash", hash, "--as", "mei"]).body.change.state).toBe(
      "approved",
    );
    // One stage for everyone would skip the staged rollout: refused as unusable input.
    const skipping = change(["rollout", "change-1", "--stages", "10000", "--as", "ops"]);
    expect(skipping.status).toBe(2);
    expect(skipping.stderr).toContain("2 to 10 stages");
    expect(
      json(["rollout", "change-1", "--stages", "1000,10000", "--as", "ops"]).body.change.state,
    ).toBe("rolling_out");

    // The run keeps a sample of what it served: the next change is simulated on it.
    const run = runCli([
      "run",
      "--control",
      data,
      "--tps",
      "200",
      // 10 % of identities for the stage's five minutes, then everyone.
      "--seconds",
      "330",
      "--sample-log",
      join(data, "samples"),
      "--sample-rate-bps",
      "5000",
    ]);
    expect(run.status).toBe(0);
    expect(run.stderr).toMatch(/rollout of change-1 at .*: advance .*now 100 % of identities/);
    expect(run.stderr).toMatch(/rollout of change-1 at .*: advance .*now 100 % of identities/);
    expect(run.stderr).toMatch(/rollout of change-1 at .*: complete/);
    expect(run.stdout).toContain("37 campaigns");
    expect(json(["show", "change-1"]).body.change.state).toBe("active");
  });

  test("the 2025-01-16 template edit is refused at lint; forcing it takes two administrators and shows", () => {
    const created = json([
      "create",
      proposedExamplesCopy(),
      "--title",
      "routine template update",
      "--as",
      "ana",
    ]);
    expect(
      created.body.change.edits.map((edit: { document: { id: string } }) => edit.document.id),
    ).toContain("instant-discount");
    const id = created.body.change.id as string;
    const refused = json(["submit", id, "--as", "ana", "--seconds", "60"]);
    expect(refused).toMatchObject({ status: 1, body: { code: "lint_errors" } });
    expect(refused.body.message).toContain("lint.template_edit_changes_offer_kind");
    // The administrators asked to force it read what was refused, and its money.
    const refusedShown = change(["show", id]);
    expect(refusedShown.stdout).toMatch(/REFUSED at the lint gate \(lint_errors\) at \S+: /);
    expect(refusedShown.stdout).toContain("lint.template_edit_changes_offer_kind");
    expect(refusedShown.stdout).toMatch(/money: subsidy per hour .* → .* CNY/);

    const reason = "regulator deadline tonight, signed off by risk";
    expect(
      json(["force", id, "--gate", "envelope", "--reason", reason, "--as", "root1"]).body,
    ).toMatchObject({
      code: "gate_not_forceable",
    });
    expect(
      json(["force", id, "--gate", "lint", "--reason", reason, "--as", "root1"]).body.change.forced,
    ).toEqual([]);
    expect(
      json(["force", id, "--gate", "lint", "--reason", reason, "--as", "root1"]).body,
    ).toMatchObject({
      code: "second_admin_required",
    });
    const forced = json(["force", id, "--gate", "lint", "--reason", reason, "--as", "root2"]);
    expect(forced.body.change.forced).toEqual([
      expect.objectContaining({ gate: "lint", adminIds: ["root1", "root2"] }),
    ]);
    const submitted = json(["submit", id, "--as", "ana", "--payments", join(data, "samples")]);
    expect(submitted.body.change.assessment.sample).toMatch(/recorded file\(s\) in .* at 5000 bps/);
    expect(submitted.body.change.assessment.simulation.sampleRateBps).toBe(5_000);
    expect(submitted.body.change.state).toBe("in_review");
    expect(
      submitted.body.change.assessment.risk.reasons.map((reason: { code: string }) => reason.code),
    ).toContain("template_fan_out");

    const shown = change(["show", id]);
    expect(shown.stdout).toContain("FORCED past lint by root1 and root2");
    expect(shown.stdout).not.toContain("REFUSED at the lint gate");
    expect(shown.stdout).toMatch(/idc-coffee-afternoon-tea change: offer \(inherited\)/);
    const listed = change(["list"]);
    expect(listed.stdout).toMatch(
      new RegExp(`${id}\\tin_review\\tana\\troutine template update\\tFORCED`),
    );
  });

  test("an operator lowers a budget alone; the audit log holds every action intact", () => {
    const lowered = join(mkdtempSync(join(tmpdir(), "bursar-lowered-")), "coffee.json");
    const shown = runCli(["change", "show", "change-1", "--data", data, "--json"]);
    const coffee = JSON.parse(shown.stdout).change.edits.find(
      (edit: { document: { id: string } }) => edit.document.id === "idc-coffee-afternoon-tea",
    ).document;
    writeFileSync(
      lowered,
      JSON.stringify({
        ...coffee,
        limits: { ...coffee.limits, totalBudgetMinor: coffee.limits.totalBudgetMinor - 100 },
      }),
    );
    const done = json(["lower", lowered, "--reason", "finance cut the quarter", "--as", "ops"]);
    expect(done).toMatchObject({
      status: 0,
      body: { change: { state: "active", operatorAction: { kind: "lower_limits" } } },
    });

    const audit = runCli(["audit", "verify", "--data", data, "--json"]);
    expect(audit.status).toBe(0);
    const report = JSON.parse(audit.stdout);
    expect(report.ok).toBe(true);
    // Import: created, submitted, approved twice, rollout started, stage advanced, activated. The
    // template edit: created, force asked, forced, submitted. The lowering. Refusals write nothing.
    expect(report.entries).toBe(12);
    const entries = runCli(["audit", "show", "--data", data, "--json"]);
    expect(entries.stdout).toContain("budget.lowered");
    expect(entries.stdout).toContain("change.forced");
  });

  test("unusable input exits 2 with a message", () => {
    const badRole = change([
      "approve",
      "change-1",
      "--hash",
      "x",
      "--as",
      "rui",
      "--roles",
      "boss",
    ]);
    expect(badRole.status).toBe(2);
    expect(badRole.stderr).toContain("boss is not a role");
    const badPaths = change(["create", "/nonexistent/path", "--title", "t", "--as", "ana"]);
    expect(badPaths.status).toBe(2);
    const unknown = json(["show", "change-999"]);
    expect(unknown).toMatchObject({ status: 1, body: { code: "not_found" } });
  });

  test("on PostgreSQL: the same pipeline, served and judged by bursar run --control-database", () => {
    const url = inject("postgresUrl");
    const schema = `cli_change_${process.pid}`;
    const pg = (args: readonly string[]) => {
      const result = runCli([
        "change",
        ...args,
        "--database",
        url,
        "--schema",
        schema,
        ...AT,
        "--json",
      ]);
      return { status: result.status, body: JSON.parse(result.stdout) };
    };
    const created = pg(["create", "examples", "--title", "import the examples", "--as", "ana"]);
    const hash = created.body.change.contentHash as string;
    expect(
      pg(["submit", "change-1", "--as", "ana", "--seconds", "60", ...ACKS]).body.change.state,
    ).toBe("in_review");
    pg(["approve", "change-1", "--hash", hash, "--as", "rui"]);
    expect(pg(["approve", "change-1", "--hash", hash, "--as", "mei"]).body.change.state).toBe(
      "approved",
    );
    expect(
      pg(["rollout", "change-1", "--stages", "1000,10000", "--as", "ops"]).body.change.state,
    ).toBe("rolling_out");
    const run = runCli([
      "run",
      "--control-database",
      url,
      "--control-schema",
      schema,
      "--tps",
      "200",
      "--seconds",
      "330",
    ]);
    expect(run.status).toBe(0);
    expect(run.stderr).toMatch(/rollout of change-1 at .*: complete/);
    expect(pg(["show", "change-1"]).body.change.state).toBe("active");
  });
});
