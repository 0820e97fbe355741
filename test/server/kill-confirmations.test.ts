/**
 * Every process that obeys a kill confirms it on the kill's incident, once (docs/reference/
 * kill-switch.md, "Confirmations"), on the real stores and the real compositions:
 *
 * - PostgreSQL: two servers on one schema, as two `bursar serve` on one database. A registered
 *   external campaign running away through server A's guard-mode checks trips A's guard; A kills
 *   it, opens the incident and confirms its own kill; server B, which only reads the kill from the
 *   shared store, confirms it under its own evaluator id. Each exactly once.
 * - SQLite: a server on a data directory while other processes share its control.sqlite: `bursar
 *   kill set` publishes a kill, `bursar incident open` and `note --kind kill_published` record it
 *   on an incident (after the server already obeys the kill: it finds the incident at a later
 *   attempt); the server confirms it once; then `bursar run --control DIR --guard` obeys it and
 *   confirms it under its own name, once.
 *
 * Without the compositions' wiring (bursar-server.ts, commands/run.ts) the other process writes
 * nothing and each test fails. Waits are bounded.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { BursarServer } from "../../src/server/bursar-server.ts";
import {
  checkUntilKilled,
  RUNAWAY_EXTERNAL_CAMPAIGN,
  runawayCheckBody,
} from "../support/api-calls.ts";
import { runCli } from "../support/run-cli.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

const RUNAWAY = RUNAWAY_EXTERNAL_CAMPAIGN;
const WAIT_MS_MAX = 10_000;
/** Ticks (100 ms) and confirmation attempts (1 s) that follow, in which nothing more is written. */
const SETTLE_MS = 2_500;

interface TimelineEntry {
  readonly kind: string;
  readonly byId: string;
  readonly atMs: number;
  readonly details: Record<string, unknown>;
}

/** The incident's kill_confirmed entries, read through the API. */
async function confirmationsOf(
  server: TestServer,
  token: string,
  incidentId: string,
): Promise<TimelineEntry[]> {
  const answer = await server.request("GET", `/v1/incidents/${incidentId}`, { token });
  expect(answer.status).toBe(200);
  return (answer.body.timeline as TimelineEntry[]).filter(
    (entry) => entry.kind === "kill_confirmed",
  );
}

/** Reads until `byId` has confirmed, at most `WAIT_MS_MAX`. */
async function awaitConfirmation(
  read: () => Promise<TimelineEntry[]>,
  byId: RegExp | string,
): Promise<TimelineEntry[]> {
  const startedAtMs = Date.now();
  const matches = (entry: TimelineEntry) =>
    typeof byId === "string" ? entry.byId === byId : byId.test(entry.byId);
  for (;;) {
    const entries = await read();
    if (entries.some(matches) || Date.now() - startedAtMs > WAIT_MS_MAX) return entries;
    await new Promise((done) => setTimeout(done, 100));
  }
}

const pause = (ms: number) => new Promise((done) => setTimeout(done, ms));

describe("on PostgreSQL: a kill one server's guard sets is confirmed by another server on the same database", () => {
  let a: TestServer;
  let b: BursarServer | undefined;
  let payments: string;
  let operator: string;
  beforeAll(async () => {
    const schema = `kc_${process.pid}_${Math.floor(Math.random() * 1e6)}`;
    a = await startTestServer("postgres", {
      schema,
      demo: true,
      demoTps: 0,
      externalCampaigns: [RUNAWAY],
      evaluatorId: "serve-a",
    });
    payments = await a.tokenFor(["payment-service"]);
    operator = await a.tokenFor(["operator"]);
    const data = mkdtempSync(join(tmpdir(), "bursar-kill-confirm-b-"));
    try {
      b = await BursarServer.start({
        host: "127.0.0.1",
        port: 0,
        data,
        database: inject("postgresUrl"),
        schema,
        demo: false,
        examples: join(import.meta.dirname, "..", "..", "examples"),
        demoTps: 0,
        seed: 20250116,
        logLevel: false,
        version: "test",
        evaluatorId: "serve-b",
      });
    } finally {
      rmSync(data, { recursive: true, force: true });
    }
  }, 60_000);
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
  });

  test("the tripping server and the other each confirm the kill exactly once", async () => {
    const check = (index: number) =>
      a.request("POST", "/v1/guard/check", {
        token: payments,
        body: runawayCheckBody(`kc-${index}`),
      });
    const { killedAfterMs, sent } = await checkUntilKilled(check, WAIT_MS_MAX);
    expect(killedAfterMs, `not killed after ${sent} checks`).toBeDefined();
    const listed = await a.request("GET", "/v1/incidents", { token: operator });
    expect(listed.body.incidents).toHaveLength(1);
    const incidentId = listed.body.incidents[0].id as string;
    const kills = await a.request("GET", "/v1/kills", { token: operator });
    const killSequence = kills.body.active[0].sequence as number;

    const read = () => confirmationsOf(a, operator, incidentId);
    await awaitConfirmation(read, "serve-b");
    await pause(SETTLE_MS);
    const confirmed = await read();
    expect(confirmed.map((entry) => [entry.byId, entry.details]).sort()).toEqual([
      ["serve-a", { evaluatorId: "serve-a", killSequence }],
      ["serve-b", { evaluatorId: "serve-b", killSequence }],
    ]);
  }, 60_000);
});

describe("on SQLite: processes sharing a data directory each confirm a kill recorded on an incident", () => {
  let data: string;
  let server: TestServer;
  let operator: string;
  beforeAll(async () => {
    data = mkdtempSync(join(tmpdir(), "bursar-kill-confirm-"));
    server = await startTestServer("sqlite", { data, evaluatorId: "serve-sqlite" });
    operator = await server.tokenFor(["operator"]);
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    rmSync(data, { recursive: true, force: true });
  });

  const cli = (args: readonly string[]) => {
    const result = runCli([...args, "--data", data, "--json"], undefined, 120_000);
    if (result.status !== 0)
      throw new Error(`${args.join(" ")}: ${result.stdout} ${result.stderr}`);
    return JSON.parse(result.stdout);
  };

  test("the server, then a guarded run, confirm it once each under their own names", async () => {
    const killed = cli([
      "kill",
      "set",
      "--campaigns",
      "lucky-national-qr",
      "--reason",
      "customers report a double discount",
      "--as",
      "ops",
    ]);
    const killSequence = killed.kill.sequence as number;
    const opened = cli([
      "incident",
      "open",
      "--as",
      "ops",
      "--title",
      "double discount on national QR",
      "--reason",
      "customers report a double discount",
    ]);
    const incidentId = opened.incident.id as string;
    // The server obeys the kill within a tick; the incident records it only now.
    cli([
      "incident",
      "note",
      incidentId,
      "--as",
      "ops",
      "--kind",
      "kill_published",
      "--text",
      `kill ${killSequence} of lucky-national-qr`,
      "--detail",
      `killSequence=${killSequence}`,
    ]);
    const read = () => confirmationsOf(server, operator, incidentId);
    await awaitConfirmation(read, "serve-sqlite");
    await pause(SETTLE_MS);
    expect((await read()).map((entry) => [entry.byId, entry.details])).toEqual([
      ["serve-sqlite", { evaluatorId: "serve-sqlite", killSequence }],
    ]);
    // Counted for the dashboards: attempts before kill_published existed, then the confirmation.
    const metrics = await server.request("GET", "/metrics", { token: operator });
    expect(metrics.body).toMatch(/^bursar_kill_confirmations_total\{outcome="confirmed"\} 1$/m);

    // Another process on the same control.sqlite: a guarded run obeys the kill from its start.
    const run = runCli(
      ["run", "--control", data, "--guard", "--tps", "20", "--seconds", "2"],
      undefined,
      120_000,
    );
    expect(run.status, run.stderr).toBe(0);
    // In time order: the run's clock is its payments' (its default start), not the wall's.
    const confirmed = await read();
    expect(confirmed).toHaveLength(2);
    const byRun = confirmed.find((entry) => entry.byId !== "serve-sqlite");
    expect(byRun?.byId).toMatch(/^bursar-run-\d+@[A-Za-z0-9.-]+$/);
    expect(byRun?.details).toEqual({ evaluatorId: byRun?.byId, killSequence });
  }, 120_000);
});
