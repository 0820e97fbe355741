/**
 * `bursar kill set|clear|list` as a user runs it: on a real control.sqlite (every scope, refusals
 * with their codes and exit codes, the audit log), and once on PostgreSQL.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, inject, test } from "vitest";
import { SqliteAuditLogStore } from "../../src/stores/sqlite/sqlite-audit-log-store.ts";
import { SqliteKillStore } from "../../src/stores/sqlite/sqlite-kill-store.ts";
import { runCli } from "../support/run-cli.ts";

const directory = mkdtempSync(join(tmpdir(), "bursar-kill-cli-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
const AT = ["--at", "2025-01-16T14:45:00+08:00"];

describe("bursar kill", { timeout: 240_000 }, () => {
  test("on SQLite: set each scope, list, clear by sequence; refusals; every write audited", async () => {
    const data = join(directory, "data");
    const kill = (args: readonly string[]) => runCli(["kill", ...args, "--data", data, ...AT]);

    const set = kill([
      "set",
      "--campaigns",
      "a-coffee,b-coffee",
      "--reason",
      "runaway coffee",
      "--as",
      "ops",
    ]);
    expect(set).toMatchObject({ status: 0 });
    expect(set.stdout).toBe(
      "kill 1 set: campaigns a-coffee,b-coffee\nevery evaluator obeys it within its allowed staleness (1 s by default)\n",
    );
    const template = JSON.parse(
      kill([
        "set",
        "--template",
        "gov-subsidy",
        "--reason",
        "label misuse",
        "--as",
        "ops",
        "--json",
      ]).stdout,
    );
    expect(template).toMatchObject({
      ok: true,
      sequence: 2,
      kill: { sequence: 2, scope: { kind: "template", templateId: "gov-subsidy" }, actor: "ops" },
    });
    expect(kill(["set", "--funding", "bank", "--reason", "bank asked", "--as", "ops"]).status).toBe(
      0,
    );
    expect(
      kill([
        "set",
        "--all",
        "--reason",
        "stop everything",
        "--as",
        "ops",
        "--roles",
        "author,operator",
      ]).status,
    ).toBe(0);

    expect(kill(["list"]).stdout).toBe(
      [
        '1  campaigns a-coffee,b-coffee  by ops at 2025-01-16T06:45:00.000Z  "runaway coffee"',
        '2  template gov-subsidy  by ops at 2025-01-16T06:45:00.000Z  "label misuse"',
        '3  funding bank  by ops at 2025-01-16T06:45:00.000Z  "bank asked"',
        '4  all subsidies  by ops at 2025-01-16T06:45:00.000Z  "stop everything"',
        "",
      ].join("\n"),
    );
    expect(kill(["clear", "4", "--reason", "only coffee was wrong", "--as", "ops"]).stdout).toBe(
      "kill 4 cleared: all subsidies\n",
    );
    const listed = JSON.parse(kill(["list", "--json"]).stdout);
    expect(listed.sequence).toBe(5);
    expect(listed.active.map((each: { sequence: number }) => each.sequence)).toEqual([1, 2, 3]);

    // Refused by a rule: exit 1 with the code.
    const cleared = kill(["clear", "4", "--reason", "again", "--as", "ops"]);
    expect(cleared.status).toBe(1);
    expect(cleared.stdout).toMatch(/^refused: kill_not_active: /);
    const author = kill([
      "set",
      "--all",
      "--reason",
      "I wrote it",
      "--as",
      "ana",
      "--roles",
      "author",
      "--json",
    ]);
    expect(author.status).toBe(1);
    expect(JSON.parse(author.stdout)).toMatchObject({ ok: false, code: "role_missing" });
    const tooLong = kill(["set", "--template", "t".repeat(65), "--reason", "x", "--as", "ops"]);
    expect(tooLong.status).toBe(1);
    expect(tooLong.stdout).toMatch(/^refused: kill_invalid: /);

    // Unusable input: exit 2, nothing written.
    for (const args of [
      ["set", "--reason", "no scope", "--as", "ops"],
      ["set", "--all", "--template", "t", "--reason", "two scopes", "--as", "ops"],
      ["set", "--funding", "aliens", "--reason", "not a funder", "--as", "ops"],
      ["set", "--all", "--reason", "nobody"],
      ["set", "--all", "--reason", "bad role", "--as", "ops", "--roles", "boss"],
      ["clear", "zero", "--reason", "not a number", "--as", "ops"],
    ]) {
      expect(kill(args).status, args.join(" ")).toBe(2);
    }

    const store = SqliteKillStore.open({ path: join(data, "control.sqlite") });
    expect((await store.readState()).sequence).toBe(5);
    await store.close();
    const audit = SqliteAuditLogStore.open({ path: join(data, "control.sqlite") });
    const entries = await audit.read(1, 10);
    expect(entries.map((entry) => [entry.action, entry.subject, entry.actor])).toEqual([
      ["kill.set", "kill/1", "ops"],
      ["kill.set", "kill/2", "ops"],
      ["kill.set", "kill/3", "ops"],
      ["kill.set", "kill/4", "ops"],
      ["kill.cleared", "kill/4", "ops"],
    ]);
    expect(await audit.verify()).toMatchObject({ ok: true });
    await audit.close();
  });

  test("on PostgreSQL: set, list, clear", () => {
    const url = inject("postgresUrl");
    const where = ["--database", url, "--schema", `kill_cli_${process.pid}`, ...AT];
    const kill = (args: readonly string[]) => runCli(["kill", ...args, ...where]);
    expect(
      kill(["set", "--campaigns", "idc-national", "--reason", "runaway", "--as", "ops"]).status,
    ).toBe(0);
    expect(JSON.parse(kill(["list", "--json"]).stdout)).toMatchObject({
      sequence: 1,
      active: [{ sequence: 1, scope: { kind: "campaigns", campaignIds: ["idc-national"] } }],
    });
    expect(kill(["clear", "1", "--reason", "rolled back", "--as", "ops"]).status).toBe(0);
    expect(kill(["list"]).stdout).toBe("no active kills (sequence 2)\n");
  });
});
