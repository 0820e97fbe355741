/**
 * `bursar demo incident`: the 2025-01-16 replay (DESIGN §5, CONTRACTS.md "The replay",
 * docs/reference/replay.md). The same five minutes with and without Bursar, side by side; with
 * `--json`, exactly one JSON object on stdout and the progress on stderr. With `--guard-mode`,
 * the edit happens in an external engine and Bursar checks its proposals in guard mode
 * (docs/reference/guard-mode.md): the same shape, the external engine in place of Bursar's own
 * campaigns.
 */
import { fileURLToPath } from "node:url";
import type { Command } from "@commander-js/extra-typings";
import { loadConfig } from "../../config/load-config.ts";
import type { Incident } from "../../core/guard/incident.ts";
import type { ImpactReport } from "../../core/ledger/impact-report.ts";
import type { ConfigSet } from "../../core/model/config-set.ts";
import type { ConfigDocument } from "../../core/model/document.ts";
import { formatMinor } from "../../core/money.ts";
import { offsetMsAt } from "../../core/time-zone.ts";
import { type GuardModeReplay, runGuardModeReplay } from "../../demo/guard-mode-replay.ts";
import type { GuardModeOutcome } from "../../demo/guard-mode-world.ts";
import {
  type GuardedRun,
  type IncidentReplay,
  REPLAY_DEFAULTS,
  REPLAY_LIMITS,
  runIncidentReplay,
} from "../../demo/incident-replay.ts";
import type { ReplayRun } from "../../demo/replay-run.ts";
import { EXIT_OK, type ExitCodeHolder } from "../exit-codes.ts";
import { parseSeed, parseWholeNumber } from "../options.ts";
import { complainer, reasonOf } from "../traffic-flags.ts";

/** The examples shipped with the package: the configuration in force before 14:40. */
const EXAMPLES_DIR = fileURLToPath(new URL("../../../examples/", import.meta.url));
const TIME_ZONE = "Asia/Shanghai";
const SPLIT_ROWS_SHOWN = 6;

export function registerDemoCommands(program: Command, outcome: ExitCodeHolder): void {
  const demo = program.command("demo").description("Demonstrations over seeded traffic.");
  demo
    .command("incident")
    .description(
      "Replay 2025-01-16 14:40: the bad template edit without Bursar and forced through it, side by side.",
    )
    .option(
      "--seed <n>",
      "seed of the traffic and of everything drawn",
      String(REPLAY_DEFAULTS.seed),
    )
    .option("--tps <n>", "mean payments per second", String(REPLAY_DEFAULTS.tps))
    .option("--json", "print the replay as one JSON object (CONTRACTS.md)")
    .option("--no-threads", "run the two guarded runs on the main thread, one after the other")
    .option(
      "--guard-mode",
      "the edit happens in an external engine; Bursar checks its proposals in guard mode",
    )
    .option(
      "--unregistered",
      "with --guard-mode: the external engine's campaigns are not registered with the guard",
    )
    .action(async (flags) => {
      const say = complainer("bursar demo incident", outcome);
      const seed = parseSeed(flags.seed);
      if (seed === undefined)
        return say(
          `--seed: expected a whole number in 0..${REPLAY_LIMITS.seedMax}, got ${flags.seed}`,
        );
      if (flags.unregistered === true && flags.guardMode !== true)
        return say("--unregistered: only with --guard-mode (it is about the external engine)");
      const tps = parseWholeNumber(flags.tps, 1, REPLAY_LIMITS.tpsMax);
      if (tps === undefined)
        return say(
          `--tps: expected a whole number in 1..${REPLAY_LIMITS.tpsMax}, got ${flags.tps}`,
        );
      let examples: ConfigDocument[];
      try {
        examples = await loadExamples();
      } catch (cause) {
        return say(`cannot load the examples in ${EXAMPLES_DIR}: ${reasonOf(cause)}`);
      }
      const bar = new ProgressBar();
      const onProgress = (doneMs: number, totalMs: number) => bar.show(doneMs, totalMs);
      const options = { seed, tps, examples, threads: flags.threads, onProgress };
      // Both replays print the contract's JSON, or their own table.
      const output =
        flags.guardMode === true
          ? await runGuardModeReplay({
              ...options,
              registered: flags.unregistered !== true,
            }).then((replay) =>
              flags.json === true
                ? `${JSON.stringify(replay.json)}\n`
                : formatGuardModeReplay(replay),
            )
          : await runIncidentReplay(options).then((replay) =>
              flags.json === true ? `${JSON.stringify(replay.json)}\n` : formatReplay(replay),
            );
      bar.finish();
      process.stdout.write(output);
      outcome.exitCode = EXIT_OK;
    });
}

async function loadExamples(): Promise<ConfigDocument[]> {
  const loaded = await loadConfig([EXAMPLES_DIR]);
  const errors = loaded.findings.filter((finding) => finding.severity === "error");
  if (errors.length > 0) throw new Error(`${errors.length} error(s), e.g. ${errors[0]!.message}`);
  return documentsOf(loaded.config);
}

function documentsOf(config: ConfigSet): ConfigDocument[] {
  return [
    ...config.templates.values(),
    ...config.programs.values(),
    ...config.campaigns.map((effective) => effective.campaign),
    ...(config.envelope === undefined ? [] : [config.envelope]),
  ];
}

/** A bar on a terminal (redrawn in place); otherwise a line every simulated minute. */
class ProgressBar {
  private readonly tty = process.stderr.isTTY === true;
  private lastMinute = -1;
  private drawnWidth = 0;

  show(doneMs: number, totalMs: number): void {
    const share = Math.min(1, doneMs / totalMs);
    const text = `replaying ${bar(share)} ${clock(doneMs)} / ${clock(totalMs)} simulated (warm-up minute, then 14:40:00–14:45:00)`;
    if (this.tty) {
      process.stderr.write(`\r${text}`);
      this.drawnWidth = text.length;
      return;
    }
    const minute = Math.floor(doneMs / 60_000);
    if (minute !== this.lastMinute) {
      this.lastMinute = minute;
      process.stderr.write(`${text}\n`);
    }
  }

  finish(): void {
    if (this.tty && this.drawnWidth > 0) process.stderr.write("\n");
  }
}

function bar(share: number): string {
  const width = 30;
  const filled = Math.round(share * width);
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}]`;
}

function clock(ms: number): string {
  const seconds = Math.floor(ms / 1_000);
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

export function formatReplay(replay: IncidentReplay): string {
  const { json } = replay;
  const lines: string[] = [];
  lines.push(
    `The 2025-01-16 replay: seed ${json.seed}, ${json.tps.toLocaleString("en")} payments/s, ${json.simulatedSeconds} simulated seconds from 14:40:00 (${TIME_ZONE}).`,
    "The change: the routine instant-discount template, 0.50 yuan off -> 20 % off (cap 200 yuan), inherited by every campaign using it;",
    "the original also makes the funds type government (the government-subsidy label) and allows every scenario.",
    "",
    json.guarded.blockedAtLint
      ? `Bursar's lint blocks it: ${json.guarded.lintCodes.join(", ")}.`
      : "Bursar's lint did not block it.",
    "Then two administrators force it past lint and approval, and it rolls out by the default staged plan (1 % first).",
    "",
  );
  lines.push(
    ...runsTable([
      ["no Bursar, original", json.unguarded],
      ["no Bursar, variant", json.unguardedVariant],
      ["Bursar, original forced", json.guarded.forcedAsIs],
      ["Bursar, variant forced", json.guarded.forced],
    ]),
  );
  lines.push(
    "",
    `Leaked between the trip and the last evaluator obeying the kill (variant): ${formatMinor(json.guarded.forced.leakedUntilLastEvaluatorStopsMinor, "CNY")} yuan.`,
  );
  if (json.unguardedVariant.subsidyMinor > 0) {
    const shareBps =
      (json.guarded.forced.subsidyMinor * 10_000) / json.unguardedVariant.subsidyMinor;
    lines.push(
      `The variant forced through Bursar cost ${(shareBps / 100).toFixed(5)} % of what it cost without Bursar.`,
    );
  }
  for (const [name, outcome] of [
    ["original, forced", replay.forcedAsIs],
    ["variant, forced", replay.forced],
  ] as const) {
    lines.push("", `The ${name}:`);
    if (outcome.incident === null) {
      lines.push("  no incident: nothing the change introduced tripped a breaker");
    } else lines.push(...incidentLines(outcome.incident));
    for (const other of outcome.otherTrips) {
      lines.push(
        `  also tripped: ${other.trip.code} on ${other.trip.subject.kind} ${other.trip.subject.id} at ${localTime(other.trip.atMs)} (${other.response.incidentId ?? "no incident"})`,
      );
    }
    if (outcome.impact !== null) lines.push(...impactLines(outcome.impact));
  }
  lines.push("");
  return `${lines.join("\n")}\n`;
}

/** The runs side by side, one column each, as the replay's table. */
function runsTable(runs: readonly (readonly [string, ReplayRun | GuardedRun])[]): string[] {
  const rows: [string, (run: ReplayRun | GuardedRun) => string][] = [
    ["payments subsidised by the change", (run) => count(run.payments)],
    ["distinct users", (run) => count(run.users)],
    ["subsidy (yuan)", (run) => yuan(run.subsidyMinor)],
    [
      "window (first to last payment)",
      (run) => (run.payments === 0 ? "-" : duration(run.windowMs)),
    ],
    ["scenarios reached", (run) => count(run.scenarios.length)],
    ["regions reached", (run) => count(run.regions.length)],
    ["protected-scenario payments", (run) => count(run.protectedScenarioPayments)],
    [
      "detection after the first bad subsidy",
      (run) =>
        "detectionMs" in run
          ? run.detectionMs !== null
            ? duration(run.detectionMs)
            : run.payments === 0
              ? "none needed"
              : "never"
          : "never",
    ],
    ["incident severity", (run) => ("severity" in run ? (run.severity ?? "-") : "none opened")],
  ];
  const table = [
    ["", ...runs.map(([name]) => name)],
    ...rows.map(([name, cell]) => [name, ...runs.map(([, run]) => cell(run))]),
  ];
  const widths = table[0]!.map((_, column) => Math.max(...table.map((row) => row[column]!.length)));
  return table.map((row) =>
    row
      .map((cell, column) =>
        column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!),
      )
      .join("  "),
  );
}

/** The guard-mode replay: the external engine's edit, unchecked and checked by Bursar. */
export function formatGuardModeReplay(replay: GuardModeReplay): string {
  const { json } = replay;
  const lines: string[] = [];
  lines.push(
    `The 2025-01-16 replay in guard mode: seed ${json.seed}, ${json.tps.toLocaleString("en")} payments/s, ${json.simulatedSeconds} simulated seconds from 14:40:00 (${TIME_ZONE}).`,
    "An external promotion engine (the incident platform's: template scope, no envelope, no budgets) proposes its subsidy for every payment;",
    `Bursar, in guard mode in front of it (${REPLAY_DEFAULTS.evaluators} guard processes), allows, clamps or refuses each proposal.`,
    "The change: the routine instant-discount template, 0.50 yuan off -> 20 % off (cap 200 yuan), edited in the external engine at 14:40:00;",
    "the original also makes the funds type government (the government-subsidy label) and allows every scenario.",
    registrationLine(replay),
    "",
    "Bursar's lint never sees the edit: it is made in the external engine, outside Bursar's change pipeline (blockedAtLint false, lintCodes [] in --json).",
    "",
    ...runsTable([
      ["no Bursar, original", json.unguarded],
      ["no Bursar, variant", json.unguardedVariant],
      ["guard mode, original", json.guarded.forcedAsIs],
      ["guard mode, variant", json.guarded.forced],
    ]),
    "",
    `Allowed between the trip and the last guard process obeying the kill (variant): ${yuan(json.guarded.forced.leakedUntilLastEvaluatorStopsMinor)} yuan.`,
  );
  if (json.unguardedVariant.subsidyMinor > 0) {
    const shareBps =
      (json.guarded.forced.subsidyMinor * 10_000) / json.unguardedVariant.subsidyMinor;
    lines.push(
      `The variant behind the guard cost ${(shareBps / 100).toFixed(5)} % of what it cost without it.`,
    );
  }
  for (const [name, outcome] of [
    ["original, guard mode", replay.forcedAsIs],
    ["variant, guard mode", replay.forced],
  ] as const) {
    lines.push("", `The ${name}:`, ...checkLines(outcome));
    if (outcome.incident === null) {
      lines.push("  no incident: nothing Bursar allowed of the edit tripped a breaker");
    } else lines.push(...incidentLines(outcome.incident));
    for (const other of outcome.otherTrips) {
      lines.push(
        `  also tripped: ${other.trip.code} on ${other.trip.subject.kind} ${other.trip.subject.id} at ${localTime(other.trip.atMs)} (${other.response.incidentId ?? "no incident"})`,
      );
    }
    if (outcome.impact !== null) {
      lines.push(
        ...impactLines(outcome.impact, "  impact report (from the ledger of checked subsidies):"),
      );
    }
  }
  lines.push("");
  return `${lines.join("\n")}\n`;
}

function registrationLine(replay: GuardModeReplay): string {
  const [first] = replay.registrations;
  if (first === undefined) return "No external campaign is registered with the guard.";
  const most =
    first.perPaymentMaxMinor === undefined
      ? ""
      : `, at most ${yuan(first.perPaymentMaxMinor)} yuan a payment: the template's band maximum`;
  return `${replay.registrations.length} external campaigns are registered with the guard as declared before the edit (${first.funding} funding, ${first.label} label, the template's scenarios, each campaign's regions${most}).`;
}

/** How the guard answered the external engine's proposals from the edit on. */
function checkLines(outcome: GuardModeOutcome): string[] {
  const { checks } = outcome;
  const reasons = checks.refusedBy.map((entry) => `${entry.code} ${count(entry.count)}`);
  const bounds = checks.clampedBy.map((entry) => `${entry.bound} ${count(entry.count)}`);
  return [
    `  checked from 14:40:00: ${count(checks.payments)} payments, ${count(checks.proposals)} proposals of ${yuan(checks.proposedMinor)} yuan; allowed ${count(checks.allowed)}, clamped ${count(checks.clamped)}${bounds.length === 0 ? "" : ` (${bounds.join(", ")})`}, refused ${count(checks.refused)}${reasons.length === 0 ? "" : ` (${reasons.join(", ")})`}; ${yuan(checks.allowedMinor)} yuan allowed`,
    ...(outcome.settled === null
      ? []
      : [
          `  checking stopped at ${localTime(outcome.settled.atMs)}: ${
            outcome.settled.reason === "killed_everywhere"
              ? "every campaign the engine proposes for was killed in every guard process"
              : "every proposal of the edited engine contradicts its campaign's registration (funding or label), so nothing more can be allowed"
          }`,
        ]),
  ];
}

function incidentLines(incident: Incident): string[] {
  const lines = [
    `  incident ${incident.id} (${incident.severity}, ${incident.state}): ${incident.title}`,
    "  timeline:",
  ];
  for (const entry of incident.timeline) {
    lines.push(`    ${localTime(entry.atMs)}  ${entry.kind.padEnd(24)} ${entry.summary}`);
  }
  return lines;
}

function impactLines(
  impact: ImpactReport,
  heading = "  impact report (from the ledger):",
): string[] {
  const { totals, window } = impact;
  const lines = [
    heading,
    `    window ${window.firstAtMs === null ? "-" : localTime(window.firstAtMs)} to ${window.lastAtMs === null ? "-" : localTime(window.lastAtMs)}; ${count(totals.payments)} payments, ${count(totals.users)} users`,
    `    reserved ${formatMinor(totals.reservedMinor, "CNY")}, committed ${formatMinor(totals.committedMinor, "CNY")}, returned ${formatMinor(totals.returnedMinor, "CNY")} yuan (net ${formatMinor(totals.netMinor, "CNY")})`,
  ];
  for (const split of ["scenario", "region", "funder", "campaign_version"] as const) {
    const rows = impact.splits[split].rows.slice(0, SPLIT_ROWS_SHOWN);
    if (rows.length === 0) continue;
    const more = impact.splits[split].rows.length - rows.length + impact.splits[split].omitted;
    lines.push(
      `    by ${split.replace("_", " ")}: ${rows.map((row) => `${row.key || "(unrecorded)"} ${formatMinor(row.netMinor, "CNY")}`).join(", ")}${more > 0 ? `, and ${more} more` : ""}`,
    );
  }
  return lines;
}

/** Yuan with thousands separated: 103,482,365.62. */
function yuan(amountMinor: number): string {
  const [whole, fraction] = formatMinor(amountMinor, "CNY").split(".");
  return `${Number(whole).toLocaleString("en")}.${fraction}`;
}

function count(value: number): string {
  return value.toLocaleString("en");
}

function duration(ms: number): string {
  return ms < 60_000 ? `${(ms / 1_000).toFixed(3)} s` : `${clock(ms)} min`;
}

function localTime(atMs: number): string {
  const local = new Date(atMs + offsetMsAt(atMs, TIME_ZONE));
  return local.toISOString().slice(11, 23);
}
