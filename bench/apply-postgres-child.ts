/**
 * One process of apply.postgres_2proc (bench/apply-postgres.ts): opens the PostgreSQL ledger,
 * plans its payments (seeded synthetic traffic; each draws on the one national budget), prints
 * "ready", waits for "go" on stdin,
 * reserves them with many calls in flight, and prints one JSON line with what it was answered.
 * With WITH_IDENTITY_CAPS, each payment also draws on its payer's daily cap and the platform's
 * per-user ceiling, which the store enforces in the same transaction.
 * Usage: node --import tsx apply-postgres-child.ts URL SCHEMA PROCESS_INDEX PAYMENTS IN_FLIGHT SEED [WITH_IDENTITY_CAPS]
 */
import { createInterface } from "node:readline";
import type { ReservationRequest } from "../src/core/ledger/reservation.ts";
import { PostgresLedgerStore } from "../src/stores/postgres/postgres-ledger-store.ts";
import { TrafficGenerator } from "../src/traffic/traffic-generator.ts";
import { boundedDebit, request, subsidy } from "../test/support/ledger-requests.ts";

export const NATIONAL_BUDGET = "national";

function plannedRequests(
  processIndex: number,
  count: number,
  seed: number,
  withIdentityCaps: boolean,
): ReservationRequest[] {
  const created = TrafficGenerator.create({
    seed: seed + processIndex,
    tps: 10_000,
    seconds: Math.ceil(count / 10_000),
  });
  if (!created.ok) throw new Error(created.errors.map((error) => error.message).join("; "));
  const requests: ReservationRequest[] = [];
  for (const payment of created.generator) {
    if (requests.length === count) break;
    const amountMinor = Math.max(1, Math.floor(payment.amountMinor / 100));
    const user = `user:${payment.userId}`;
    const caps = !withIdentityCaps
      ? []
      : [
          boundedDebit(
            `identity/${user}/day/${NATIONAL_BUDGET}/2025-01-16`,
            amountMinor,
            50_000,
            5,
          ),
          boundedDebit(
            `identity/${user}/platform-day/CNY/2025-01-16`,
            amountMinor,
            100_000,
            null,
            "platform_ceiling_reached",
          ),
        ];
    requests.push(
      request(`${processIndex}-${payment.paymentId}`, [
        subsidy(NATIONAL_BUDGET, amountMinor, caps),
      ]),
    );
  }
  return requests;
}

async function main(): Promise<void> {
  const [url, schema, processText, paymentsText, inFlightText, seedText, identityCaps] =
    process.argv.slice(2);
  if (seedText === undefined)
    throw new Error("usage: URL SCHEMA PROCESS_INDEX PAYMENTS IN_FLIGHT SEED");
  const store = await PostgresLedgerStore.open({ url: url!, schema: schema! });
  const requests = plannedRequests(
    Number(processText),
    Number(paymentsText),
    Number(seedText),
    identityCaps === "WITH_IDENTITY_CAPS",
  );
  process.stdout.write("ready\n");
  await new Promise<void>((resolve) => {
    createInterface({ input: process.stdin }).once("line", () => resolve());
  });
  const startedMs = performance.now();
  let next = 0;
  let reserved = 0;
  let failed = 0;
  const lane = async () => {
    while (next < requests.length) {
      const planned = requests[next]!;
      next += 1;
      try {
        const [result] = await store.reserve([planned]);
        if (result?.code === "answered" && result.answer.code === "reserved") reserved += 1;
      } catch {
        failed += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: Number(inFlightText) }, lane));
  const elapsedMs = performance.now() - startedMs;
  // Held in leases at the end of the run: stranded, were the process to stop here.
  const strandedMinor = store.heldLeaseMinor();
  await store.close();
  process.stdout.write(
    `${JSON.stringify({ payments: requests.length, reserved, failed, elapsedMs, strandedMinor })}\n`,
  );
}

if (process.argv[1]?.endsWith("apply-postgres-child.ts")) await main();
