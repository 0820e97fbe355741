/**
 * `bursar simulate`: what a change does to the money. Replays recorded payments (an NDJSON file
 * or a sample-log directory) or seeded synthetic traffic through the current and the proposed
 * configuration and reports spend per hour, share of payments subsidised, by scenario, region,
 * funding source and campaign, the worst cases and the flags (docs/reference/simulate.md).
 * Exit 0 without flags, 1 with flags, 2 on unusable input.
 */
import type { Command } from "@commander-js/extra-typings";
import { loadSnapshot } from "../../config/load-snapshot.ts";
import { recordedPayments } from "../../control/recorded-payments.ts";
import { simulateChange } from "../../control/simulate-change.ts";
import {
  type PaymentFilesSimulation,
  simulatePaymentFiles,
} from "../../control/simulate-payment-files.ts";
import type { Snapshot } from "../../core/evaluator/snapshot.ts";
import { type Finding, formatFinding } from "../../core/findings.ts";
import { type Currency, formatMinor, isCurrency } from "../../core/money.ts";
import { SPEND_GROWTH_THRESHOLD_BPS_DEFAULT } from "../../core/simulation/simulation-accumulator.ts";
import {
  IDENTITY_KINDS,
  type SimulationGroupRow,
  type SimulationReport,
  simulationReportToJson,
} from "../../core/simulation/simulation-report.ts";
import { EXIT_FINDINGS, EXIT_OK, type ExitCodeHolder } from "../exit-codes.ts";
import { parseWholeNumber } from "../options.ts";
import { Progress } from "../progress.ts";
import { complainer, createGenerator, reasonOf } from "../traffic-flags.ts";

/** Findings about bad payment lines printed on stderr; the rest are only counted. */
const LINE_FINDINGS_SHOWN = 20;
/** Campaign rows in the table, largest change first; --json has them all. */
const CAMPAIGN_ROWS_SHOWN = 15;

export function registerSimulateCommand(program: Command, outcome: ExitCodeHolder): void {
  program
    .command("simulate")
    .description(
      "Replay payments through the current and the proposed configuration and report what the change does to the money.",
    )
    .requiredOption("--current <dir>", "the configuration in force")
    .requiredOption("--proposed <dir>", "the configuration after the change")
    .option(
      "--payments <path>",
      "recorded payments: an NDJSON file or a sample-log directory (default: synthetic traffic)",
    )
    .option("--sample-rate-bps <n>", "the share of all traffic the payments are, in bps")
    .option("--seed <n>", "seed of the synthetic traffic and of random offers", "20250116")
    .option("--tps <n>", "synthetic traffic: mean payments per second", "1000")
    .option("--seconds <n>", "synthetic traffic: length of the window in seconds", "60")
    .option("--start <iso>", "synthetic traffic: start of the window with its offset")
    .option("--users <n>", "synthetic traffic: user population")
    .option("--merchants <n>", "synthetic traffic: merchant population")
    .option(
      "--spend-growth-threshold-bps <n>",
      "flag growth of subsidy per hour beyond this many bps of the current",
      String(SPEND_GROWTH_THRESHOLD_BPS_DEFAULT),
    )
    .option("--currency <code>", "the currency the report sums", "CNY")
    .option("--threads <n>", "worker threads reading recorded payments (default: one per core)")
    .option("--json", "print the report as one JSON object")
    .action(async (flags) => {
      const say = complainer("bursar simulate", outcome);
      const threshold = parseWholeNumber(flags.spendGrowthThresholdBps, 0, 1_000_000);
      if (threshold === undefined)
        return say(
          `--spend-growth-threshold-bps: expected a whole number, got ${flags.spendGrowthThresholdBps}`,
        );
      const currency = flags.currency.toUpperCase();
      if (!isCurrency(currency)) return say(`--currency: unknown currency ${flags.currency}`);
      const threads =
        flags.threads === undefined ? undefined : parseWholeNumber(flags.threads, 0, 16);
      if (flags.threads !== undefined && threads === undefined)
        return say(`--threads: expected a whole number in 0..16, got ${flags.threads}`);
      let rateFlag: number | undefined;
      if (flags.sampleRateBps !== undefined) {
        rateFlag = parseWholeNumber(flags.sampleRateBps, 1, 10_000);
        if (rateFlag === undefined)
          return say(
            `--sample-rate-bps: expected a whole number in 1..10000, got ${flags.sampleRateBps}`,
          );
      }
      const seed = parseWholeNumber(flags.seed, 0, 4_294_967_295);
      if (seed === undefined) return say(`--seed: expected a whole number, got ${flags.seed}`);

      const current = await snapshotOf("--current", flags.current, seed, say);
      const proposed = await snapshotOf("--proposed", flags.proposed, seed, say);
      if (current === undefined || proposed === undefined) return;
      const options = { currency: currency as Currency, spendGrowthThresholdBps: threshold };
      const startedMs = performance.now();
      let report: SimulationReport;
      let source: string;
      let lineFindings: readonly Finding[] = [];
      let badLines = 0;
      if (flags.payments !== undefined) {
        const payments = recordedPayments(flags.payments, rateFlag);
        if (!payments.ok) return say(`--payments ${payments.message}`);
        const sampleRateBps = payments.rateBps;
        const progress = new Progress("simulated", undefined);
        let result: PaymentFilesSimulation;
        try {
          result = await simulatePaymentFiles({
            current,
            proposed,
            paths: payments.paths,
            sampleRateBps,
            options,
            ...(threads === undefined ? {} : { threads }),
            onProgress: (count) => progress.update(count),
          });
        } catch (cause) {
          return say(`--payments ${flags.payments}: ${reasonOf(cause)}`);
        }
        progress.finish(result.lines);
        report = result.report;
        lineFindings = result.findings;
        badLines = result.badLines;
        source = `${result.lines} lines from ${flags.payments} (${payments.paths.length} files, sample rate ${sampleRateBps} bps)`;
      } else {
        const generator = createGenerator(flags, say);
        if (generator === undefined) return;
        const progress = new Progress("simulated", generator.total);
        const { tps, seconds } = generator.options;
        report = await simulateChange({
          current,
          proposed,
          payments: generator,
          sampleRateBps: rateFlag ?? 10_000,
          // Synthetic traffic covers exactly its window, whatever its first and last instants.
          options: { ...options, windowMs: seconds * 1000 },
          onProgress: (count) => progress.update(count),
        });
        progress.finish(generator.total);
        source = `synthetic traffic, seed ${seed}, ${tps} payments/s for ${seconds} s`;
      }
      const elapsedS = (performance.now() - startedMs) / 1000;
      for (const finding of lineFindings.slice(0, LINE_FINDINGS_SHOWN))
        process.stderr.write(`${formatFinding(finding)}\n`);
      if (badLines > 0)
        process.stderr.write(`bursar simulate: ${badLines} lines were no valid payment\n`);
      process.stderr.write(
        `simulated ${report.payments} payments against ${current.campaigns.length} current and ${proposed.campaigns.length} proposed campaigns in ${elapsedS.toFixed(2)} s\n`,
      );
      if (report.payments === 0) {
        say("no valid payment to simulate");
        return;
      }
      if (flags.json === true) {
        process.stdout.write(`${JSON.stringify(simulationReportToJson(report))}\n`);
      } else {
        process.stdout.write(formatSimulationReport(report, source));
      }
      outcome.exitCode = report.flags.length > 0 ? EXIT_FINDINGS : EXIT_OK;
    });
}

async function snapshotOf(
  flag: string,
  directory: string,
  seed: number,
  say: (message: string) => void,
): Promise<Snapshot | undefined> {
  const loaded = await loadSnapshot([directory], seed);
  if (loaded.ok) return loaded.snapshot;
  for (const finding of loaded.findings) process.stderr.write(`${formatFinding(finding)}\n`);
  say(`${flag} ${directory}: ${loaded.message}`);
  return undefined;
}

function money(report: SimulationReport, amountMinor: bigint): string {
  const safe =
    amountMinor <= BigInt(Number.MAX_SAFE_INTEGER) &&
    -amountMinor <= BigInt(Number.MAX_SAFE_INTEGER);
  return safe
    ? `${formatMinor(Number(amountMinor), report.currency)}`
    : `${amountMinor} minor units`;
}

function bps(value: number | null): string {
  return value === null ? "n/a" : `${(value / 100).toFixed(2)} %`;
}

export function formatSimulationReport(report: SimulationReport, source: string): string {
  const { current, proposed, delta, ratio } = report;
  const window =
    report.firstAtMs === null || report.lastAtMs === null
      ? "no payments"
      : `${new Date(report.firstAtMs).toISOString()} .. ${new Date(report.lastAtMs).toISOString()}`;
  const lines = [
    `simulate: ${source}`,
    `payments: ${report.payments} (${report.paymentsInvalid} invalid, ${report.paymentsOtherCurrency} in other currencies), window ${window}, scaled from ${report.windowMs} ms at ${report.sampleRateBps} bps to one hour; money in ${report.currency}`,
    "",
    `${"".padEnd(24)}${"current".padStart(18)}${"proposed".padStart(18)}${"delta".padStart(18)}`,
    `${"subsidy per hour".padEnd(24)}${money(report, current.subsidyPerHourMinor).padStart(18)}${money(report, proposed.subsidyPerHourMinor).padStart(18)}${money(report, delta.subsidyPerHourMinor).padStart(18)}   ratio ${bps(ratio.subsidyBps)}`,
    `${"subsidy in the sample".padEnd(24)}${money(report, current.subsidyMinor).padStart(18)}${money(report, proposed.subsidyMinor).padStart(18)}${money(report, delta.subsidyMinor).padStart(18)}`,
    `${"payments subsidised".padEnd(24)}${String(current.subsidisedPayments).padStart(18)}${String(proposed.subsidisedPayments).padStart(18)}${String(delta.subsidisedPayments).padStart(18)}   ratio ${bps(ratio.subsidisedPaymentsBps)}`,
    `${"share subsidised".padEnd(24)}${bps(current.subsidisedShareBps).padStart(18)}${bps(proposed.subsidisedShareBps).padStart(18)}${bps(delta.subsidisedShareBps).padStart(18)}`,
    "",
    ...groupTable(report, "scenario", report.byScenario),
    "",
    ...groupTable(report, "region", report.byRegion),
    "",
    ...groupTable(report, "funding", report.byFunding),
    "",
    ...groupTable(
      report,
      `campaign (${CAMPAIGN_ROWS_SHOWN} largest changes of ${report.byCampaign.length})`,
      [...report.byCampaign]
        .sort((left, right) => {
          const a = abs(left.deltaSubsidyPerHourMinor);
          const b = abs(right.deltaSubsidyPerHourMinor);
          return a === b ? (left.key < right.key ? -1 : 1) : a > b ? -1 : 1;
        })
        .slice(0, CAMPAIGN_ROWS_SHOWN),
    ),
    "",
    "worst case per payment:",
    ...(["current", "proposed"] as const).map((side) => {
      const worst = report.worstPayment[side];
      return `  ${side.padEnd(9)}${worst === null ? "none" : `${money(report, BigInt(worst.subsidyMinor))} off ${money(report, BigInt(worst.paymentAmountMinor))} (payment ${worst.paymentId}, ${worst.scenario}, ${worst.region})`}`;
    }),
    "worst case per identity (total over the sample):",
    ...IDENTITY_KINDS.flatMap((kind) =>
      (["current", "proposed"] as const).map((side) => {
        const worst = report.worstIdentity[kind][side];
        return `  ${kind.padEnd(7)}${side.padEnd(9)}${worst === null ? "none" : `${money(report, worst.subsidyMinor)} to ${worst.identity} over ${worst.subsidisedPayments} payments`}`;
      }),
    ),
    "",
    report.flags.length === 0 ? "flags: none" : `flags: ${report.flags.length}`,
    ...report.flags.map((flag) => `  ${flag.code}: ${flag.message}`),
  ];
  return `${lines.join("\n")}\n`;
}

function abs(value: bigint): bigint {
  return value < 0n ? -value : value;
}

function groupTable(
  report: SimulationReport,
  title: string,
  rows: readonly SimulationGroupRow[],
): string[] {
  const width = Math.max(title.length, ...rows.map((row) => row.key.length)) + 2;
  return [
    `${title.padEnd(width)}${"payments".padStart(9)}${"share now".padStart(11)}${"share then".padStart(11)}${"per hour now".padStart(16)}${"per hour then".padStart(16)}${"delta per hour".padStart(16)}`,
    ...rows.map(
      (row) =>
        `${row.key.padEnd(width)}${String(row.payments).padStart(9)}${bps(row.current.subsidisedShareBps).padStart(11)}${bps(row.proposed.subsidisedShareBps).padStart(11)}${money(report, row.current.subsidyPerHourMinor).padStart(16)}${money(report, row.proposed.subsidyPerHourMinor).padStart(16)}${money(report, row.deltaSubsidyPerHourMinor).padStart(16)}`,
    ),
  ];
}
