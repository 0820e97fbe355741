/**
 * A lease holder that dies (postgres-leases.test.ts): opens the ledger with short leases, reserves
 * a few payments on the big budget (taking a lease), prints "leased", and waits to be killed.
 * Usage: node --import tsx postgres-lease-child.ts URL SCHEMA
 */
import { fileURLToPath } from "node:url";
import { PostgresLedgerStore } from "../../src/stores/postgres/postgres-ledger-store.ts";
import { request, subsidy } from "../support/ledger-requests.ts";

export const LEASE_TEST_BUDGET = "big";
export const LEASE_TEST_TTL_MS = 1_500;

async function main(): Promise<void> {
  const [url, schema] = process.argv.slice(2);
  if (url === undefined || schema === undefined) throw new Error("usage: URL SCHEMA");
  const store = await PostgresLedgerStore.open({
    url,
    schema,
    leaseTtlMs: LEASE_TEST_TTL_MS,
    leaseMarginMs: 500,
  });
  await store.reserve(
    Array.from({ length: 5 }, (_, index) =>
      request(`child-${index}`, [subsidy(LEASE_TEST_BUDGET, 100)]),
    ),
  );
  process.stdout.write(`leased ${store.heldLeaseMinor()}\n`);
  // Holds its lease until killed.
  setInterval(() => {}, 60_000);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
