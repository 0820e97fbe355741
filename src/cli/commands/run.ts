/**
 * `bursar run`: seeded synthetic traffic through the evaluator over a configuration, summarised
 * per scenario and region. The quick way to see what a set of campaigns would spend.
 */
import type { Command } from "@commander-js/extra-typings";
import { loadSnapshot } from "../../config/load-snapshot.ts";
import { createFastEvaluator } from "../../core/evaluator/fast-evaluator.ts";
import { formatFinding } from "../../core/findings.ts";
import { formatMinor } from "../../core/money.ts";
import {
  type SubsidyRow,
  type SubsidyRunReport,
  SubsidyRunSummary,
} from "../../traffic/subsidy-run-summary.ts";
import { TRAFFIC_CURRENCY } from "../../traffic/traffic-model.ts";
import { EXIT_FINDINGS, EXIT_OK, type ExitCodeHolder } from "../exit-codes.ts";
import { Progress } from "../progress.ts";
import { complainer, createGenerator } from "../traffic-flags.ts";

/** Payments evaluated between progress checks. */
const PROGRESS_SLICE = 65_536;

export function registerRunCommand(program: Command, outcome: ExitCodeHolder): void {
  program
    .command("run")
    .description(
      "Run seeded synthetic traffic through the evaluator and summarise the subsidies per scenario and region.",
    )
    .option("--campaigns <dir>", "configuration files or directory", "examples")
    .option("--seed <n>", "seed of the traffic and of random offers", "20250116")
    .option("--tps <n>", "mean payments per second", "1000")
    .option("--seconds <n>", "length of the window in seconds", "60")
    .option(
      "--start <iso>",
      "start of the window with its offset (default 2025-01-16T14:40:00+08:00)",
    )
    .option("--users <n>", "user population (default 1000000)")
    .option("--merchants <n>", "merchant population (default 200000)")
    .option("--json", "print one JSON object")
    .action(async (flags) => {
      const say = complainer("bursar run", outcome);
      const generator = createGenerator(flags, say);
      if (generator === undefined) return;
      const loaded = await loadSnapshot([flags.campaigns], generator.options.seed);
      if (!loaded.ok) {
        for (const finding of loaded.findings) process.stderr.write(`${formatFinding(finding)}\n`);
        process.stderr.write(`bursar run: ${loaded.message}\n`);
        outcome.exitCode = EXIT_FINDINGS;
        return;
      }
      const evaluator = createFastEvaluator(loaded.snapshot);
      const summary = new SubsidyRunSummary();
      const progress = new Progress("evaluated", generator.total);
      const startedMs = performance.now();
      let count = 0;
      for (
        let payment = generator.nextPayment();
        payment !== undefined;
        payment = generator.nextPayment()
      ) {
        summary.add(payment, evaluator.quote(payment));
        count += 1;
        if (count % PROGRESS_SLICE === 0) progress.update(count);
      }
      progress.finish(count);
      const elapsedS = (performance.now() - startedMs) / 1000;
      process.stderr.write(
        `evaluated ${count} payments against ${loaded.snapshot.campaigns.length} campaigns in ${elapsedS.toFixed(2)} s (generation included)\n`,
      );
      const report = summary.report();
      const { seed, tps, seconds, startMs } = generator.options;
      if (flags.json === true) {
        process.stdout.write(
          `${JSON.stringify({ seed, tps, seconds, startMs, campaigns: loaded.snapshot.campaigns.length, ...report })}\n`,
        );
      } else {
        process.stdout.write(
          formatRunReport(
            report,
            `seed ${seed}, ${tps} payments/s for ${seconds} s, ${loaded.snapshot.campaigns.length} campaigns from ${flags.campaigns}`,
          ),
        );
      }
      outcome.exitCode = EXIT_OK;
    });
}

function yuan(amountMinor: number | string): string {
  return typeof amountMinor === "number"
    ? `${formatMinor(amountMinor, TRAFFIC_CURRENCY)} ${TRAFFIC_CURRENCY}`
    : `${amountMinor} minor units`;
}

function percent(share: number): string {
  return `${(share * 100).toFixed(1)} %`;
}

function formatRunReport(report: SubsidyRunReport, source: string): string {
  const lines = [
    `run: ${source}`,
    `payments: ${report.payments}, subsidised: ${report.subsidisedPayments} (${percent(report.subsidisedShare)}), subsidy: ${yuan(report.subsidyMinor)}`,
    `subsidised payments in protected scenarios: ${report.protectedScenarioPayments}`,
    "",
    ...table(
      "scenario",
      report.byScenario.map((row) => [row.scenario, row]),
    ),
    "",
    ...table(
      "region",
      report.byRegion.map((row) => [row.region, row]),
    ),
    "",
    "campaign                          payments  subsidy",
    ...report.byCampaign.map(
      (row) =>
        `${row.campaignId.padEnd(32)} ${String(row.payments).padStart(9)}  ${yuan(row.subsidyMinor)}`,
    ),
    "",
    "payments refused as a whole:",
    ...Object.entries(report.refusals).map(([reason, count]) => `  ${reason.padEnd(36)} ${count}`),
  ];
  return `${lines.join("\n")}\n`;
}

function table(title: string, rows: readonly [string, SubsidyRow][]): string[] {
  const width = Math.max(title.length, ...rows.map(([key]) => key.length)) + 2;
  return [
    `${title.padEnd(width)}${"payments".padStart(9)}${"subsidised".padStart(12)}${"share".padStart(9)}  subsidy`,
    ...rows.map(
      ([key, row]) =>
        `${key.padEnd(width)}${String(row.payments).padStart(9)}${String(row.subsidisedPayments).padStart(12)}${percent(row.subsidisedShare).padStart(9)}  ${yuan(row.subsidyMinor)}`,
    ),
  ];
}
