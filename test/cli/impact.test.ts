import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, inject, test } from "vitest";
import {
  csvField,
  type ImpactReport,
  impactReportCsv,
} from "../../src/core/ledger/impact-report.ts";
import type { ReservationRequest } from "../../src/core/ledger/reservation.ts";
import type { LedgerStore } from "../../src/ledger/ledger-store.ts";
import { PostgresLedgerStore } from "../../src/stores/postgres/postgres-ledger-store.ts";
import { SqliteLedgerStore } from "../../src/stores/sqlite/sqlite-ledger-store.ts";
import { REQUEST_T0_MS, request, subsidy } from "../support/ledger-requests.ts";
import { runCli } from "../support/run-cli.ts";

const directory = mkdtempSync(join(tmpdir(), "bursar-impact-cli-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
const T0 = REQUEST_T0_MS;

/** c1@1 on p1 (u1, rent, "Shanghai, PD") and p2 (u2), c2@1 on p3. */
function facts(
  paymentId: string,
  userId: string,
  atMs: number,
  campaign: string,
  amountMinor: number,
): ReservationRequest {
  return {
    ...request(paymentId, [subsidy(campaign, amountMinor)], { atMs }),
    userId,
    scenario: "rent",
    region: 'Shanghai, "PD"',
  };
}

async function seed(store: LedgerStore): Promise<void> {
  await store.fund("campaign/c1", 1000, "budget", T0);
  await store.fund("campaign/c2", 1000, "budget", T0);
  await store.reserve([
    facts("p1", "u1", T0 + 1_000, "c1", 300),
    facts("p2", "u2", T0 + 61_000, "c1", 200),
    facts("p3", "u3", T0 + 2_000, "c2", 100),
  ]);
  await store.settle([{ kind: "commit", paymentId: "p1", atMs: T0 + 5_000 }]);
}

describe("bursar impact", () => {
  test("reports a SQLite ledger as JSON, CSV (RFC 4180) and a table, to stdout or a file", async () => {
    const data = join(directory, "data");
    const store = await SqliteLedgerStore.open({ path: join(data, "ledger.db"), nowMs: () => T0 });
    await seed(store);
    await store.close();
    const json = runCli(["impact", "--versions", "c1@1", "--data", data, "--format", "json"]);
    expect(json.status).toBe(0);
    const report = JSON.parse(json.stdout) as ImpactReport;
    expect(report.totals).toMatchObject({
      payments: 2,
      users: 2,
      reservedMinor: 500,
      heldMinor: 200,
      committedMinor: 300,
      netMinor: 500,
    });
    expect(report.window).toEqual({ firstAtMs: T0 + 1_000, lastAtMs: T0 + 61_000 });

    const out = join(directory, "impact.csv");
    const csv = runCli([
      "impact",
      "--versions",
      "c1@1",
      "--data",
      data,
      "--format",
      "csv",
      "--out",
      out,
    ]);
    expect(csv.status).toBe(0);
    expect(csv.stdout).toBe("");
    const lines = readFileSync(out, "utf8").split("\r\n");
    expect(lines[0]).toBe(
      "split,key,payments,users,subsidies,reserved_minor,held_minor,committed_minor,returned_minor,refunded_minor,net_minor,first_at_ms,last_at_ms",
    );
    expect(lines[1]).toBe(`total,,2,2,2,500,200,300,0,0,500,${T0 + 1_000},${T0 + 61_000}`);
    expect(lines).toContain('region,"Shanghai, ""PD""",2,2,2,500,200,300,0,0,500,,');
    expect(lines).toContain(`minute,${T0 + 60_000},1,1,1,200,200,0,0,0,200,,`);

    const ranged = runCli([
      "impact",
      "--versions",
      "c1@1,c2@1",
      "--from",
      "2025-01-16T14:40:00+08:00",
      "--to",
      "2025-01-16T06:41:00Z",
      "--data",
      data,
    ]);
    expect(ranged.status).toBe(0);
    expect(ranged.stdout).toMatch(/window: 2025-01-16T06:40:01.000Z \.\. 2025-01-16T06:40:02.000Z/);
    expect(ranged.stdout).toMatch(/total\s+2\s+2\s+400\s+100\s+300/);
  });

  test("clear errors for bad input", () => {
    const data = join(directory, "data");
    const cases: [string[], RegExp][] = [
      [["--versions", "c1"], /is not CAMPAIGN_ID@VERSION/],
      [["--versions", "c1@0"], /is not CAMPAIGN_ID@VERSION/],
      [["--versions", "c1@1", "--from", "2025-01-16 14:40"], /ISO 8601 instant with an offset/],
      [
        ["--versions", "c1@1", "--from", "2025-01-16T15:00:00Z", "--to", "2025-01-16T14:00:00Z"],
        /fromMs must be before toMs/,
      ],
      [["--versions", "c1@1", "--format", "xml"], /--format must be one of table, json, csv/],
      [["--versions", "c1@1", "--data", join(directory, "nowhere")], /no ledger at/],
    ];
    for (const [args, message] of cases) {
      const result = runCli([
        "impact",
        ...args,
        ...(args.includes("--data") ? [] : ["--data", data]),
      ]);
      expect(result.status, args.join(" ")).toBe(2);
      expect(result.stderr).toMatch(message);
    }
  });

  test("reports a PostgreSQL ledger", async () => {
    const url = inject("postgresUrl");
    const schema = `impact_cli_${process.pid}`;
    const store = await PostgresLedgerStore.open({ url, schema });
    await seed(store);
    await store.close();
    const result = runCli([
      "impact",
      "--versions",
      "c1@1",
      "--database",
      url,
      "--schema",
      schema,
      "--format",
      "json",
    ]);
    expect(result.status).toBe(0);
    expect((JSON.parse(result.stdout) as ImpactReport).totals).toMatchObject({
      payments: 2,
      netMinor: 500,
    });
  });

  test("CSV fields are quoted as RFC 4180 asks", () => {
    expect(csvField("plain")).toBe("plain");
    expect(csvField('a "b"')).toBe('"a ""b"""');
    expect(csvField("a,b")).toBe('"a,b"');
    expect(csvField("a\nb")).toBe('"a\nb"');
    expect(impactReportCsv).toBeTypeOf("function");
  });
});
