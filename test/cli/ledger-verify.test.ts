import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterAll, describe, expect, inject, test } from "vitest";
import { PostgresLedgerStore } from "../../src/stores/postgres/postgres-ledger-store.ts";
import { SqliteLedgerStore } from "../../src/stores/sqlite/sqlite-ledger-store.ts";
import { request, subsidy } from "../support/ledger-requests.ts";
import { runCli } from "../support/run-cli.ts";

const directory = mkdtempSync(join(tmpdir(), "bursar-verify-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

interface Verification {
  budgets: number;
  violations: { invariant: string; budget: string; expected: string; actual: string }[];
  ok: boolean;
}

describe("bursar ledger verify", () => {
  test("passes a consistent ledger and names the broken invariant of a tampered one", async () => {
    const data = join(directory, "data");
    const store = await SqliteLedgerStore.open({ path: join(data, "ledger.db") });
    await store.fund("campaign/c1", 1000, "initial budget", 0);
    await store.reserve([request("p1", [subsidy("c1", 300)]), request("p2", [subsidy("c1", 200)])]);
    await store.settle([
      { kind: "commit", paymentId: "p1", atMs: Date.UTC(2025, 0, 16, 6, 41), totalMinor: 250 },
    ]);
    await store.close();

    const clean = runCli(["ledger", "verify", "--data", data, "--json"]);
    expect(clean.status).toBe(0);
    const report = JSON.parse(clean.stdout) as Verification;
    expect(report).toMatchObject({ ok: true, violations: [] });
    expect(report.budgets).toBeGreaterThan(0);

    // Tamper behind the ledger's back: p2's entry now draws 900, past what c1 was funded.
    const database = new BetterSqlite3(join(data, "ledger.db"));
    database
      .prepare(
        "UPDATE payments SET entries_json = replace(entries_json, ',200,', ',900,') WHERE payment_id = 'p2'",
      )
      .run();
    database.close();

    const broken = runCli(["ledger", "verify", "--data", data, "--json"]);
    expect(broken.status).toBe(1);
    expect((JSON.parse(broken.stdout) as Verification).violations).toEqual([
      {
        invariant: "available_reserved_spent_equal_funded",
        budget: "campaign/c1",
        expected: "leased + reserved + spent <= 1000",
        actual: "1150",
      },
    ]);
    expect(runCli(["ledger", "verify", "--data", data]).stdout).toMatch(
      /available_reserved_spent_equal_funded campaign\/c1: expected leased \+ reserved \+ spent <= 1000, actual 1150/,
    );
  });

  test("reads a ledger while its store is open and writing", async () => {
    const data = join(directory, "open");
    const store = await SqliteLedgerStore.open({ path: join(data, "ledger.db") });
    try {
      await store.fund("campaign/c1", 1000, "initial budget", 0);
      await store.reserve([request("p1", [subsidy("c1", 300)])]);
      const report = runCli(["ledger", "verify", "--data", data, "--json"]);
      expect(report.status).toBe(0);
      expect(JSON.parse(report.stdout)).toEqual({ budgets: 1, violations: [], ok: true });
    } finally {
      await store.close();
    }
  });

  test("checks a PostgreSQL ledger with --database, and exits 2 when it cannot be reached", async () => {
    const url = inject("postgresUrl");
    const schema = `cli_verify_${process.pid}`;
    const store = await PostgresLedgerStore.open({ url, schema });
    await store.fund("campaign/c1", 1000, "initial budget", 0);
    await store.reserve([request("p1", [subsidy("c1", 300)])]);
    await store.close();
    const clean = runCli(["ledger", "verify", "--database", url, "--schema", schema, "--json"]);
    expect(clean.status).toBe(0);
    expect(JSON.parse(clean.stdout)).toEqual({ budgets: 1, violations: [], ok: true });
    expect(runCli(["ledger", "verify", "--database", url, "--schema", schema]).stdout).toBe(
      "1 budgets checked: every invariant holds\n0 minor units held in budget leases\n",
    );

    const unreachable = new URL(url);
    unreachable.port = "1";
    const failed = runCli(["ledger", "verify", "--database", unreachable.toString()]);
    expect(failed.status).toBe(2);
    expect(failed.stderr).toMatch(/open_failed/);
  });

  test("exits 2 when there is no ledger", () => {
    const result = runCli(["ledger", "verify", "--data", join(directory, "nowhere")]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/no ledger at/);
  });
});
