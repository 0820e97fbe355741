/**
 * `bursar impact`: the impact report of campaign versions from the ledger (DESIGN §4.6), from
 * the embedded ledger in `--data` (read directly, read-only, beside a store that may be writing)
 * or a PostgreSQL one with `--database`. A human table by default, or JSON or CSV, to stdout or
 * `--out FILE`.
 *
 * The query can come from elsewhere: `bursar impact INCIDENT` (an incident names its versions
 * and window) builds an `ImpactQuery` and calls `runImpactReport` with it and a reader.
 */
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "@commander-js/extra-typings";
import {
  type CampaignVersionRef,
  IMPACT_LIMITS,
  IMPACT_SPLITS,
  type ImpactCounts,
  type ImpactQuery,
  type ImpactReport,
  impactQueryProblem,
  impactReportCsv,
  impactReportJson,
} from "../../core/ledger/impact-report.ts";
import type { IncidentStore } from "../../guard/incident-store.ts";
import { openIncidentStore } from "../../stores/control-stores.ts";
import { PostgresLedgerStore } from "../../stores/postgres/postgres-ledger-store.ts";
import { CONTROL_FILE_NAME } from "../../stores/sqlite/sqlite-audit-log-store.ts";
import { SqliteLedgerReader } from "../../stores/sqlite/sqlite-ledger-reader.ts";
import { LEDGER_FILE_NAME } from "../../stores/sqlite/sqlite-ledger-store.ts";
import { EXIT_OK, EXIT_UNUSABLE_INPUT, type ExitCodeHolder } from "../exit-codes.ts";

export const IMPACT_FORMATS = ["table", "json", "csv"] as const;
export type ImpactFormat = (typeof IMPACT_FORMATS)[number];

/** What a report is computed from: anything with the port's `impactReport`. */
export interface ImpactReportSource {
  impactReport(query: ImpactQuery): Promise<ImpactReport> | ImpactReport;
}

/** Where the ledger is: the embedded one in a data directory, or PostgreSQL. */
export type LedgerLocation =
  | { readonly kind: "sqlite"; readonly data: string }
  | { readonly kind: "postgres"; readonly url: string; readonly schema: string };

/**
 * Opens the ledger read-only as a report source, runs `use`, closes it. SQLite is read through
 * its own read-only connection, so a server holding the writer lock is not disturbed.
 */
export async function withImpactSource<T>(
  location: LedgerLocation,
  use: (source: ImpactReportSource) => Promise<T>,
): Promise<T> {
  if (location.kind === "sqlite") {
    const path = join(location.data, LEDGER_FILE_NAME);
    if (!existsSync(path)) throw new Error(`no ledger at ${path}`);
    const reader = SqliteLedgerReader.open(path);
    try {
      return await use(reader);
    } finally {
      reader.close();
    }
  }
  const store = await PostgresLedgerStore.open({ url: location.url, schema: location.schema });
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

/** The report for `query` from `source`, rendered in `format`. */
export async function runImpactReport(
  query: ImpactQuery,
  source: ImpactReportSource,
  format: ImpactFormat,
): Promise<{ readonly report: ImpactReport; readonly text: string }> {
  const problem = impactQueryProblem(query);
  if (problem !== undefined) throw new Error(problem);
  const report = await source.impactReport(query);
  return { report, text: renderImpactReport(report, format) };
}

export function renderImpactReport(report: ImpactReport, format: ImpactFormat): string {
  if (format === "json") return impactReportJson(report);
  if (format === "csv") return impactReportCsv(report);
  return impactReportTable(report);
}

/** `ID@V[,ID@V…]` as versions, or why not. */
export function parseVersions(text: string): CampaignVersionRef[] | string {
  const parts = text.split(",").map((part) => part.trim());
  if (parts.length > IMPACT_LIMITS.versionsMax) {
    return `at most ${IMPACT_LIMITS.versionsMax} versions`;
  }
  const versions: CampaignVersionRef[] = [];
  for (const part of parts) {
    const match = /^(.+)@([1-9][0-9]{0,9})$/.exec(part);
    if (match === null) return `"${part}" is not CAMPAIGN_ID@VERSION (e.g. sh-coffee@3)`;
    versions.push({ campaignId: match[1]!, version: Number(match[2]) });
  }
  return versions;
}

/** An ISO 8601 instant with its offset (or Z) as UTC ms, or why not. */
export function parseInstant(name: string, text: string): number | string {
  // An instant without an offset would be read in the machine's zone: ambiguous, refused.
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/.test(text)) {
    return `${name} ${JSON.stringify(text)} is not an ISO 8601 instant with an offset (e.g. 2025-01-16T14:40:00+08:00)`;
  }
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? `${name} ${JSON.stringify(text)} is not a valid instant` : ms;
}

export function registerImpactCommand(program: Command, outcome: ExitCodeHolder): void {
  program
    .command("impact")
    .description(
      "The impact report of campaign versions from the ledger: window, payments, users, subsidy reserved, committed, returned and refunded, split by scenario, region, funder, version and minute.",
    )
    .argument(
      "[incident]",
      "an incident id instead of --versions: its blamed campaign versions, from its window start to its resolution (or now)",
    )
    .option("--versions <list>", "campaign versions, ID@V[,ID@V…]")
    .option("--from <iso>", "payments at or after this instant (ISO 8601 with offset)")
    .option("--to <iso>", "payments before this instant (ISO 8601 with offset)")
    .option("--data <dir>", "data directory holding ledger.db", "./.bursar")
    .option("--database <url>", "a PostgreSQL ledger (postgres://…) instead of --data")
    .option("--schema <name>", "the PostgreSQL schema holding the ledger", "bursar")
    .option("--format <format>", "table, json or csv", "table")
    .option("--out <file>", "write the report to this file instead of stdout")
    .action(async (incidentId, options) => {
      const fail = (message: string) => {
        process.stderr.write(`bursar impact: ${message}\n`);
        outcome.exitCode = EXIT_UNUSABLE_INPUT;
      };
      if ((incidentId === undefined) === (options.versions === undefined)) {
        return fail("give an incident id or --versions, not both");
      }
      const bounds: { fromMs?: number; toMs?: number } = {};
      let versions: CampaignVersionRef[] | string;
      if (incidentId === undefined) {
        versions = parseVersions(options.versions!);
      } else {
        let scope: IncidentImpactScope | string;
        try {
          scope = await incidentImpactScope(options, incidentId, Date.now());
        } catch (cause) {
          return fail(cause instanceof Error ? cause.message : String(cause));
        }
        if (typeof scope === "string") return fail(scope);
        versions = [...scope.versions];
        bounds.fromMs = scope.fromMs;
        bounds.toMs = scope.toMs;
      }
      if (typeof versions === "string") return fail(`--versions: ${versions}`);
      for (const [name, text, key] of [
        ["--from", options.from, "fromMs"],
        ["--to", options.to, "toMs"],
      ] as const) {
        if (text === undefined) continue;
        const ms = parseInstant(name, text);
        if (typeof ms === "string") return fail(ms);
        bounds[key] = ms;
      }
      if (!(IMPACT_FORMATS as readonly string[]).includes(options.format)) {
        return fail(`--format must be one of ${IMPACT_FORMATS.join(", ")}`);
      }
      const query: ImpactQuery = { versions, ...bounds };
      const problem = impactQueryProblem(query);
      if (problem !== undefined) return fail(problem);
      const location: LedgerLocation =
        options.database === undefined
          ? { kind: "sqlite", data: options.data }
          : { kind: "postgres", url: options.database, schema: options.schema };
      let text: string;
      try {
        ({ text } = await withImpactSource(location, (source) =>
          runImpactReport(query, source, options.format as ImpactFormat),
        ));
      } catch (cause) {
        return fail(cause instanceof Error ? cause.message : String(cause));
      }
      if (options.out === undefined) process.stdout.write(text);
      else writeFileSync(options.out, text);
      outcome.exitCode = EXIT_OK;
    });
}

export interface IncidentImpactScope {
  readonly versions: readonly CampaignVersionRef[];
  readonly fromMs: number;
  readonly toMs: number;
}

/**
 * What `bursar impact INCIDENT` reports on: the incident's blamed campaign versions, from its
 * window start to its resolution (or `nowMs` while it is not resolved), both instants included.
 * The incident is read from the control store where the ledger is (`--data`'s control.sqlite or
 * the `--database` schema). A string says why there is nothing to report on.
 */
export async function incidentImpactScope(
  flags: { readonly data: string; readonly database?: string; readonly schema: string },
  incidentId: string,
  nowMs: number,
): Promise<IncidentImpactScope | string> {
  if (flags.database === undefined && !existsSync(join(flags.data, CONTROL_FILE_NAME))) {
    // Opening would create an empty control file in a directory that only holds a ledger.
    return `no incidents at ${join(flags.data, CONTROL_FILE_NAME)}`;
  }
  const store = await openIncidentStore(flags);
  let stored: Awaited<ReturnType<IncidentStore["getIncident"]>>;
  try {
    stored = await store.getIncident(incidentId);
  } finally {
    await store.close();
  }
  if (stored === undefined) return `no incident ${incidentId}`;
  const { incident } = stored;
  if (incident.blame.campaignVersions.length === 0) {
    return `${incidentId} blames no campaign versions: name them with --versions`;
  }
  const endMs = incident.resolution?.atMs ?? nowMs;
  // The report's upper bound is exclusive: one past the end keeps a payment at that instant.
  return {
    versions: incident.blame.campaignVersions,
    fromMs: incident.windowStartMs,
    toMs: endMs + 1,
  };
}

/** The human table: the window and totals, then each split (at most 20 rows each here). */
export function impactReportTable(report: ImpactReport): string {
  const rowsShownMax = 20;
  const iso = (ms: number | null) => (ms === null ? "unrecorded" : new Date(ms).toISOString());
  const lines = [
    `impact of ${report.query.versions.map((ref) => `${ref.campaignId}@${ref.version}`).join(", ")}`,
    `window: ${iso(report.window.firstAtMs)} .. ${iso(report.window.lastAtMs)}`,
    "",
  ];
  const header = [
    "",
    "payments",
    "users",
    "reserved",
    "held",
    "committed",
    "returned",
    "refunded",
    "net",
  ];
  const cells = (label: string, counts: ImpactCounts) => [
    label,
    counts.payments,
    counts.users,
    counts.reservedMinor,
    counts.heldMinor,
    counts.committedMinor,
    counts.returnedMinor,
    counts.refundedMinor,
    counts.netMinor,
  ];
  const table: (string | number)[][] = [header, cells("total", report.totals)];
  for (const split of IMPACT_SPLITS) {
    const { rows, omitted } = report.splits[split];
    if (rows.length === 0) continue;
    table.push([`by ${split.replace("_", " ")}`]);
    for (const row of rows.slice(0, rowsShownMax)) {
      const label =
        split === "minute" ? iso(Number(row.key)).slice(0, 16) : row.key || "(unrecorded)";
      table.push(cells(`  ${label}`, row));
    }
    const more = rows.length - Math.min(rows.length, rowsShownMax) + omitted;
    if (more > 0) table.push([`  … ${more} more (use --format csv or json)`]);
  }
  const widths = header.map((_, column) =>
    Math.max(
      ...table.filter((row) => row.length > 1).map((row) => String(row[column] ?? "").length),
    ),
  );
  for (const row of table) {
    if (row.length === 1) {
      lines.push(String(row[0]));
      continue;
    }
    lines.push(
      row
        .map((cell, column) =>
          column === 0 ? String(cell).padEnd(widths[0]!) : String(cell).padStart(widths[column]!),
        )
        .join("  "),
    );
  }
  lines.push("", "money in minor units; net = held + committed - refunded");
  return `${lines.join("\n")}\n`;
}
