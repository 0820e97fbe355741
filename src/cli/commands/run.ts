/**
 * `bursar run`: seeded synthetic traffic through the evaluator over a configuration, summarised
 * per scenario and region. The quick way to see what a set of campaigns would spend.
 */
import type { Command } from "@commander-js/extra-typings";
import { loadSnapshot } from "../../config/load-snapshot.ts";
import { ChangeService } from "../../control/change-service.ts";
import { PaymentSampleLog } from "../../control/payment-sample-log.ts";
import { type RolloutEvent, RolloutRunner } from "../../control/rollout-runner.ts";
import type { Decision } from "../../core/evaluator/decision.ts";
import { createFastEvaluator } from "../../core/evaluator/fast-evaluator.ts";
import type { Snapshot } from "../../core/evaluator/snapshot.ts";
import { formatFinding } from "../../core/findings.ts";
import {
  DEFAULT_GUARD_POLICY,
  WHOLE_TRAFFIC_BPS,
  withTrafficShare,
} from "../../core/guard/guard-monitors.ts";
import type { Payment } from "../../core/model/payment.ts";
import { formatMinor } from "../../core/money.ts";
import { GuardedRunner } from "../../guard/guarded-runner.ts";
import { IncidentService } from "../../guard/incident-service.ts";
import { KillConfirmer, processEvaluatorId } from "../../guard/kill-confirmer.ts";
import { openChangeStore, openIncidentStore, openKillStore } from "../../stores/control-stores.ts";
import {
  type SubsidyRow,
  type SubsidyRunReport,
  SubsidyRunSummary,
} from "../../traffic/subsidy-run-summary.ts";
import { TRAFFIC_CURRENCY } from "../../traffic/traffic-model.ts";
import { EXIT_FINDINGS, EXIT_OK, type ExitCodeHolder } from "../exit-codes.ts";
import { LedgerRun, type LedgerRunReport } from "../ledger-run.ts";
import { parseTrafficShareBps, parseWholeNumber, TRAFFIC_SHARE_EXPECTED } from "../options.ts";
import { Progress } from "../progress.ts";
import { complainer, createGenerator } from "../traffic-flags.ts";

/** Payments evaluated between progress checks. */
const PROGRESS_SLICE = 65_536;
/** Payments applied through the ledger between progress checks (applying is slower). */
const LEDGER_PROGRESS_SLICE = 4_096;

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
    .option(
      "--ledger <dir>",
      "also apply every payment through the durable ledger in DIR/ledger.db (SQLite), commit it, and verify the ledger",
    )
    .option(
      "--sample-log <dir>",
      "keep a sample of the payments in DIR as NDJSON, for `bursar simulate --payments DIR`",
    )
    .option("--sample-rate-bps <n>", "share of payments the sample log keeps, in bps", "100")
    .option(
      "--control <dir>",
      "serve what the change pipeline holds in DIR/control.sqlite instead of --campaigns: the active versions, and a rolling-out change to its stage's identities, judged against its forecast as the traffic flows",
    )
    .option(
      "--judge-every-seconds <n>",
      "with --control: seconds of payment time between two verdicts on the rollout",
      "10",
    )
    .option(
      "--control-database <url>",
      "as --control, from the change pipeline's tables in this PostgreSQL database (postgres://…)",
    )
    .option("--control-schema <name>", "with --control-database: its PostgreSQL schema", "bursar")
    .option(
      "--guard",
      "with --control: the runtime guard watches every decision; a trip kills the blamed campaigns, rolls back the responsible change and opens an incident in the control store",
    )
    .option(
      "--traffic-share <fraction>",
      "with --guard: this process's share of the payment traffic, a decimal in (0, 1] (default 1); the guard scales the fleet's money-per-minute limits (declared ceilings) by it",
    )
    .option("--json", "print one JSON object")
    .action(async (flags) => {
      const say = complainer("bursar run", outcome);
      const generator = createGenerator(flags, say);
      if (generator === undefined) return;
      const sampleRateBps = parseWholeNumber(flags.sampleRateBps, 1, 10_000);
      if (sampleRateBps === undefined) {
        say(`--sample-rate-bps: expected a whole number in 1..10000, got ${flags.sampleRateBps}`);
        return;
      }
      let trafficShareBps: number | undefined;
      if (flags.trafficShare !== undefined) {
        trafficShareBps = parseTrafficShareBps(flags.trafficShare);
        if (trafficShareBps === undefined) {
          say(
            `--traffic-share: expected ${TRAFFIC_SHARE_EXPECTED}, got ${JSON.stringify(flags.trafficShare)}`,
          );
          return;
        }
        // Without the guard nothing reads it: refused rather than silently ignored.
        if (flags.guard !== true) {
          say("--traffic-share needs --guard: it scales the runtime guard's limits");
          return;
        }
      }
      let sampleLog: PaymentSampleLog | undefined;
      if (flags.sampleLog !== undefined) {
        const opened = PaymentSampleLog.open({
          directory: flags.sampleLog,
          rateBps: sampleRateBps,
        });
        if (!opened.ok) {
          say(`--sample-log: ${opened.message} [${opened.code}]`);
          return;
        }
        sampleLog = opened.log;
      }
      const judgeEverySeconds = parseWholeNumber(flags.judgeEverySeconds, 1, 86_400);
      if (judgeEverySeconds === undefined) {
        say(
          `--judge-every-seconds: expected a whole number in 1..86400, got ${flags.judgeEverySeconds}`,
        );
        return;
      }
      const controlled = flags.control !== undefined || flags.controlDatabase !== undefined;
      if (flags.guard === true && !controlled) {
        say(
          "--guard needs --control or --control-database: the guard acts through the control store",
        );
        return;
      }
      if (controlled && flags.ledger !== undefined) {
        say("--control and --ledger together are not supported yet: a rollout is judged on quotes");
        return;
      }
      const served = await servedEvaluator(
        { ...flags, guard: flags.guard === true, trafficShareBps },
        generator.options.seed,
        judgeEverySeconds,
        say,
        outcome,
      );
      if (served === undefined) return;
      const { evaluator, campaigns, source } = served;
      const summary = new SubsidyRunSummary();
      let ledger: LedgerRun | undefined;
      try {
        ledger =
          flags.ledger === undefined
            ? undefined
            : await LedgerRun.open(flags.ledger, served.snapshot!);
      } catch (cause) {
        say(
          `cannot open the ledger in ${flags.ledger}: ${cause instanceof Error ? cause.message : String(cause)}`,
        );
        return;
      }
      const progress = new Progress(
        ledger === undefined ? "evaluated" : "applied",
        generator.total,
      );
      const startedMs = performance.now();
      let count = 0;
      let lastAtMs: number | undefined;
      const reportEvent = (event: RolloutEvent) =>
        process.stderr.write(
          `rollout of ${event.changeId} at ${new Date(event.atMs).toISOString()}: ${event.verdict.verdict} (${event.verdict.message}); now ${event.shareBpsAfter / 100} % of identities\n`,
        );
      const reportRollout = async (rollout: RolloutRunner, atMs: number) => {
        served.clock.nowMs = atMs;
        const event = await rollout.report(atMs);
        if (event !== undefined) reportEvent(event);
      };
      const guarded = served.guarded;
      let trips = 0;
      for (
        let payment = generator.nextPayment();
        payment !== undefined;
        payment = generator.nextPayment()
      ) {
        if (guarded?.isDue(payment.atMs)) {
          served.clock.nowMs = payment.atMs;
          const tick = await guarded.tick(payment.atMs);
          if (tick.rollout !== undefined) reportEvent(tick.rollout);
          for (const { trip, response } of tick.trips) {
            trips += 1;
            process.stderr.write(
              `guard at ${new Date(trip.atMs).toISOString()}: ${trip.code} on ${trip.subject.kind} ${trip.subject.id}${trip.subject.campaignVersion === undefined ? "" : `@${trip.subject.campaignVersion}`} (${trip.observed} > ${trip.limit} over ${trip.window}); killed ${response.killedCampaignIds.join(", ") || "nothing"}; rolled back ${response.rolledBack.join(", ") || "nothing"}; paused ${response.paused.join(", ") || "nothing"}; ${response.incidentId ?? "no incident"}${response.problems.length > 0 ? `; problems: ${response.problems.join("; ")}` : ""}\n`,
            );
          }
        } else if (served.rollout?.isReportDue(payment.atMs))
          await reportRollout(served.rollout, payment.atMs);
        lastAtMs = payment.atMs;
        summary.add(payment, evaluator.quote(payment));
        sampleLog?.record(payment);
        await ledger?.apply(payment);
        count += 1;
        if (count % (ledger === undefined ? PROGRESS_SLICE : LEDGER_PROGRESS_SLICE) === 0) {
          progress.update(count);
        }
      }
      // What the stage saw since the last verdict is reported before the run ends.
      if (served.rollout?.rollout !== undefined && lastAtMs !== undefined) {
        await reportRollout(served.rollout, lastAtMs);
      }
      if (guarded !== undefined) process.stderr.write(`guard: ${trips} trip(s)\n`);
      await served.close();
      const ledgerReport = await ledger?.finish();
      sampleLog?.close();
      progress.finish(count);
      const sampleStats = sampleLog?.stats();
      if (sampleStats !== undefined) {
        process.stderr.write(
          `sample log: kept ${sampleStats.linesWritten} of ${count} payments (${sampleRateBps} bps) in ${flags.sampleLog}${sampleStats.writeError === null ? "" : `; writing failed: ${sampleStats.writeError}, ${sampleStats.dropped} dropped`}\n`,
        );
      }
      const elapsedS = (performance.now() - startedMs) / 1000;
      process.stderr.write(
        `${ledger === undefined ? "evaluated" : "evaluated and applied through the ledger"} ${count} payments against ${campaigns} campaigns in ${elapsedS.toFixed(2)} s (generation included)\n`,
      );
      const report = summary.report();
      const { seed, tps, seconds, startMs } = generator.options;
      if (flags.json === true) {
        process.stdout.write(
          `${JSON.stringify({ seed, tps, seconds, startMs, campaigns, ...report, ...(ledgerReport === undefined ? {} : { ledger: ledgerReport }) })}\n`,
        );
      } else {
        process.stdout.write(
          formatRunReport(
            report,
            `seed ${seed}, ${tps} payments/s for ${seconds} s, ${campaigns} campaigns from ${source}`,
          ),
        );
        if (ledgerReport !== undefined) process.stdout.write(formatLedgerReport(ledgerReport));
      }
      // A ledger that breaks an invariant is a finding, like an invalid configuration.
      outcome.exitCode =
        ledgerReport === undefined || ledgerReport.verification.ok ? EXIT_OK : EXIT_FINDINGS;
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

function formatLedgerReport(report: LedgerRunReport): string {
  const counts = (record: Record<string, number>) =>
    Object.entries(record).map(([code, count]) => `  ${code.padEnd(36)} ${count}`);
  const lines = [
    "",
    `ledger: ${report.path}`,
    `applied: ${report.applied} (${report.replayed} replayed stored answers), reserved ${yuan(report.reservedMinor)}, committed ${yuan(report.committedMinor)}`,
    "answers:",
    ...counts(report.answers),
    "subsidies refused by a limit:",
    ...counts(report.refusedSubsidies),
    `verify: ${report.verification.budgets} budgets, ${report.verification.ok ? "every invariant holds" : `${report.verification.violations.length} violations`}`,
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

interface ServedEvaluator {
  readonly evaluator: { quote(payment: Payment): Decision };
  readonly campaigns: number;
  readonly source: string;
  /** The configuration files' snapshot; absent when the control store serves. */
  readonly snapshot?: Snapshot;
  readonly rollout?: RolloutRunner;
  /** The rollout runner inside the runtime guard, with `--guard`. */
  readonly guarded?: GuardedRunner;
  readonly clock: { nowMs: number };
  close(): Promise<void>;
}

/**
 * What the run evaluates with: the configuration files, or what the control store serves, with
 * its rollout judged on the run's own clock (payment time), as a server judges on wall time.
 */
async function servedEvaluator(
  flags: {
    campaigns: string;
    control?: string;
    controlDatabase?: string;
    controlSchema: string;
    guard: boolean;
    /** With `guard`: this process's declared share of the traffic; absent, the whole. */
    trafficShareBps: number | undefined;
  },
  seed: number,
  judgeEverySeconds: number,
  say: (message: string) => void,
  outcome: ExitCodeHolder,
): Promise<ServedEvaluator | undefined> {
  const clock = { nowMs: 0 };
  if (flags.control === undefined && flags.controlDatabase === undefined) {
    const loaded = await loadSnapshot([flags.campaigns], seed);
    if (!loaded.ok) {
      for (const finding of loaded.findings) process.stderr.write(`${formatFinding(finding)}\n`);
      process.stderr.write(`bursar run: ${loaded.message}\n`);
      outcome.exitCode = EXIT_FINDINGS;
      return undefined;
    }
    const evaluator = createFastEvaluator(loaded.snapshot);
    return {
      evaluator,
      campaigns: loaded.snapshot.campaigns.length,
      source: flags.campaigns,
      snapshot: loaded.snapshot,
      clock,
      close: async () => {},
    };
  }
  const storeFlags = {
    data: flags.control ?? "./.bursar",
    schema: flags.controlSchema,
    ...(flags.controlDatabase === undefined ? {} : { database: flags.controlDatabase }),
  };
  const opened: { close(): Promise<void> }[] = [];
  try {
    const store = await openChangeStore(storeFlags);
    opened.push(store);
    const service = new ChangeService({
      store,
      // A run judges rollouts and never submits changes.
      assess: async () => ({ findings: [] }),
      now: () => new Date(clock.nowMs).toISOString(),
    });
    const campaigns = (await service.activeDocuments()).filter(
      (document) => document.kind === "campaign",
    ).length;
    const rollout = await RolloutRunner.open(service, {
      randomSeed: seed,
      judgeEveryMs: judgeEverySeconds * 1000,
    });
    let guarded: GuardedRunner | undefined;
    if (flags.guard) {
      const kills = await openKillStore(storeFlags);
      opened.push(kills);
      const incidents = await openIncidentStore(storeFlags);
      opened.push(incidents);
      const incidentService = new IncidentService({ store: incidents, nowMs: () => clock.nowMs });
      const evaluatorId = processEvaluatorId("run");
      // The kills this run obeys that other processes published are confirmed on their
      // incidents too (docs/reference/kill-switch.md, "Confirmations"); a failure is said, a kill
      // without an incident is not (the run usually ends before it is given up).
      const confirmer = new KillConfirmer({
        incidents: incidentService,
        evaluatorId,
        nowMs: () => clock.nowMs,
        onOutcome: (confirmation) => {
          if (confirmation.code === "store_failed" || confirmation.code === "incident_refused") {
            process.stderr.write(
              `guard: kill ${confirmation.killSequence} not confirmed (${confirmation.code}${confirmation.retrying ? ", retrying" : ""}): ${confirmation.message}\n`,
            );
          }
        },
      });
      // Closed before the incident store: a confirmation in flight is written first.
      opened.push({ close: () => confirmer.stop() });
      guarded = await GuardedRunner.open({
        runner: rollout,
        changes: service,
        kills,
        incidents: incidentService,
        nowMs: () => clock.nowMs,
        evaluatorId,
        onKillsObeyed: (obeyed, atMs) => confirmer.obeyed(obeyed, atMs),
        guard: {
          policy: withTrafficShare(
            DEFAULT_GUARD_POLICY,
            flags.trafficShareBps ?? WHOLE_TRAFFIC_BPS,
          ),
        },
      });
    }
    const close = async () => {
      for (const resource of opened.reverse()) await resource.close();
    };
    return {
      evaluator: guarded ?? rollout,
      campaigns,
      source: `${flags.controlDatabase ?? flags.control} (control store${guardedNote(guarded)})`,
      rollout,
      ...(guarded === undefined ? {} : { guarded }),
      clock,
      close,
    };
  } catch (cause) {
    for (const resource of opened.reverse()) await resource.close().catch(() => {});
    say(
      `--control ${flags.controlDatabase ?? flags.control}: ${cause instanceof Error ? cause.message : String(cause)}`,
    );
    return undefined;
  }
}

/** How the run's report names its guard: absent, the whole traffic, or the share declared. */
function guardedNote(guarded: GuardedRunner | undefined): string {
  if (guarded === undefined) return "";
  const share = guarded.trafficShareBps;
  return share === WHOLE_TRAFFIC_BPS
    ? ", guarded"
    : `, guarded at a traffic share of ${share / WHOLE_TRAFFIC_BPS}`;
}
