/**
 * Budget leases on PostgreSQL (ADR 0008): reservations draw on a lease, the budget's row accounts
 * for it (`available + leased + reserved + spent == funded`), a closing store gives its leases
 * back, and a holder killed with SIGKILL strands its lease only until the lease expires.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { describe, expect, inject, test } from "vitest";
import { PostgresLedgerStore } from "../../src/stores/postgres/postgres-ledger-store.ts";
import { request, subsidy } from "../support/ledger-requests.ts";
import { LEASE_TEST_BUDGET, LEASE_TEST_TTL_MS } from "./postgres-lease-child.ts";

const url = inject("postgresUrl");
const CHILD = fileURLToPath(new URL("./postgres-lease-child.ts", import.meta.url));
const FUNDED_MINOR = 10_000_000;

async function budgetRow(schema: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ leased: string; reserved: string; leases: string }>(
      `SELECT a.leased_minor AS leased, a.reserved_minor AS reserved,
         (SELECT count(*) FROM ${schema}.leases) AS leases
       FROM ${schema}.accounts a WHERE a.account = $1`,
      [`campaign/${LEASE_TEST_BUDGET}`],
    );
    const row = rows[0]!;
    return {
      leased: Number(row.leased),
      reserved: Number(row.reserved),
      leases: Number(row.leases),
    };
  } finally {
    await client.end();
  }
}

describe("budget leases on PostgreSQL", () => {
  test("reservations draw on a lease the row accounts for, and closing gives it back", async () => {
    const schema = `leases_${process.pid}_close`;
    const store = await PostgresLedgerStore.open({ url, schema });
    await store.fund(`campaign/${LEASE_TEST_BUDGET}`, FUNDED_MINOR, "initial", 0);
    await store.reserve(
      Array.from({ length: 10 }, (_, index) =>
        request(`p${index}`, [subsidy(LEASE_TEST_BUDGET, 100)]),
      ),
    );
    // Granted: twice the shortfall, at least the 10,000 minimum; 1,000 of it reserved.
    expect(store.heldLeaseMinor()).toBe(9_000);
    expect(await budgetRow(schema)).toEqual({ leased: 9_000, reserved: 1_000, leases: 1 });
    expect((await store.verify()).violations).toEqual([]);
    await store.close();
    expect(await budgetRow(schema)).toEqual({ leased: 0, reserved: 1_000, leases: 0 });
  });

  test("a lease lost while its batch writes: the batch is decided again on the locked row, every payment written once", async () => {
    const schema = `leases_${process.pid}_lost`;
    const store = await PostgresLedgerStore.open({ url, schema });
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await store.fund(`campaign/${LEASE_TEST_BUDGET}`, FUNDED_MINOR, "initial", 0);
      await store.reserve([request("p0", [subsidy(LEASE_TEST_BUDGET, 100)])]);
      expect(store.heldLeaseMinor()).toBe(9_900);
      // Another process reclaims the lease (as after its expiry) while this store still holds
      // it: the next batch decides on it, writes its payments, and only then finds it gone when
      // it charges it — after the payments' rows, which the batch writes before it locks the
      // budget. The retry in locked mode must not find them written already.
      await admin.query(
        `WITH lost AS (DELETE FROM ${schema}.leases RETURNING account, unused_minor)
         UPDATE ${schema}.accounts a SET leased_minor = a.leased_minor - lost.unused_minor
         FROM lost WHERE a.account = lost.account`,
      );
      const answers = await store.reserve(
        Array.from({ length: 5 }, (_, index) =>
          request(`p${index + 1}`, [subsidy(LEASE_TEST_BUDGET, 100)]),
        ),
      );
      expect(answers.map((answer) => answer.code)).toEqual(Array(5).fill("answered"));
      const { rows } = await admin.query<{ payments: string; subsidies: string }>(
        `SELECT (SELECT count(*) FROM ${schema}.payments) AS payments,
           (SELECT count(*) FROM ${schema}.subsidies) AS subsidies`,
      );
      expect(rows[0]).toEqual({ payments: "6", subsidies: "6" });
      // Decided on the row: no lease was charged, none is held, the budget counts all six.
      expect(store.heldLeaseMinor()).toBe(0);
      expect(await budgetRow(schema)).toEqual({ leased: 0, reserved: 600, leases: 0 });
      expect((await store.verify()).violations).toEqual([]);
    } finally {
      await admin.end();
      await store.close();
    }
  });

  test("funding a budget another process leases counts the leased money as funded, not as missing", async () => {
    const schema = `leases_${process.pid}_fund`;
    const holder = await PostgresLedgerStore.open({ url, schema });
    const funder = await PostgresLedgerStore.open({ url, schema });
    try {
      await funder.fund(`campaign/${LEASE_TEST_BUDGET}`, FUNDED_MINOR, "initial", 0);
      await holder.reserve([request("p1", [subsidy(LEASE_TEST_BUDGET, 100)])]);
      expect(holder.heldLeaseMinor()).toBeGreaterThan(0);
      const target = (account: string, targetMinor: number) => [{ account, targetMinor }];
      const budget = `campaign/${LEASE_TEST_BUDGET}`;
      expect(await funder.fundUpTo(target(budget, FUNDED_MINOR), "same", 1)).toEqual([
        { code: "funding_unchanged", account: budget, fundedMinor: FUNDED_MINOR },
      ]);
      expect(await funder.fundUpTo(target(budget, FUNDED_MINOR + 500), "raise", 2)).toEqual([
        { code: "funded", account: budget, fundedMinor: FUNDED_MINOR + 500 },
      ]);
      // The other process's lease is untouched by the funding.
      expect((await budgetRow(schema)).leased).toBe(holder.heldLeaseMinor());
      expect((await funder.verify()).violations).toEqual([]);
    } finally {
      await holder.close();
      await funder.close();
    }
  });

  test("a holder killed with SIGKILL strands its lease until it expires; then another process reclaims it", async () => {
    const schema = `leases_${process.pid}_kill`;
    const survivor = await PostgresLedgerStore.open({ url, schema });
    try {
      await survivor.fund(`campaign/${LEASE_TEST_BUDGET}`, FUNDED_MINOR, "initial", 0);
      const child = spawn(process.execPath, ["--import", "tsx", CHILD, url, schema], {
        stdio: ["ignore", "pipe", "inherit"],
      });
      const line = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout }).once("line", resolve);
        child.once("exit", (code) => reject(new Error(`the lease holder exited ${code}`)));
      });
      expect(line).toBe("leased 9500");
      child.kill("SIGKILL");
      await new Promise((done) => child.once("exit", done));
      // The dead holder's unused lease is stranded, and accounted for.
      expect(await budgetRow(schema)).toEqual({ leased: 9_500, reserved: 500, leases: 1 });
      expect((await survivor.verify()).violations).toEqual([]);

      await new Promise((done) => setTimeout(done, LEASE_TEST_TTL_MS + 200));
      // A batch on the locked row (funding is one) reclaims the expired lease.
      await survivor.fund(`campaign/${LEASE_TEST_BUDGET}`, 1, "top-up", 1);
      expect(await budgetRow(schema)).toEqual({ leased: 0, reserved: 500, leases: 0 });
      await survivor.reserve([request("after", [subsidy(LEASE_TEST_BUDGET, 100)])]);
      // Leasing it again: only the survivor's lease remains.
      expect(await budgetRow(schema)).toEqual({
        leased: survivor.heldLeaseMinor(),
        reserved: 600,
        leases: 1,
      });
      expect((await survivor.verify()).violations).toEqual([]);
    } finally {
      await survivor.close();
    }
  });
});
