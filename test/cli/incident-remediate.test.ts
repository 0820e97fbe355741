/**
 * `bursar incident remediate` releasing the blamed versions' uncommitted reservations from a real
 * SQLite ledger (`--release`: the ledger beside control.sqlite in --data; `--ledger-data DIR`),
 * recording the count and amount with the absorb decision; refusals that touch no ledger.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { LedgerService } from "../../src/ledger/ledger-service.ts";
import { SqliteLedgerStore } from "../../src/stores/sqlite/sqlite-ledger-store.ts";
import { COFFEE_PAYMENT_AT_MS, coffeePayment } from "../support/documents.ts";
import { runCli } from "../support/run-cli.ts";
import { coffeeSnapshot } from "../support/snapshots.ts";

const directory = mkdtempSync(join(tmpdir(), "bursar-incident-remediate-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
// An hour after the payments: inside the reservations' one-day time to live.
const AT = ["--at", new Date(COFFEE_PAYMENT_AT_MS + 3_600_000).toISOString()];

/** Payments by users u1..uN into DIR/ledger.db (80 fen of sh-coffee@1 each); the first `committed` committed. */
async function ledgerWith(dir: string, payments: number, committed: number) {
  const store = await SqliteLedgerStore.open({
    path: join(dir, "ledger.db"),
    nowMs: () => COFFEE_PAYMENT_AT_MS,
  });
  try {
    const service = new LedgerService({
      store,
      nowMs: () => COFFEE_PAYMENT_AT_MS,
      storeDeadlineMs: null,
      reservationTtlMs: 24 * 3_600_000,
    });
    await service.activate(coffeeSnapshot(1_000_000));
    for (let index = 1; index <= payments; index += 1) {
      const answer = await service.apply(
        coffeePayment(`${dir.length}-p${index}`, { userId: `u${index}` }),
      );
      expect(answer.code).toBe("reserved");
      if (index <= committed)
        expect((await service.commit(answer.paymentId!)).code).toBe("committed");
    }
  } finally {
    await store.close();
  }
}

async function heldMinor(dir: string): Promise<number | undefined> {
  const store = await SqliteLedgerStore.open({
    path: join(dir, "ledger.db"),
    nowMs: () => COFFEE_PAYMENT_AT_MS,
  });
  try {
    return (await store.balance("campaign/sh-coffee"))?.reservedMinor;
  } finally {
    await store.close();
  }
}

function incident(data: string, args: readonly string[]) {
  return runCli(["incident", ...args, "--data", data, "--as", "fin", ...AT]);
}

function openIncident(data: string): string {
  const opened = incident(data, [
    "open",
    "--title",
    "coffee runaway",
    "--reason",
    "the coffee subsidy ran away",
    "--campaign",
    "sh-coffee@1",
    "--json",
  ]);
  expect(opened.status).toBe(0);
  return (JSON.parse(opened.stdout) as { incident: { id: string } }).incident.id;
}

describe("bursar incident remediate with the ledger", { timeout: 240_000 }, () => {
  test("--release: the ledger beside control.sqlite; counts and amounts recorded; never twice", async () => {
    const data = join(directory, "together");
    await ledgerWith(data, 5, 2);
    expect(await heldMinor(data)).toBe(240);
    const id = openIncident(data);

    const remediated = incident(data, [
      "remediate",
      id,
      "--reason",
      "the cost of what was committed is ours",
      "--absorbed",
      "160",
      "--release",
      "--json",
    ]);
    expect(remediated.status).toBe(0);
    expect(remediated.stderr).toContain(
      "released 3 uncommitted reservations holding 240 of the blamed versions (240 in all); 0 had expired; 0 were settled meanwhile",
    );
    const { incident: stored } = JSON.parse(remediated.stdout);
    expect(stored.remediation).toMatchObject({
      decision: "absorb",
      reservationsReleased: { count: 3, amountMinor: 240 },
      costAbsorbedMinor: 160,
      decidedById: "fin",
    });
    expect(await heldMinor(data)).toBe(0);

    // A second decision is refused before anything is released (the ledger is not even opened).
    const again = incident(data, [
      "remediate",
      id,
      "--reason",
      "the cost of what was committed is ours",
      "--absorbed",
      "160",
      "--ledger-data",
      join(directory, "nowhere"),
    ]);
    expect(again.status).toBe(1);
    expect(again.stdout).toMatch(/^refused: incident\.remediation_recorded: /);
  });

  test("--ledger-data: a ledger in another directory; flag mistakes are unusable input", async () => {
    const data = join(directory, "control-only");
    const ledger = join(directory, "ledger-only");
    await ledgerWith(ledger, 2, 0);
    const id = openIncident(data);
    const base = [
      "remediate",
      id,
      "--reason",
      "the cost of what was committed is ours",
      "--absorbed",
      "0",
    ];

    const both = incident(data, [...base, "--ledger-data", ledger, "--released-count", "2"]);
    expect(both.status).toBe(2);
    expect(incident(data, [...base, "--release", "--ledger-data", ledger]).status).toBe(2);
    const missing = incident(data, [...base, "--release"]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain("no ledger at");

    const remediated = incident(data, [...base, "--ledger-data", ledger, "--json"]);
    expect(remediated.status).toBe(0);
    expect(JSON.parse(remediated.stdout).incident.remediation.reservationsReleased).toEqual({
      count: 2,
      amountMinor: 160,
    });
    expect(await heldMinor(ledger)).toBe(0);
  });

  test("the explicit figures still record a release made elsewhere", () => {
    const data = join(directory, "elsewhere");
    const id = openIncident(data);
    const remediated = incident(data, [
      "remediate",
      id,
      "--reason",
      "released from the payment service's own ledger",
      "--absorbed",
      "0",
      "--released-count",
      "12",
      "--released",
      "3400",
      "--json",
    ]);
    expect(remediated.status).toBe(0);
    expect(JSON.parse(remediated.stdout).incident.remediation.reservationsReleased).toEqual({
      count: 12,
      amountMinor: 3400,
    });
  });
});
