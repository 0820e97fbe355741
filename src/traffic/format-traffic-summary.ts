/**
 * The people's view of a traffic summary: a few headline lines and aligned tables. Times are
 * shown in Beijing time with their offset, amounts in yuan (major units) with their currency.
 */
import { formatFinding } from "../core/findings.ts";
import { formatLocalDateTime, offsetMsAt, zonedParts } from "../core/time-zone.ts";
import { TRAFFIC_TIME_ZONE } from "./traffic-model.ts";
import { formatAmounts, type SummaryRow, type TrafficSummaryReport } from "./traffic-summary.ts";

/** `2025-01-16T14:40:00.000+08:00`: the instant in Beijing time, unambiguous thanks to the offset. */
export function formatInstant(atMs: number): string {
  const offsetMs = offsetMsAt(atMs, TRAFFIC_TIME_ZONE);
  const local = formatLocalDateTime(zonedParts(atMs, TRAFFIC_TIME_ZONE));
  const millis = String(((atMs % 1000) + 1000) % 1000).padStart(3, "0");
  const sign = offsetMs < 0 ? "-" : "+";
  const offsetMinutes = Math.abs(offsetMs) / 60_000;
  const hours = String(Math.floor(offsetMinutes / 60)).padStart(2, "0");
  const minutes = String(offsetMinutes % 60).padStart(2, "0");
  return `${local}.${millis}${sign}${hours}:${minutes}`;
}

export function formatTrafficSummary(report: TrafficSummaryReport, source: string): string {
  const lines: string[] = [`source: ${source}`];
  lines.push(`payments: ${report.payments}`);
  lines.push(`users: ${report.usersCapped ? "at least " : ""}${report.users}`);
  lines.push(`total amount: ${formatAmounts(report.amountsMinor)}`);
  if (report.firstAtMs !== null && report.lastAtMs !== null) {
    lines.push(`window: ${formatInstant(report.firstAtMs)} .. ${formatInstant(report.lastAtMs)}`);
  }
  lines.push("");
  lines.push(
    ...table(
      "payee kind",
      report.payeeKinds.map((row) => [row.payeeKind, row]),
    ),
  );
  lines.push("");
  lines.push(
    ...table(
      "scenario",
      report.scenarios.map((row) => [row.scenario, row]),
    ),
  );
  lines.push("");
  lines.push(
    ...table(
      "region",
      report.regions.map((row) => [row.region, row]),
    ),
  );
  lines.push("");
  lines.push(`bad lines: ${report.badLines}`);
  for (const sample of report.badLineSamples) {
    for (const finding of sample.findings) lines.push(`  ${formatFinding(finding)}`);
  }
  const unshown = report.badLines - report.badLineSamples.length;
  if (unshown > 0) lines.push(`  … and ${unshown} more bad lines`);
  return `${lines.join("\n")}\n`;
}

function table(heading: string, rows: readonly (readonly [string, SummaryRow])[]): string[] {
  const cells = rows.map(([name, row]) => [
    name,
    String(row.payments),
    `${(row.share * 100).toFixed(1)} %`,
    formatAmounts(row.amountsMinor),
  ]);
  const header = [heading, "payments", "share", "amount"];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...cells.map((cell) => cell[column]!.length)),
  );
  const render = (cell: readonly string[]): string =>
    cell
      .map((text, column) =>
        column === 0 || column === 3
          ? text.padEnd(widths[column]!)
          : text.padStart(widths[column]!),
      )
      .join("  ")
      .trimEnd();
  return [render(header), ...cells.map(render)];
}
