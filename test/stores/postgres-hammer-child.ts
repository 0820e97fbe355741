/**
 * One process of the PostgreSQL hammer test (postgres-processes.test.ts): opens the ledger in the
 * schema it is given and reserves its share of payments against one budget and one hot person's
 * cap, many calls in flight, then prints one JSON line with what it was answered.
 * With LEASED, every budget is leased however small (ADR 0008).
 * Usage: node --import tsx postgres-hammer-child.ts URL SCHEMA PROCESS_INDEX PAYMENTS [LEASED]
 */
import { fileURLToPath } from "node:url";
import { PostgresLedgerStore } from "../../src/stores/postgres/postgres-ledger-store.ts";
import { boundedDebit, request, subsidy } from "../support/ledger-requests.ts";

export const HAMMER_BUDGET = "hammer";
export const HAMMER_HOT_CAP_ACCOUNT = "identity/user:hot/day/hammer/2025-01-16";
export const HAMMER_HOT_CAP_COUNT = 25;
/** Every third payment is by the hot person. */
export const HAMMER_HOT_EVERY = 3;

async function main(): Promise<void> {
  const [url, schema, processText, paymentsText, leased] = process.argv.slice(2);
  if (
    url === undefined ||
    schema === undefined ||
    processText === undefined ||
    paymentsText === undefined
  ) {
    throw new Error("usage: postgres-hammer-child.ts URL SCHEMA PROCESS_INDEX PAYMENTS");
  }
  const store = await PostgresLedgerStore.open({
    url,
    schema,
    batchSizeMax: 50,
    ...(leased === "LEASED" ? { leaseFloorMinor: 0, leaseGrantMinMinor: 1 } : {}),
  });
  const calls = Array.from({ length: Number(paymentsText) }, (_, index) => {
    const hot = index % HAMMER_HOT_EVERY === 0;
    const caps = hot ? [boundedDebit(HAMMER_HOT_CAP_ACCOUNT, 1, null, HAMMER_HOT_CAP_COUNT)] : [];
    return store.reserve([request(`p${processText}-${index}`, [subsidy(HAMMER_BUDGET, 1, caps)])]);
  });
  let reserved = 0;
  let hotReserved = 0;
  let failed = 0;
  for (const [index, call] of calls.entries()) {
    try {
      const [result] = await call;
      if (result?.code === "answered" && result.answer.code === "reserved") {
        reserved += 1;
        if (index % HAMMER_HOT_EVERY === 0) hotReserved += 1;
      }
    } catch {
      failed += 1;
    }
  }
  await store.close();
  process.stdout.write(`${JSON.stringify({ reserved, hotReserved, failed })}\n`);
}

// Run as a script; the test imports the constants above.
if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
