/**
 * Real processes hammering one PostgreSQL ledger: each child opens its own store (its own
 * connections) and reserves against one budget and one hot person's cap at once. Zero overspend
 * and exactly the cap, whatever the interleaving.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { describe, expect, inject, test } from "vitest";
import { PostgresLedgerStore } from "../../src/stores/postgres/postgres-ledger-store.ts";
import {
  HAMMER_BUDGET,
  HAMMER_HOT_CAP_ACCOUNT,
  HAMMER_HOT_CAP_COUNT,
} from "./postgres-hammer-child.ts";

const url = inject("postgresUrl");
const CHILD = fileURLToPath(new URL("./postgres-hammer-child.ts", import.meta.url));
const PAYMENTS_PER_PROCESS = 400;
const BUDGET_MINOR = 500;

interface ChildReport {
  reserved: number;
  hotReserved: number;
  failed: number;
}

function runChild(schema: string, index: number, leased: boolean): Promise<ChildReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        CHILD,
        url,
        schema,
        String(index),
        String(PAYMENTS_PER_PROCESS),
        ...(leased ? ["LEASED"] : []),
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`hammer process ${index} exited ${code}: ${stderr}`));
      else resolve(JSON.parse(stdout) as ChildReport);
    });
  });
}

describe("processes hammering one PostgreSQL ledger", () => {
  for (const processes of [2, 4]) {
    test(`${processes} processes: the budget and the hot person's cap are never exceeded`, async () => {
      const schema = `hammer_${process.pid}_${processes}`;
      const store = await PostgresLedgerStore.open({ url, schema });
      try {
        await store.fund(`campaign/${HAMMER_BUDGET}`, BUDGET_MINOR, "initial", 0);
        const reports = await Promise.all(
          Array.from({ length: processes }, (_, index) => runChild(schema, index, false)),
        );
        const reserved = reports.reduce((sum, report) => sum + report.reserved, 0);
        const hotReserved = reports.reduce((sum, report) => sum + report.hotReserved, 0);
        expect(reports.map((report) => report.failed)).toEqual(reports.map(() => 0));
        // More was asked than the budget holds: it is used up exactly, never beyond.
        expect(processes * PAYMENTS_PER_PROCESS).toBeGreaterThan(BUDGET_MINOR);
        expect(reserved).toBe(BUDGET_MINOR);
        expect(hotReserved).toBe(HAMMER_HOT_CAP_COUNT);
        expect(await store.balance(`campaign/${HAMMER_BUDGET}`)).toMatchObject({
          fundedMinor: BUDGET_MINOR,
          reservedMinor: BUDGET_MINOR,
        });
        expect((await store.balance(HAMMER_HOT_CAP_ACCOUNT))?.reservedCount).toBe(
          HAMMER_HOT_CAP_COUNT,
        );
        expect((await store.verify()).violations).toEqual([]);
      } finally {
        await store.close();
      }
    }, 120_000);
  }

  test("4 processes leasing the budget however small: never overspent, and no money left in leases", async () => {
    const schema = `hammer_${process.pid}_leased`;
    const store = await PostgresLedgerStore.open({ url, schema });
    try {
      await store.fund(`campaign/${HAMMER_BUDGET}`, BUDGET_MINOR, "initial", 0);
      const reports = await Promise.all(
        Array.from({ length: 4 }, (_, index) => runChild(schema, index, true)),
      );
      const reserved = reports.reduce((sum, report) => sum + report.reserved, 0);
      const hotReserved = reports.reduce((sum, report) => sum + report.hotReserved, 0);
      expect(reports.map((report) => report.failed)).toEqual([0, 0, 0, 0]);
      // Money another process held in a lease could be refused meanwhile (stranded), so the
      // budget may end below full use; never above it.
      expect(reserved).toBeLessThanOrEqual(BUDGET_MINOR);
      expect(reserved).toBeGreaterThan(BUDGET_MINOR / 2);
      expect(hotReserved).toBeLessThanOrEqual(HAMMER_HOT_CAP_COUNT);
      const balance = await store.balance(`campaign/${HAMMER_BUDGET}`);
      expect(balance?.reservedMinor).toBe(reserved);
      expect((await store.verify()).violations).toEqual([]);
      // Each process gave its leases back when it closed.
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      const { rows } = await client.query<{ leased: string; leases: string }>(
        `SELECT (SELECT sum(leased_minor) FROM ${schema}.accounts) AS leased,
           (SELECT count(*) FROM ${schema}.leases) AS leases`,
      );
      await client.end();
      expect(rows[0]).toEqual({ leased: "0", leases: "0" });
    } finally {
      await store.close();
    }
  }, 120_000);
});
