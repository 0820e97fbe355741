import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import pg from "pg";
import { afterAll, describe, expect, inject, test } from "vitest";
import type { AuditLogStore } from "../../src/control/audit-log.ts";
import type { AuditVerification } from "../../src/core/audit/audit-chain-verifier.ts";
import type { AuditEntry } from "../../src/core/audit/audit-entry.ts";
import { PostgresAuditLogStore } from "../../src/stores/postgres/postgres-audit-log-store.ts";
import { SqliteAuditLogStore } from "../../src/stores/sqlite/sqlite-audit-log-store.ts";
import { auditInput } from "../control/audit-log-store.contract.ts";
import { runCli } from "../support/run-cli.ts";

const directory = mkdtempSync(join(tmpdir(), "bursar-audit-cli-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
const url = inject("postgresUrl");

async function fill(store: AuditLogStore, count: number): Promise<AuditEntry[]> {
  const entries: AuditEntry[] = [];
  for (let index = 0; index < count; index += 1) {
    const result = await store.append(auditInput(index));
    if (result.ok) entries.push(result.entry);
  }
  await store.close();
  return entries;
}

function verifyJson(args: readonly string[]): { status: number | null; report: AuditVerification } {
  const result = runCli(["audit", "verify", ...args, "--json"]);
  return { status: result.status, report: JSON.parse(result.stdout) as AuditVerification };
}

describe("bursar audit verify and show on SQLite", () => {
  test("an intact log passes, with its head; an edit, a deletion at the end with the anchor fail", async () => {
    const data = join(directory, "data");
    const entries = await fill(SqliteAuditLogStore.open({ path: join(data, "control.sqlite") }), 5);
    const head = `5:${entries[4]!.hash}`;

    const clean = verifyJson(["--data", data]);
    expect(clean.status).toBe(0);
    expect(clean.report).toEqual({
      entries: 5,
      head: { sequence: 5, hash: entries[4]!.hash },
      violations: [],
      violationsOmitted: 0,
      ok: true,
    });
    expect(runCli(["audit", "verify", "--data", data, "--expect-head", head]).stdout).toBe(
      `5 entries checked: the chain is intact; head ${head}\n`,
    );

    const database = new BetterSqlite3(join(data, "control.sqlite"));
    database.exec("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;");
    database.prepare("UPDATE audit_log SET actor = 'mallory' WHERE sequence = 3").run();
    const edited = verifyJson(["--data", data]);
    expect(edited.status).toBe(1);
    expect(edited.report.violations.map((violation) => violation.problem)).toEqual(["edited"]);
    expect(runCli(["audit", "verify", "--data", data]).stdout).toMatch(
      /^edited at 3: expected [0-9a-f]{64}, actual [0-9a-f]{64}\n5 entries checked: 1 violations\n$/,
    );

    database.prepare("UPDATE audit_log SET actor = ? WHERE sequence = 3").run(entries[2]!.actor);
    database.prepare("DELETE FROM audit_log WHERE sequence = 5").run();
    database.prepare("UPDATE audit_head SET sequence = 4, hash = ?").run(entries[3]!.hash);
    database.close();
    expect(verifyJson(["--data", data]).status).toBe(0);
    const truncated = verifyJson(["--data", data, "--expect-head", head]);
    expect(truncated.status).toBe(1);
    expect(truncated.report.violations).toEqual([
      { sequence: 5, problem: "truncated", expected: "5", actual: "4" },
    ]);
  });

  test("show prints entries from a sequence, a page at a time", async () => {
    const data = join(directory, "show");
    const entries = await fill(SqliteAuditLogStore.open({ path: join(data, "control.sqlite") }), 4);
    const page = runCli(["audit", "show", "--data", data, "--from", "2", "--limit", "2", "--json"]);
    expect(page.status).toBe(0);
    expect(JSON.parse(page.stdout)).toEqual({ entries: entries.slice(1, 3), next: 4 });
    const last = JSON.parse(
      runCli(["audit", "show", "--data", data, "--from", "4", "--json"]).stdout,
    );
    expect(last).toEqual({ entries: entries.slice(3), next: null });
    const text = runCli(["audit", "show", "--data", data, "--limit", "1"]);
    expect(text.stdout).toBe(
      `1  2025-01-16T06:40:00.000Z  alice  change.created  change/0  content ${entries[0]!.contentHash!.slice(0, 12)}  {"index":0,"nested":{"none":null,"ok":true},"tags":["a","b"]}\n(more: --from 2)\n`,
    );
  });

  test("unusable input exits 2 and creates nothing", () => {
    const empty = join(directory, "empty");
    const missing = runCli(["audit", "verify", "--data", empty]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/no audit log at/);
    expect(existsSync(join(empty, "control.sqlite"))).toBe(false);
    expect(runCli(["audit", "verify", "--data", empty, "--expect-head", "5:abc"]).status).toBe(2);
    expect(runCli(["audit", "show", "--data", empty, "--limit", "0"]).status).toBe(2);
    expect(runCli(["audit", "show", "--data", empty]).status).toBe(2);
  });
});

describe("bursar audit verify and show on PostgreSQL", () => {
  test("verifies the log in the schema, names a reordering, and shows entries", async () => {
    const schema = `audit_cli_${process.pid}`;
    const entries = await fill(await PostgresAuditLogStore.open({ url, schema }), 4);
    const where = ["--database", url, "--schema", schema];
    expect(verifyJson(where)).toMatchObject({ status: 0, report: { entries: 4, ok: true } });
    expect(verifyJson([...where, "--expect-head", `2:${entries[1]!.hash}`]).status).toBe(0);

    const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
    await client.connect();
    await client.query("DROP TRIGGER audit_log_append_only ON audit_log");
    await client.query("UPDATE audit_log SET sequence = 100 WHERE sequence = 2");
    await client.query("UPDATE audit_log SET sequence = 2 WHERE sequence = 3");
    await client.query("UPDATE audit_log SET sequence = 3 WHERE sequence = 100");
    await client.end();
    const reordered = verifyJson(where);
    expect(reordered.status).toBe(1);
    expect(reordered.report.violations).toEqual([
      { sequence: 2, problem: "reordered", expected: "2", actual: "3" },
      { sequence: 3, problem: "reordered", expected: "3", actual: "2" },
    ]);
    const shown = runCli(["audit", "show", ...where, "--json"]);
    expect(
      (JSON.parse(shown.stdout) as { entries: AuditEntry[] }).entries.map((e) => e.hash),
    ).toEqual([entries[0]!, entries[2]!, entries[1]!, entries[3]!].map((entry) => entry.hash));
    expect(
      runCli(["audit", "verify", "--database", url, "--schema", "no_such_schema"]).status,
    ).toBe(2);
  });
});
