/**
 * `bursar impact INCIDENT`: the report of an incident's blamed campaign versions over its window
 * (from its window start to its resolution, or now), from a real SQLite ledger and control file
 * in one data directory, through `runImpactReport`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { LedgerService } from "../../src/ledger/ledger-service.ts";
import { SqliteLedgerStore } from "../../src/stores/sqlite/sqlite-ledger-store.ts";
import { COFFEE_PAYMENT_AT_MS, coffeePayment } from "../support/documents.ts";
import { runCli } from "../support/run-cli.ts";
import { coffeeSnapshot } from "../support/snapshots.ts";

const directory = mkdtempSync(join(tmpdir(), "bursar-impact-incident-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
const data = join(directory, "data");
const iso = (ms: number) => new Date(ms).toISOString();
const HOUR_MS = 3_600_000;
// 00:00Z (08:00 in Shanghai): the anomaly's start; the payments at 00:30Z and 01:40Z.
const WINDOW_START_MS = COFFEE_PAYMENT_AT_MS - 30 * 60_000;
const RESOLVED_MS = WINDOW_START_MS + HOUR_MS;

beforeAll(async () => {
  const store = await SqliteLedgerStore.open({
    path: join(data, "ledger.db"),
    nowMs: () => COFFEE_PAYMENT_AT_MS,
  });
  try {
    const service = new LedgerService({
      store,
      nowMs: () => COFFEE_PAYMENT_AT_MS,
      storeDeadlineMs: null,
    });
    await service.activate(coffeeSnapshot(1_000_000));
    for (let index = 1; index <= 5; index += 1) {
      const atMs = index <= 3 ? COFFEE_PAYMENT_AT_MS : COFFEE_PAYMENT_AT_MS + 70 * 60_000;
      const answer = await service.apply(coffeePayment(`p${index}`, { userId: `u${index}`, atMs }));
      expect(answer.code).toBe("reserved");
    }
  } finally {
    await store.close();
  }
});

function incident(args: readonly string[], atMs: number) {
  const result = runCli(["incident", ...args, "--data", data, "--as", "ops", "--at", iso(atMs)]);
  expect(result.status, result.stderr).toBe(0);
  return result;
}

function impactOf(args: readonly string[]) {
  return runCli(["impact", ...args, "--data", data, "--format", "json"]);
}

describe("bursar impact INCIDENT", { timeout: 240_000 }, () => {
  test("an open incident's window runs to now; a resolved one's to its resolution", () => {
    const opened = incident(
      ["open", "--title", "coffee runaway", "--reason", "the coffee subsidy ran away"].concat([
        "--campaign",
        "sh-coffee@1",
        "--window-start",
        iso(WINDOW_START_MS),
        "--json",
      ]),
      WINDOW_START_MS + 60_000,
    );
    const id = (JSON.parse(opened.stdout) as { incident: { id: string } }).incident.id;

    const whileOpen = impactOf([id]);
    expect(whileOpen.status, whileOpen.stderr).toBe(0);
    const open = JSON.parse(whileOpen.stdout);
    expect(open.query.versions).toEqual([{ campaignId: "sh-coffee", version: 1 }]);
    expect(open.query.fromMs).toBe(WINDOW_START_MS);
    expect(open.query.toMs).toBeGreaterThan(Date.now() - 60_000);
    expect(open.totals).toMatchObject({ payments: 5, users: 5, reservedMinor: 400 });

    incident(["mitigate", id, "--reason", "paused the coffee campaign"], RESOLVED_MS);
    incident(
      ["remediate", id, "--reason", "a small cost, absorbed", "--absorbed", "0"],
      RESOLVED_MS,
    );
    incident(["resolve", id, "--reason", "stopped and absorbed"], RESOLVED_MS);
    const resolved = JSON.parse(impactOf([id]).stdout);
    expect(resolved.query).toMatchObject({ fromMs: WINDOW_START_MS, toMs: RESOLVED_MS + 1 });
    expect(resolved.totals).toMatchObject({ payments: 3, reservedMinor: 240 });
    expect(resolved.window).toEqual({
      firstAtMs: COFFEE_PAYMENT_AT_MS,
      lastAtMs: COFFEE_PAYMENT_AT_MS,
    });

    // --to overrides the incident's end; the table is the default format.
    const table = runCli(["impact", id, "--data", data, "--to", iso(COFFEE_PAYMENT_AT_MS)]);
    expect(table.stdout).toMatch(/^impact of sh-coffee@1\nwindow: unrecorded \.\. unrecorded\n/);
  });

  test("unusable: both an incident and --versions, neither, an unknown incident, no control file", () => {
    expect(
      runCli(["impact", "incident-1", "--versions", "sh-coffee@1", "--data", data]).status,
    ).toBe(2);
    expect(runCli(["impact", "--data", data]).status).toBe(2);
    const unknown = runCli(["impact", "incident-99", "--data", data]);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain("no incident incident-99");
    const elsewhere = runCli(["impact", "incident-1", "--data", join(directory, "empty")]);
    expect(elsewhere.status).toBe(2);
    expect(elsewhere.stderr).toContain("no incidents at");
  });
});
