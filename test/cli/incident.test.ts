/**
 * `bursar incident` as a user runs it, on a real control.sqlite in its own data directory: open
 * by hand, the timeline, acknowledge, refusals with their codes and exit codes, mitigation, the
 * absorb-only remediation, resolution, and the audit log intact afterwards.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { runCli } from "../support/run-cli.ts";

const AT = ["--at", "2025-01-16T14:45:00+08:00"];
let data: string;

function incident(args: readonly string[]) {
  return runCli(["incident", ...args, "--data", data, ...AT]);
}

function json(args: readonly string[]) {
  const result = incident([...args, "--json"]);
  // biome-ignore lint/suspicious/noExplicitAny: the CLI's JSON, read the way a script would
  const body: any = JSON.parse(result.stdout);
  return { status: result.status, body };
}

beforeAll(() => {
  data = mkdtempSync(join(tmpdir(), "bursar-incident-cli-"));
});

describe("bursar incident", { timeout: 180_000 }, () => {
  test("open by hand, note, acknowledge, mitigate, remediate, resolve; show and list", () => {
    const opened = json([
      "open",
      "--as",
      "ops",
      "--title",
      "government label on transfers",
      "--reason",
      "customers report 20 % off transfers",
      "--cumulative",
      "250000000",
      "--regions",
      "12",
      "--campaign",
      "idc-national@3",
      "--change",
      "change-7",
      "--funder",
      "platform",
    ]);
    expect(opened).toMatchObject({
      status: 0,
      body: {
        ok: true,
        incident: {
          id: "incident-1",
          state: "open",
          severity: "P0",
          because: [{ measure: "regions", severity: "P0" }],
          blame: { campaignVersions: [{ campaignId: "idc-national", version: 3 }] },
        },
      },
    });

    const noted = json([
      "note",
      "incident-1",
      "--as",
      "ops",
      "--kind",
      "change_approved",
      "--when",
      "2025-01-16T14:30:00+08:00",
      "--text",
      "approved by rui",
      "--detail",
      "changeId=change-7",
    ]);
    expect(noted.status).toBe(0);
    expect(noted.body.incident.timeline.map((entry: { kind: string }) => entry.kind)).toEqual([
      "change_approved",
      "opened",
    ]);
    expect(
      json(["note", "incident-1", "--as", "ops", "--kind", "kill_confirmed", "--text", "e1"]),
    ).toMatchObject({ status: 1, body: { ok: false, code: "incident.details_invalid" } });

    expect(json(["acknowledge", "incident-1", "--as", "ops"]).status).toBe(0);
    expect(json(["acknowledge", "incident-1", "--as", "mei"])).toMatchObject({
      status: 1,
      body: { code: "incident.already_acknowledged" },
    });
    expect(
      json(["raise", "incident-1", "--as", "ops", "--severity", "P2", "--reason", "smaller now"]),
    ).toMatchObject({ status: 1, body: { code: "incident.severity_not_higher" } });
    expect(
      json(["resolve", "incident-1", "--as", "ops", "--reason", "nothing left to do"]).body.code,
    ).toBe("incident.illegal_transition");
    expect(
      json(["mitigate", "incident-1", "--as", "ops", "--reason", "killed idc-national@3"]).body
        .incident.state,
    ).toBe("mitigated");
    const remediated = json([
      "remediate",
      "incident-1",
      "--as",
      "fin",
      "--reason",
      "the cost is ours; users keep what they received",
      "--absorbed",
      "250000000",
      "--released-count",
      "12",
      "--released",
      "3400",
    ]);
    expect(remediated.body.incident.remediation).toMatchObject({
      decision: "absorb",
      costAbsorbedMinor: 250_000_000,
      reservationsReleased: { count: 12, amountMinor: 3_400 },
    });
    expect(
      json(["resolve", "incident-1", "--as", "ops", "--reason", "stopped, released, absorbed"]).body
        .incident.state,
    ).toBe("resolved");

    const shown = incident(["show", "incident-1"]);
    expect(shown.status).toBe(0);
    expect(shown.stdout).toContain("severity P0 because: regions (P0)");
    expect(shown.stdout).toContain("campaign versions idc-national@3");
    expect(shown.stdout).toContain("remediation: absorb 2500000.00 CNY");
    for (const kind of ["change_approved", "opened", "acknowledged", "mitigated", "resolved"]) {
      expect(shown.stdout).toContain(`  ${kind}  `);
    }
    expect(json(["list", "--state", "resolved"]).body.incidents).toMatchObject([
      { id: "incident-1", severity: "P0", state: "resolved" },
    ]);
    expect(json(["list", "--state", "open"]).body.incidents).toEqual([]);

    const verified = runCli(["audit", "verify", "--data", data, "--json"]);
    expect(verified.status).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, entries: 6 });
  });

  test("unusable input exits 2: no --as, a malformed policy, an unknown incident is a refusal (1)", () => {
    const nobody = incident(["acknowledge", "incident-1"]);
    expect(nobody.status).toBe(2);
    expect(nobody.stderr).toContain("--as");
    const policy = join(data, "policy.json");
    writeFileSync(policy, JSON.stringify({ regions: [1, 2, 5, 10] }));
    const refused = incident([
      "open",
      "--as",
      "ops",
      "--title",
      "t",
      "--reason",
      "a reason long enough",
      "--severity-policy",
      policy,
    ]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain("incident.policy_invalid");
    writeFileSync(policy, JSON.stringify({ cumulativeMinor: [100, 50, 10, 1] }));
    expect(
      json([
        "open",
        "--as",
        "ops",
        "--title",
        "t",
        "--reason",
        "a reason long enough",
        "--cumulative",
        "100",
        "--severity-policy",
        policy,
      ]).body.incident.severity,
    ).toBe("P0");
    expect(json(["show", "incident-9"])).toMatchObject({
      status: 1,
      body: { code: "incident.not_found" },
    });
  });
});
