/**
 * apply.postgres*: the ledger on PostgreSQL (DESIGN §4.3, issue 5).
 *
 * - `apply.postgres_2proc.ops_per_s`: two real processes, each with its own store and
 *   connections, reserving at once against one hot national budget (DESIGN §6: "2 processes, one
 *   hot budget"), many calls in flight each; the store's part of apply (the quote and plan are
 *   the apply.sqlite benchmark's). Counted from the moment both are told to go until both are
 *   done, over the payments of both.
 * - `apply.postgres_2proc.stranded_minor`: money both processes still held in budget leases at
 *   the end of that run, before they gave them back.
 * - `apply.postgres_2proc.identity_caps.ops_per_s`: the same run with each payer's daily cap and
 *   the platform's per-user ceiling as well (three limits per payment), which cannot be leased and
 *   are enforced in the store's transaction: what they cost (issue 5).
 * - `apply.postgres.deadline_p100_ms`: the slowest answer of `LedgerService.apply` (deadline
 *   50 ms) while a proxy between the store and the server swallows every byte (a hung link).
 *
 * PostgreSQL is found as the tests find it (BURSAR_PG_URL, else 127.0.0.1:5432, else a throwaway
 * cluster from the installed binaries), in a fresh database dropped afterwards; fsync as the
 * server has it (the fixture prints it).
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { LedgerService } from "../src/ledger/ledger-service.ts";
import { PostgresLedgerStore } from "../src/stores/postgres/postgres-ledger-store.ts";
import { COFFEE_PAYMENT_AT_MS, coffeePayment } from "../test/support/documents.ts";
import type { FaultMode } from "../test/support/fault-proxy.ts";
import { createFreshDatabase, findOrStartPostgres } from "../test/support/postgres-server.ts";
import { coffeeSnapshot } from "../test/support/snapshots.ts";
import { NATIONAL_BUDGET } from "./apply-postgres-child.ts";
import { type Benchmark, scaled } from "./benchmark.ts";

const SEED = 20250116;
const PROCESSES = 2;
const PAYMENTS_PER_PROCESS = 20_000;
const IN_FLIGHT_PER_PROCESS = 2_000;
const DEADLINE_MS = 50;
const HUNG_APPLIES = 200;
const CHILD = fileURLToPath(new URL("./apply-postgres-child.ts", import.meta.url));
const PROXY_CHILD = fileURLToPath(new URL("./fault-proxy-child.ts", import.meta.url));

interface ChildReport {
  readonly payments: number;
  readonly reserved: number;
  readonly failed: number;
  readonly elapsedMs: number;
  readonly strandedMinor: number;
}

const TWO_PROCESS_FIXTURE = (scale: number) =>
  `${PROCESSES} processes × ${scaled(PAYMENTS_PER_PROCESS, scale, 200)} reserve calls (seeded synthetic payments, seed ${SEED}; one national budget; identity_caps: also each payer's daily cap and the platform's per-user ceiling), ${IN_FLIGHT_PER_PROCESS} in flight per process, batch 1000, a fresh database`;

export const applyPostgresTwoProcessBenchmark: Benchmark = {
  name: "apply.postgres_2proc",
  figures: [
    { bench: "apply.postgres_2proc.ops_per_s", unit: "ops/s" },
    { bench: "apply.postgres_2proc.stranded_minor", unit: "minor" },
    { bench: "apply.postgres_2proc.identity_caps.ops_per_s", unit: "ops/s" },
  ],
  fixture: TWO_PROCESS_FIXTURE,
  run: (context) =>
    withFreshDatabase(context, async (url) => {
      const payments = scaled(PAYMENTS_PER_PROCESS, context.scale, 200);
      const { opsPerSecond, strandedMinor } = await twoProcesses(context, url, payments, false);
      const withCaps = await twoProcesses(context, url, payments, true);
      context.progress(
        `per-identity limits enforced in the store cost ${((1 - withCaps.opsPerSecond / opsPerSecond) * 100).toFixed(0)} % of the budget's throughput`,
      );
      return [
        { bench: "apply.postgres_2proc.ops_per_s", value: Math.round(opsPerSecond), unit: "ops/s" },
        { bench: "apply.postgres_2proc.stranded_minor", value: strandedMinor, unit: "minor" },
        {
          bench: "apply.postgres_2proc.identity_caps.ops_per_s",
          value: Math.round(withCaps.opsPerSecond),
          unit: "ops/s",
        },
      ] as const;
    }),
};

export const applyPostgresDeadlineBenchmark: Benchmark = {
  name: "apply.postgres",
  figures: [{ bench: "apply.postgres.deadline_p100_ms", unit: "ms" }],
  fixture: () =>
    `${HUNG_APPLIES} LedgerService.apply calls, 20 at a time, with a ${DEADLINE_MS} ms deadline, through a proxy process that swallows every byte between the store and PostgreSQL; a fresh database`,
  run: (context) =>
    withFreshDatabase(context, async (url) => [
      {
        bench: "apply.postgres.deadline_p100_ms",
        value: Math.round((await hungDeadline(context, url)) * 100) / 100,
        unit: "ms",
      },
    ]),
};

/** PostgreSQL as the tests find it, a fresh database for the run, dropped afterwards. */
async function withFreshDatabase<T>(
  context: Parameters<Benchmark["run"]>[0],
  use: (url: string) => Promise<T>,
): Promise<T> {
  const server = await findOrStartPostgres();
  const database = await createFreshDatabase(server.url);
  try {
    const fsync = await serverSetting(database.url, "fsync");
    context.progress(`PostgreSQL: ${server.description}, fsync ${fsync}`);
    return await use(database.url);
  } finally {
    await database.drop();
    await server.stop();
  }
}

async function serverSetting(url: string, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<Record<string, string>>(`SHOW ${name}`);
    return Object.values(rows[0] ?? {})[0] ?? "unknown";
  } finally {
    await client.end();
  }
}

async function twoProcesses(
  context: Parameters<Benchmark["run"]>[0],
  url: string,
  paymentsPerProcess: number,
  withIdentityCaps: boolean,
): Promise<{ opsPerSecond: number; strandedMinor: number }> {
  const schema = withIdentityCaps ? "bench_2proc_identity_caps" : "bench_2proc";
  const store = await PostgresLedgerStore.open({ url, schema });
  await store.fund(`campaign/${NATIONAL_BUDGET}`, 1_000_000_000_000, "benchmark budget", 0);
  await store.close();
  const children = Array.from({ length: PROCESSES }, (_, index) =>
    spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        CHILD,
        url,
        schema,
        String(index),
        String(paymentsPerProcess),
        String(IN_FLIGHT_PER_PROCESS),
        String(SEED),
        ...(withIdentityCaps ? ["WITH_IDENTITY_CAPS"] : []),
      ],
      { stdio: ["pipe", "pipe", "inherit"] },
    ),
  );
  try {
    const lines = children.map((child) => createInterface({ input: child.stdout }));
    const nextLine = (index: number) =>
      new Promise<string>((resolve, reject) => {
        lines[index]!.once("line", resolve);
        children[index]!.once("exit", (code) =>
          reject(new Error(`process ${index} exited ${code}`)),
        );
      });
    await Promise.all(children.map((_, index) => nextLine(index)));
    const reports = children.map((_, index) => nextLine(index));
    const startedMs = performance.now();
    for (const child of children) child.stdin.write("go\n");
    const done = (await Promise.all(reports)).map((line) => JSON.parse(line) as ChildReport);
    const elapsedMs = performance.now() - startedMs;
    const payments = done.reduce((sum, report) => sum + report.payments, 0);
    context.progress(
      `2 processes${withIdentityCaps ? ", with identity caps" : ", one budget"}: ${payments} reserve calls in ${Math.round(elapsedMs)} ms; reserved ${done.map((report) => report.reserved).join(" + ")}, failed ${done.map((report) => report.failed).join(" + ")}; per process ${done.map((report) => Math.round(report.payments / (report.elapsedMs / 1000))).join(", ")}/s`,
    );
    const strandedMinor = done.reduce((sum, report) => sum + report.strandedMinor, 0);
    context.progress(`held in leases at the end of the run: ${strandedMinor} minor units`);
    return { opsPerSecond: payments / (elapsedMs / 1000), strandedMinor };
  } finally {
    for (const child of children) child.kill("SIGKILL");
  }
}

async function hungDeadline(
  context: Parameters<Benchmark["run"]>[0],
  url: string,
): Promise<number> {
  const target = new URL(url);
  const proxy = spawn(
    process.execPath,
    ["--import", "tsx", PROXY_CHILD, target.hostname, target.port || "5432"],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  const lines = createInterface({ input: proxy.stdout });
  const nextLine = () =>
    new Promise<string>((resolve, reject) => {
      lines.once("line", resolve);
      proxy.once("exit", (code) => reject(new Error(`the fault proxy exited ${code}`)));
    });
  const setMode = async (mode: FaultMode) => {
    proxy.stdin.write(`${mode}\n`);
    const answer = await nextLine();
    if (answer !== `mode ${mode}`) throw new Error(`the fault proxy answered ${answer}`);
  };
  let store: PostgresLedgerStore | undefined;
  try {
    const port = (await nextLine()).replace("port ", "");
    const proxied = new URL(url);
    proxied.hostname = "127.0.0.1";
    proxied.port = port;
    store = await PostgresLedgerStore.open({
      url: proxied.toString(),
      schema: "bench_deadline",
      queryTimeoutMs: 1_000,
    });
    const service = new LedgerService({
      store,
      nowMs: () => COFFEE_PAYMENT_AT_MS,
      storeDeadlineMs: DEADLINE_MS,
    });
    await service.activate(coffeeSnapshot(1_000_000));
    await setMode("hang");
    let maxMs = 0;
    for (let index = 0; index < HUNG_APPLIES; index += 20) {
      const timings = await Promise.all(
        Array.from({ length: 20 }, async (_, offset) => {
          const startedMs = performance.now();
          const answer = await service.apply(coffeePayment(`hung-${index + offset}`));
          if (answer.code !== "ledger_unavailable") {
            throw new Error(`a hung store answered ${answer.code}`);
          }
          return performance.now() - startedMs;
        }),
      );
      maxMs = Math.max(maxMs, ...timings);
    }
    context.progress(
      `hung link: ${HUNG_APPLIES} calls, slowest answer ${maxMs.toFixed(1)} ms (deadline ${DEADLINE_MS} ms)`,
    );
    await setMode("pass");
    return maxMs;
  } finally {
    await store?.close();
    proxy.stdin.end();
    await new Promise((done) => {
      if (proxy.exitCode !== null) done(undefined);
      else proxy.once("exit", done);
    });
  }
}
