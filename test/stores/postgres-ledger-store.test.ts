import pg from "pg";
import { afterAll, describe, expect, inject, test } from "vitest";
import type { LedgerStore } from "../../src/ledger/ledger-store.ts";
import { LedgerStoreError } from "../../src/ledger/ledger-store-error.ts";
import {
  PostgresLedgerStore,
  type PostgresLedgerStoreOptions,
} from "../../src/stores/postgres/postgres-ledger-store.ts";
import { describeLedgerStoreContract } from "../ledger/ledger-store.contract.ts";
import { boundedDebit, request, subsidy } from "../support/ledger-requests.ts";

const T0 = Date.UTC(2025, 0, 16, 6, 40);
const url = inject("postgresUrl");
let schemas = 0;

/** A schema of its own for every store: each test starts from an empty ledger. */
function freshSchema(): string {
  schemas += 1;
  return `ledger_${process.pid}_${schemas}`;
}

/**
 * The contract suite's stores with `options`: each in a fresh schema, and opened again on the
 * same schema after a restart.
 */
function contractStores(options: Omit<PostgresLedgerStoreOptions, "url" | "schema">) {
  const schemaOf = new WeakMap<LedgerStore, string>();
  const openIn = async (schema: string): Promise<LedgerStore> => {
    const store = await PostgresLedgerStore.open({ ...options, url, schema });
    schemaOf.set(store, schema);
    return store;
  };
  return [
    () => openIn(freshSchema()),
    (closed: LedgerStore) => openIn(schemaOf.get(closed)!),
  ] as const;
}

describeLedgerStoreContract("postgres", ...contractStores({}));

// Every budget leased, however small (ADR 0008): answers must equal the exact ones all the same.
describeLedgerStoreContract(
  "postgres with budget leases",
  ...contractStores({ leaseFloorMinor: 0, leaseGrantMinMinor: 1 }),
);

describe("PostgresLedgerStore", () => {
  const opened: PostgresLedgerStore[] = [];
  const open = async (schema: string) => {
    const store = await PostgresLedgerStore.open({ url, schema });
    opened.push(store);
    return store;
  };
  afterAll(async () => {
    for (const store of opened.splice(0)) await store.close();
  });

  test("migrates a new schema once; a second process opening it applies nothing", async () => {
    const schema = freshSchema();
    const [first, second] = await Promise.all([open(schema), open(schema)]);
    expect([first.migrationsApplied, second.migrationsApplied].sort()).toEqual([[], [1, 2, 3, 4]]);
  });

  test("two processes' stores on one database never overspend a budget nor a person's cap", async () => {
    const schema = freshSchema();
    const first = await open(schema);
    const second = await open(schema);
    await first.fund("campaign/shared", 300, "initial", T0);
    const cap = () => boundedDebit("identity/user:hot/day/shared/2025-01-16", 1, null, 40);
    const calls = Array.from({ length: 600 }, (_, index) =>
      (index % 2 === 0 ? first : second).reserve([
        request(`p${index}`, [subsidy("shared", 1, index % 3 === 0 ? [cap()] : [])]),
      ]),
    );
    const reserved = (await Promise.all(calls))
      .flat()
      .filter((result) => result.code === "answered" && result.answer.code === "reserved");
    expect(reserved.length).toBeLessThanOrEqual(300);
    expect(await first.balance("campaign/shared")).toMatchObject({
      reservedMinor: reserved.length,
      fundedMinor: 300,
    });
    expect((await second.balance("identity/user:hot/day/shared/2025-01-16"))?.reservedCount).toBe(
      40,
    );
    expect((await first.verify()).violations).toEqual([]);
  });

  test("concurrent duplicates of one payment id across processes reserve once", async () => {
    const schema = freshSchema();
    const first = await open(schema);
    const second = await open(schema);
    await first.fund("campaign/c1", 10_000, "initial", T0);
    const results = (
      await Promise.all(
        Array.from({ length: 40 }, (_, index) =>
          (index % 2 === 0 ? first : second).reserve([request("same", [subsidy("c1", 100)])]),
        ),
      )
    ).flat();
    expect(results.filter((result) => result.code === "answered" && !result.replayed)).toHaveLength(
      1,
    );
    expect((await first.balance("campaign/c1"))?.reservedMinor).toBe(100);
  });

  test("refuses options out of range at open, before connecting", async () => {
    for (const options of [
      { batchSizeMax: 0 },
      { queueLengthMax: 1.5 },
      { leaseTtlMs: 10_000, leaseMarginMs: 10_000 },
      { verifyPageRows: -1 },
    ]) {
      await expect(
        PostgresLedgerStore.open({ url, schema: freshSchema(), ...options }),
      ).rejects.toMatchObject({ code: "open_failed" });
    }
  });

  test("an unreachable server fails the call with a store error, never a hang or a crash", async () => {
    const closedPort = new URL(url);
    closedPort.port = "1";
    await expect(
      PostgresLedgerStore.open({
        url: closedPort.toString(),
        schema: freshSchema(),
        connectTimeoutMs: 500,
      }),
    ).rejects.toBeInstanceOf(LedgerStoreError);
  });

  test("verify pages through the payments and still sees every one", async () => {
    const schema = freshSchema();
    const store = await PostgresLedgerStore.open({ url, schema, verifyPageRows: 3 });
    opened.push(store);
    await store.fund("campaign/c1", 1_000, "initial", T0);
    await store.reserve(
      Array.from({ length: 7 }, (_, index) => request(`p${index}`, [subsidy("c1", 10)])),
    );
    expect(await store.verify()).toEqual({ budgets: 1, violations: [], ok: true });
    // A counter one payment short is found whichever page that payment is on.
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(
      `UPDATE ${schema}.accounts SET reserved_minor = 60 WHERE account = 'campaign/c1'`,
    );
    await client.end();
    expect((await store.verify()).violations).toEqual([
      { invariant: "reserved_equals_ledger", budget: "campaign/c1", expected: "70", actual: "60" },
    ]);
  });

  test("verify compares the subsidies table with every payment's entries", async () => {
    const schema = freshSchema();
    const store = await PostgresLedgerStore.open({ url, schema, verifyPageRows: 2 });
    opened.push(store);
    await store.fund("campaign/c1", 1_000, "initial", T0);
    await store.fund("campaign/c2", 1_000, "initial", T0);
    await store.reserve([
      request("p1", [subsidy("c1", 10)]),
      request("p2", [subsidy("c1", 20), subsidy("c2", 5)]),
      request("p3", [subsidy("c1", 30)]),
      request("p4", [subsidy("c2", 40)]),
      request("p5", [subsidy("c1", 50)]),
    ]);
    await store.settle([
      { kind: "commit", paymentId: "p2", atMs: T0 + 1 },
      { kind: "release", paymentId: "p4", atMs: T0 + 1 },
    ]);
    expect(await store.verify()).toEqual({ budgets: 2, violations: [], ok: true });
    // Behind the store: an amount changed, a state changed, a row lost, a row for a payment the
    // ledger does not hold — on different pages of two payments.
    const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
    await client.connect();
    await client.query(
      "UPDATE subsidies SET committed_minor = 15 WHERE payment_id = 'p2' AND entry_index = 0",
    );
    await client.query("UPDATE subsidies SET state = 'committed' WHERE payment_id = 'p4'");
    await client.query("DELETE FROM subsidies WHERE payment_id = 'p5'");
    await client.query(
      `INSERT INTO subsidies SELECT 'p9', entry_index, campaign_id, campaign_version, template_id,
         funding, program_id, at_ms, user_id, scenario, region, state, reserved_minor,
         committed_minor, reversed_minor
       FROM subsidies WHERE payment_id = 'p1'`,
    );
    await client.end();
    expect((await store.verify()).violations).toEqual([
      {
        invariant: "subsidy_rows_equal_entries",
        budget: "p2",
        expected: "entry 0: c1@1 platform committed reserved 20 committed 20 reversed 0",
        actual: "entry 0: c1@1 platform committed reserved 20 committed 15 reversed 0",
      },
      {
        invariant: "subsidy_rows_equal_entries",
        budget: "p4",
        expected: "entry 0: c2@1 platform released reserved 40 committed 0 reversed 0",
        actual: "entry 0: c2@1 platform committed reserved 40 committed 0 reversed 0",
      },
      {
        invariant: "subsidy_rows_equal_entries",
        budget: "p5",
        expected: "entry 0: c1@1 platform reserved reserved 50 committed 0 reversed 0",
        actual: "entry 0: no row",
      },
      {
        invariant: "subsidy_rows_equal_entries",
        budget: "p9",
        expected: "entry 0: no row",
        actual: "entry 0: c1@1 platform reserved reserved 10 committed 0 reversed 0",
      },
    ]);
  });

  test("counters edited behind the store are reported by verify", async () => {
    const schema = freshSchema();
    const store = await open(schema);
    await store.fund("campaign/c1", 100, "initial", T0);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(
      `UPDATE ${schema}.accounts SET spent_minor = 150 WHERE account = 'campaign/c1'`,
    );
    await client.end();
    expect((await store.verify()).violations.map((violation) => violation.invariant)).toEqual([
      "spent_equals_ledger",
      "available_reserved_spent_equal_funded",
    ]);
  });
});
