/**
 * `bursar incident …`: incidents from the command line (docs/reference/incidents.md). The store is
 * the data directory's control.sqlite, or PostgreSQL with `--database`; every action is audited
 * under the name `--as` gives, at the instant `--at` gives (now by default). Breakers open
 * incidents through the service; a person opens one here with a reason.
 */
import { readFileSync } from "node:fs";
import type { Command } from "@commander-js/extra-typings";
import {
  type CampaignVersionRef,
  INCIDENT_TIMELINE_KINDS,
  type Incident,
  type IncidentBlame,
  type IncidentTimelineKind,
  severityPolicyProblems,
  type TimelineDetails,
} from "../../core/guard/incident.ts";
import type { IncidentResult } from "../../core/guard/incident-codes.ts";
import { INCIDENT_STATES, type IncidentState } from "../../core/guard/incident-lifecycle.ts";
import {
  DEFAULT_SEVERITY_POLICY,
  type IncidentImpact,
  SEVERITIES,
  type Severity,
  type SeverityPolicy,
} from "../../core/guard/severity-policy.ts";
import { formatMinor } from "../../core/money.ts";
import { IncidentService, type ReleaseReservations } from "../../guard/incident-service.ts";
import type { IncidentStore } from "../../guard/incident-store.ts";
import { openIncidentStore } from "../../stores/control-stores.ts";
import { EXIT_FINDINGS, EXIT_OK, EXIT_UNUSABLE_INPUT, type ExitCodeHolder } from "../exit-codes.ts";
import { type LedgerLocation, RemediationLedger } from "../remediation-ledger.ts";
import { complainer, parseInstantWithOffset, reasonOf } from "../traffic-flags.ts";

interface CommonFlags {
  data: string;
  database?: string;
  schema: string;
  json?: boolean;
  at?: string;
  as?: string;
  severityPolicy?: string;
}

const ACTOR_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@+-]{0,127}$/;
/** A policy file is a few hundred bytes; anything far larger is not one. */
const POLICY_FILE_BYTES_MAX = 64 * 1024;
/** Timeline entries `show` prints; longer timelines end with a count (`--json` has them all). */
const TIMELINE_SHOWN_MAX = 100;

type Say = (message: string) => void;

export function registerIncidentCommands(program: Command, outcome: ExitCodeHolder): void {
  const incident = program
    .command("incident")
    .description(
      "Incidents: list, show, open by hand, acknowledge, note, mitigate, remediate, resolve.",
    )
    .option("--data <dir>", "data directory holding control.sqlite", "./.bursar")
    .option("--database <url>", "a PostgreSQL database (postgres://…) instead of --data")
    .option("--schema <name>", "the PostgreSQL schema", "bursar")
    .option("--at <instant>", "act at this instant (ISO 8601 with offset) instead of now")
    .option("--json", "print one JSON object")
    .option("--as <id>", "who acts")
    .option(
      "--severity-policy <file>",
      "a JSON file of severity thresholds over the documented defaults (docs/reference/incidents.md)",
    )
    .configureHelp({ showGlobalOptions: true });
  const shared = (): CommonFlags => incident.opts();
  const say = complainer("bursar incident", outcome);
  const actor = (): string | undefined => {
    const name = shared().as;
    if (name === undefined) return void say("--as: name who acts");
    if (!ACTOR_PATTERN.test(name)) {
      return void say(
        `--as: expected letters, digits and . _ : @ + - (at most 128), got ${JSON.stringify(name)}`,
      );
    }
    return name;
  };
  const run = (act: (service: IncidentService, store: IncidentStore) => Promise<Printable>) =>
    withService(shared(), outcome, say, act);

  incident
    .command("list")
    .description("Incidents, newest opened first.")
    .option("--state <state>", `only those in this state (${INCIDENT_STATES.join(", ")})`)
    .option("--limit <n>", "at most this many (1 to 1,000)", "50")
    .action(async (flags) => {
      const limit = Number(flags.limit);
      if (!/^\d{1,4}$/.test(flags.limit) || limit < 1 || limit > 1_000)
        return say("--limit: expected 1 to 1,000");
      if (
        flags.state !== undefined &&
        !(INCIDENT_STATES as readonly string[]).includes(flags.state)
      )
        return say(`--state: expected one of ${INCIDENT_STATES.join(", ")}`);
      const state = flags.state as IncidentState | undefined;
      await run(async (service) => {
        const incidents = await service.list({ ...(state === undefined ? {} : { state }), limit });
        return { list: incidents };
      });
    });

  incident
    .command("show")
    .description("An incident: severity with its reasons, impact, what it blames, the timeline.")
    .argument("<id>", "the incident")
    .action(async (id) => {
      await run(async (service) => {
        const found = await service.get(id);
        return {
          result:
            found === undefined
              ? { ok: false, code: "incident.not_found", message: `no incident ${id}` }
              : { ok: true, incident: found },
        };
      });
    });

  incident
    .command("open")
    .description("Open an incident by hand, with a reason and what is known of its impact.")
    .requiredOption("--title <text>", "what is happening")
    .requiredOption("--reason <text>", "why it is an incident")
    .option("--severity <P0-P4>", "at least this severity (the policy may judge it worse)")
    .option("--window-start <instant>", "when the anomaly began (default: now)")
    .option("--at-risk-per-minute <minor>", "subsidy granted in the last minute", "0")
    .option("--cumulative <minor>", "subsidy granted since it began", "0")
    .option("--payment-share-bps <bps>", "share of payments subsidised wrongly", "0")
    .option("--scenarios <n>", "payment scenarios reached", "0")
    .option("--regions <n>", "regions reached", "0")
    .option("--core-flows", "a protected scenario or payments to individuals were touched")
    .option("--change <ids...>", "blamed change requests")
    .option("--campaign <id@version...>", "blamed campaign versions")
    .option("--template <ids...>", "blamed templates")
    .option("--funder <ids...>", "funders whose money was spent")
    .action(async (flags) => {
      const person = actor();
      if (person === undefined) return;
      const impact = impactOf(flags, say);
      const blame = blameOf(flags, say);
      if (impact === undefined || blame === undefined) return;
      if (
        flags.severity !== undefined &&
        !(SEVERITIES as readonly string[]).includes(flags.severity)
      )
        return say(`--severity: expected one of ${SEVERITIES.join(", ")}`);
      let windowStartMs: number | undefined;
      if (flags.windowStart !== undefined) {
        windowStartMs = parseInstantWithOffset(flags.windowStart);
        if (windowStartMs === undefined)
          return say("--window-start: expected an instant with its offset");
      }
      await run(async (service) => ({
        result: await service.openByHand(person, {
          title: flags.title,
          reason: flags.reason,
          impact,
          blame,
          ...(windowStartMs === undefined ? {} : { windowStartMs }),
          ...(flags.severity === undefined ? {} : { severity: flags.severity as Severity }),
        }),
      }));
    });

  incident
    .command("acknowledge")
    .description("Say you have it (once per incident).")
    .argument("<id>", "the incident")
    .action(async (id) => {
      const person = actor();
      if (person === undefined) return;
      await run(async (service) => ({ result: await service.acknowledge(person, id) }));
    });

  incident
    .command("note")
    .description(
      "Add a timeline entry: a note, or an event another tool saw (--kind, with its --detail keys).",
    )
    .argument("<id>", "the incident")
    .requiredOption("--text <text>", "what happened")
    .option("--kind <kind>", "the entry's kind (note, change_approved, kill_confirmed, …)", "note")
    .option("--when <instant>", "when it happened (default: --at, or now)")
    .option("--detail <key=value...>", "details; whole numbers are kept as numbers")
    .action(async (id, flags) => {
      const person = actor();
      if (person === undefined) return;
      if (!Object.hasOwn(INCIDENT_TIMELINE_KINDS, flags.kind))
        return say(`--kind: expected one of ${Object.keys(INCIDENT_TIMELINE_KINDS).join(", ")}`);
      const details = detailsOf(flags.detail ?? [], say);
      if (details === undefined) return;
      let whenMs: number | undefined;
      if (flags.when !== undefined) {
        whenMs = parseInstantWithOffset(flags.when);
        if (whenMs === undefined) return say("--when: expected an instant with its offset");
      }
      await run(async (service) => ({
        result: await service.addTimeline(id, {
          kind: flags.kind as IncidentTimelineKind,
          atMs: whenMs ?? clockOf(shared())!(),
          byId: person,
          summary: flags.text,
          details,
        }),
      }));
    });

  incident
    .command("raise")
    .description("Raise the severity (it never goes down), with a reason.")
    .argument("<id>", "the incident")
    .requiredOption("--severity <P0-P3>", "the new, higher severity")
    .requiredOption("--reason <text>", "why")
    .action(async (id, flags) => {
      const person = actor();
      if (person === undefined) return;
      await run(async (service) => ({
        result: await service.raiseSeverity(person, id, flags.severity as Severity, flags.reason),
      }));
    });

  incident
    .command("mitigate")
    .description("The money stopped flowing (rolled back, killed and confirmed).")
    .argument("<id>", "the incident")
    .requiredOption("--reason <text>", "how it was stopped")
    .action(async (id, flags) => {
      const person = actor();
      if (person === undefined) return;
      await run(async (service) => ({ result: await service.mitigate(person, id, flags.reason) }));
    });

  incident
    .command("remediate")
    .description(
      "Record the remediation decision: absorb the cost (never a request to users to pay back), with the reservations released.",
    )
    .argument("<id>", "the incident")
    .requiredOption("--reason <text>", "why, and who agreed")
    .requiredOption("--absorbed <minor>", "subsidy already committed to users that is absorbed")
    .option(
      "--released-count <n>",
      "uncommitted reservations of the blamed versions released elsewhere (a ledger this command does not reach)",
    )
    .option("--released <minor>", "their amount")
    .option(
      "--release",
      "release them now from the ledger beside the control store: ledger.db in --data, or --database",
    )
    .option("--ledger-data <dir>", "release them now from the embedded ledger in DIR/ledger.db")
    .option("--ledger-database <url>", "release them now from a PostgreSQL ledger")
    .option("--ledger-schema <name>", "the PostgreSQL ledger's schema (default: --schema)")
    .action(async (id, flags) => {
      const person = actor();
      if (person === undefined) return;
      const figures = wholeNumbers(
        {
          "--absorbed": flags.absorbed,
          "--released-count": flags.releasedCount ?? "0",
          "--released": flags.released ?? "0",
        },
        say,
      );
      if (figures === undefined) return;
      const location = remediationLedgerOf(shared(), flags, say);
      if (location === null) return;
      if (location !== undefined && (flags.releasedCount ?? flags.released) !== undefined) {
        return say(
          "--released-count/--released record a release made elsewhere; with a ledger to release from, this command counts what it releases",
        );
      }
      const ledger = location === undefined ? undefined : new RemediationLedger(location);
      try {
        await withService(
          shared(),
          outcome,
          say,
          async (service) => ({
            result: await service.recordRemediation(person, id, {
              reason: flags.reason,
              costAbsorbedMinor: figures["--absorbed"]!,
              // Without it the service releases through the ledger port below (after its checks).
              ...(ledger === undefined
                ? {
                    reservationsReleased: {
                      count: figures["--released-count"]!,
                      amountMinor: figures["--released"]!,
                    },
                  }
                : {}),
            }),
          }),
          ledger?.release,
        );
      } finally {
        await ledger?.close();
      }
    });

  incident
    .command("resolve")
    .description("Close a mitigated incident whose remediation is recorded.")
    .argument("<id>", "the incident")
    .requiredOption("--reason <text>", "why it is over")
    .action(async (id, flags) => {
      const person = actor();
      if (person === undefined) return;
      await run(async (service) => ({ result: await service.resolve(person, id, flags.reason) }));
    });
}

type Printable =
  | { readonly result: IncidentResult<{ incident: Incident }> }
  | { readonly list: readonly Incident[] }
  | undefined;

function clockOf(flags: CommonFlags): (() => number) | undefined {
  if (flags.at === undefined) return () => Date.now();
  const atMs = parseInstantWithOffset(flags.at);
  return atMs === undefined ? undefined : () => atMs;
}

/** The documented defaults with the thresholds a policy file overrides, checked whole. */
export function severityPolicyFromFile(path: string): {
  policy?: SeverityPolicy;
  problem?: string;
} {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (cause) {
    return { problem: `${path}: ${reasonOf(cause)}` };
  }
  if (text.length > POLICY_FILE_BYTES_MAX) return { problem: `${path}: larger than 64 KiB` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { problem: `${path}: not JSON` };
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    return { problem: `${path}: expected an object of thresholds` };
  const unknown = Object.keys(parsed).filter((key) => !Object.hasOwn(DEFAULT_SEVERITY_POLICY, key));
  if (unknown.length > 0) return { problem: `${path}: unknown measure ${unknown.join(", ")}` };
  const policy = { ...DEFAULT_SEVERITY_POLICY, ...parsed } as SeverityPolicy;
  const problems = severityPolicyProblems(policy);
  return problems.length > 0
    ? { problem: `${path}: ${problems.join("; ")} [incident.policy_invalid]` }
    : { policy };
}

function wholeNumbers<K extends string>(
  flags: Record<K, string>,
  say: Say,
): Record<K, number> | undefined {
  const values = {} as Record<K, number>;
  for (const [name, text] of Object.entries(flags) as [K, string][]) {
    if (!/^\d{1,16}$/.test(text) || !Number.isSafeInteger(Number(text))) {
      say(`${name}: expected a whole number, got ${JSON.stringify(text)}`);
      return undefined;
    }
    values[name] = Number(text);
  }
  return values;
}

function impactOf(
  flags: {
    atRiskPerMinute: string;
    cumulative: string;
    paymentShareBps: string;
    scenarios: string;
    regions: string;
    coreFlows?: boolean;
  },
  say: Say,
): IncidentImpact | undefined {
  const figures = wholeNumbers(
    {
      "--at-risk-per-minute": flags.atRiskPerMinute,
      "--cumulative": flags.cumulative,
      "--payment-share-bps": flags.paymentShareBps,
      "--scenarios": flags.scenarios,
      "--regions": flags.regions,
    },
    say,
  );
  if (figures === undefined) return undefined;
  return {
    atRiskPerMinuteMinor: figures["--at-risk-per-minute"],
    cumulativeMinor: figures["--cumulative"],
    paymentShareBps: figures["--payment-share-bps"],
    scenarios: figures["--scenarios"],
    regions: figures["--regions"],
    coreFlows: flags.coreFlows === true,
  };
}

function blameOf(
  flags: { change?: string[]; campaign?: string[]; template?: string[]; funder?: string[] },
  say: Say,
): IncidentBlame | undefined {
  const campaignVersions: CampaignVersionRef[] = [];
  for (const text of flags.campaign ?? []) {
    const match = /^(.+)@(\d{1,9})$/.exec(text);
    if (match === null)
      return void say(`--campaign: expected ID@VERSION, got ${JSON.stringify(text)}`);
    campaignVersions.push({ campaignId: match[1]!, version: Number(match[2]) });
  }
  return {
    changeIds: flags.change ?? [],
    campaignVersions,
    templateIds: flags.template ?? [],
    funders: flags.funder ?? [],
  };
}

function detailsOf(pairs: readonly string[], say: Say): TimelineDetails | undefined {
  const details: Record<string, string | number> = {};
  for (const pair of pairs) {
    const split = pair.indexOf("=");
    if (split < 1) return void say(`--detail: expected KEY=VALUE, got ${JSON.stringify(pair)}`);
    const value = pair.slice(split + 1);
    details[pair.slice(0, split)] = /^-?\d{1,15}$/.test(value) ? Number(value) : value;
  }
  return details;
}

/** Opens the store, runs one service call, prints its result, and sets the exit code. */
async function withService(
  flags: CommonFlags,
  outcome: ExitCodeHolder,
  say: Say,
  act: (service: IncidentService, store: IncidentStore) => Promise<Printable>,
  releaseWith?: (nowMs: () => number) => ReleaseReservations,
): Promise<void> {
  const nowMs = clockOf(flags);
  if (nowMs === undefined)
    return say(
      `--at: expected an instant with its offset, such as 2025-01-16T14:40:00+08:00, got ${JSON.stringify(flags.at)}`,
    );
  let severityPolicy: SeverityPolicy | undefined;
  if (flags.severityPolicy !== undefined) {
    const loaded = severityPolicyFromFile(flags.severityPolicy);
    if (loaded.problem !== undefined) return say(`--severity-policy ${loaded.problem}`);
    severityPolicy = loaded.policy;
  }
  let store: IncidentStore | undefined;
  try {
    store = await openIncidentStore(flags);
    const service = new IncidentService({
      store,
      nowMs,
      ...(severityPolicy === undefined ? {} : { severityPolicy }),
      ...(releaseWith === undefined ? {} : { releaseReservations: releaseWith(nowMs) }),
    });
    const printable = await act(service, store);
    if (printable === undefined) return;
    if ("list" in printable) {
      if (flags.json)
        process.stdout.write(`${JSON.stringify({ incidents: printable.list.map(summaryOf) })}\n`);
      else for (const item of printable.list) process.stdout.write(`${summaryLine(item)}\n`);
      outcome.exitCode = EXIT_OK;
      return;
    }
    const { result } = printable;
    if (flags.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else if (result.ok)
      for (const line of formatIncident(result.incident)) process.stdout.write(`${line}\n`);
    else process.stdout.write(`refused: ${result.code}: ${result.message}\n`);
    outcome.exitCode = result.ok ? EXIT_OK : EXIT_FINDINGS;
  } catch (cause) {
    say(reasonOf(cause));
    outcome.exitCode = EXIT_UNUSABLE_INPUT;
  } finally {
    await store?.close();
  }
}

function summaryOf(incident: Incident) {
  return {
    id: incident.id,
    state: incident.state,
    severity: incident.severity,
    title: incident.title,
    openedAtMs: incident.openedAtMs,
    acknowledged: incident.acknowledged !== undefined,
    cumulativeMinor: incident.impact.cumulativeMinor,
  };
}

function summaryLine(incident: Incident): string {
  return [
    incident.id,
    incident.severity,
    incident.state,
    incident.acknowledged === undefined ? "unacknowledged" : "acknowledged",
    new Date(incident.openedAtMs).toISOString(),
    incident.title,
  ].join("\t");
}

function money(minor: number): string {
  return `${formatMinor(minor, "CNY")} CNY`;
}

/** An incident as on-call reads it: severity and why, the money, the blame, then the timeline. */
export function formatIncident(incident: Incident): string[] {
  const opener =
    incident.openedBy.kind === "breaker"
      ? `breaker ${incident.openedBy.breakerId} (${incident.openedBy.tripCode})`
      : `${incident.openedBy.personId}: ${incident.openedBy.reason}`;
  const because =
    incident.because.map((item) => `${item.measure} (${item.severity})`).join(", ") ||
    "below every threshold";
  const impact = incident.impact;
  const blame = incident.blame;
  const lines = [
    `${incident.id}  ${incident.severity}  ${incident.state}  "${incident.title}"`,
    `  severity ${incident.severity} because: ${because}`,
    `  opened ${new Date(incident.openedAtMs).toISOString()} by ${opener}; window from ${new Date(incident.windowStartMs).toISOString()}`,
    `  ${incident.acknowledged === undefined ? "NOT ACKNOWLEDGED" : `acknowledged by ${incident.acknowledged.byId} at ${new Date(incident.acknowledged.atMs).toISOString()}`}`,
    `  impact (peaks): at risk ${money(impact.atRiskPerMinuteMinor)}/min, cumulative ${money(impact.cumulativeMinor)}, ${(impact.paymentShareBps / 100).toFixed(2)} % of payments, ${impact.scenarios} scenario(s), ${impact.regions} region(s)${impact.coreFlows ? ", CORE FLOWS touched" : ""}`,
    `  blames: changes ${list(blame.changeIds)}; campaign versions ${list(blame.campaignVersions.map((ref) => `${ref.campaignId}@${ref.version}`))}; templates ${list(blame.templateIds)}; funders ${list(blame.funders)}`,
  ];
  if (incident.declared !== undefined) {
    lines.push(
      `  declared ${incident.declared.severity} by ${incident.declared.byId}: ${incident.declared.reason}`,
    );
  }
  const remediation = incident.remediation;
  if (remediation !== undefined) {
    lines.push(
      `  remediation: ${remediation.decision} ${money(remediation.costAbsorbedMinor)}; released ${remediation.reservationsReleased.count} reservation(s), ${money(remediation.reservationsReleased.amountMinor)}; by ${remediation.decidedById}: ${remediation.reason}`,
    );
  }
  if (incident.resolution !== undefined) {
    lines.push(`  resolved by ${incident.resolution.byId}: ${incident.resolution.reason}`);
  }
  lines.push("  timeline:");
  for (const entry of incident.timeline.slice(0, TIMELINE_SHOWN_MAX)) {
    const details = Object.entries(entry.details)
      .map(([key, value]) => `${key}=${String(value)}`)
      .join(" ");
    lines.push(
      `    ${new Date(entry.atMs).toISOString()}  ${entry.kind}  ${entry.byId}${entry.summary === "" ? "" : `  ${entry.summary}`}${details === "" ? "" : `  [${details}]`}`,
    );
  }
  if (incident.timeline.length > TIMELINE_SHOWN_MAX) {
    lines.push(`    … ${incident.timeline.length - TIMELINE_SHOWN_MAX} more (--json has them all)`);
  }
  return lines;
}

function list(items: readonly string[]): string {
  return items.length === 0 ? "none" : items.join(", ");
}

/**
 * Where remediation releases from: `--ledger-data`, `--ledger-database`, or with `--release` the
 * ledger beside the control store (`ledger.db` in `--data`, or the `--database` schema, as
 * `bursar run --ledger` and `bursar impact` find it). Undefined: no release here; null: refused.
 */
function remediationLedgerOf(
  shared: CommonFlags,
  flags: {
    release?: boolean;
    ledgerData?: string;
    ledgerDatabase?: string;
    ledgerSchema?: string;
  },
  say: Say,
): LedgerLocation | undefined | null {
  const given = [flags.release === true, flags.ledgerData, flags.ledgerDatabase].filter(
    (flag) => flag !== undefined && flag !== false,
  );
  if (given.length > 1) {
    say("--release, --ledger-data and --ledger-database: give one");
    return null;
  }
  if (flags.ledgerData !== undefined) return { kind: "sqlite", data: flags.ledgerData };
  if (flags.ledgerDatabase !== undefined) {
    return {
      kind: "postgres",
      url: flags.ledgerDatabase,
      schema: flags.ledgerSchema ?? shared.schema,
    };
  }
  if (flags.release !== true) return undefined;
  return shared.database === undefined
    ? { kind: "sqlite", data: shared.data }
    : { kind: "postgres", url: shared.database, schema: flags.ledgerSchema ?? shared.schema };
}
