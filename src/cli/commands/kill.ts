/**
 * `bursar kill set|clear|list`: the kill switch from the command line (docs/reference/kill-switch.md).
 * Turning money off is easy (DESIGN §3.8): one operator with a reason, effective in every
 * evaluator within its allowed staleness (1 s by default) of the write. The store is the data
 * directory's control.sqlite, or PostgreSQL with `--database`; every write is audited under `--as`.
 * As with `bursar change`, whoever runs the command holds the database, so `--as` and `--roles`
 * name the person and the roles they act in (operator by default); the server binds roles to tokens.
 */
import type { Command } from "@commander-js/extra-typings";
import { type Principal, ROLES, type Role } from "../../core/change/change-request.ts";
import { FUNDING_SOURCES, type FundingSource } from "../../core/funding.ts";
import type { Kill, KillScope } from "../../core/guard/kill.ts";
import type { KillStore, KillWriteResult } from "../../guard/kill-store.ts";
import { openKillStore } from "../../stores/control-stores.ts";
import { EXIT_FINDINGS, EXIT_OK, EXIT_UNUSABLE_INPUT, type ExitCodeHolder } from "../exit-codes.ts";
import { parseWholeNumber } from "../options.ts";
import { complainer, parseInstantWithOffset, reasonOf } from "../traffic-flags.ts";

interface CommonFlags {
  data: string;
  database?: string;
  schema: string;
  at?: string;
  json?: boolean;
  as?: string;
  roles?: string;
}

type Say = (message: string) => void;

/** The role a kill needs: the operator's, who turns money off (never the author's alone). */
const KILL_ROLE: Role = "operator";
const ACTOR_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@+-]{0,127}$/;

/** A refusal of the command line's own, before the store: the person lacks the operator role. */
type RoleRefusal = { readonly ok: false; readonly code: "role_missing"; readonly message: string };

export function registerKillCommands(program: Command, outcome: ExitCodeHolder): void {
  const kill = program
    .command("kill")
    .description(
      "The kill switch: withdraw subsidies at once (set), turn them back on (clear), list.",
    )
    .option("--data <dir>", "data directory holding control.sqlite", "./.bursar")
    .option("--database <url>", "a PostgreSQL database (postgres://…) instead of --data")
    .option("--schema <name>", "the PostgreSQL schema", "bursar")
    .option("--at <instant>", "act at this instant (ISO 8601 with offset) instead of now")
    .option("--json", "print one JSON object")
    .option("--as <id>", "who acts (set, clear)")
    .option("--roles <list>", "the roles they act in, comma-separated (default: operator)")
    .configureHelp({ showGlobalOptions: true });
  const shared = (): CommonFlags => kill.opts();
  const say = complainer("bursar kill", outcome);

  kill
    .command("set")
    .description("Publish a kill: every evaluator withdraws what it names within a second.")
    .option("--all", "every subsidy")
    .option("--campaigns <ids>", "the listed campaigns, comma-separated (at most 32)")
    .option("--template <id>", "every campaign on the template")
    .option("--funding <source>", `every subsidy this funder pays (${FUNDING_SOURCES.join(", ")})`)
    .requiredOption("--reason <text>", "why (kept in the audit log)")
    .action(async (flags) => {
      const scope = scopeOf(flags, say);
      if (scope === undefined) return;
      const prepared = prepare(shared(), say);
      if (prepared === undefined) return;
      const { principal, atMs } = prepared;
      await withKillStore(shared(), outcome, say, async (store) => {
        const result: KillWriteResult | RoleRefusal =
          roleRefusal(principal) ??
          (await store.publishKill({ scope, reason: flags.reason, actor: principal.id, atMs }));
        report(shared(), outcome, result, (written) => [
          `kill ${written.kill.sequence} set: ${scopeText(written.kill.scope)}`,
          "every evaluator obeys it within its allowed staleness (1 s by default)",
        ]);
      });
    });

  kill
    .command("clear")
    .description(
      "Clear an active kill by its sequence: subsidies it withdrew may be granted again.",
    )
    .argument("<sequence>", "the kill's sequence (bursar kill list)")
    .requiredOption("--reason <text>", "why it is safe again (kept in the audit log)")
    .action(async (sequenceText, flags) => {
      const killSequence = parseWholeNumber(sequenceText, 1, Number.MAX_SAFE_INTEGER);
      if (killSequence === undefined) return say(`<sequence>: expected a whole number from 1`);
      const prepared = prepare(shared(), say);
      if (prepared === undefined) return;
      const { principal, atMs } = prepared;
      await withKillStore(shared(), outcome, say, async (store) => {
        const result: KillWriteResult | RoleRefusal =
          roleRefusal(principal) ??
          (await store.clearKill({
            killSequence,
            reason: flags.reason,
            actor: principal.id,
            atMs,
          }));
        report(shared(), outcome, result, (written) => [
          `kill ${written.kill.sequence} cleared: ${scopeText(written.kill.scope)}`,
        ]);
      });
    });

  kill
    .command("list")
    .description("The active kills, oldest first, and the store's sequence.")
    .action(async () => {
      await withKillStore(shared(), outcome, say, async (store) => {
        const state = await store.readState();
        if (shared().json) {
          process.stdout.write(`${JSON.stringify(state)}\n`);
        } else if (state.active.length === 0) {
          process.stdout.write(`no active kills (sequence ${state.sequence})\n`);
        } else {
          for (const active of state.active) process.stdout.write(`${killLine(active)}\n`);
        }
        outcome.exitCode = EXIT_OK;
      });
    });
}

/** Exactly one scope flag, as a scope; the store checks the ids and limits (`kill_invalid`). */
function scopeOf(
  flags: { all?: boolean; campaigns?: string; template?: string; funding?: string },
  say: Say,
): KillScope | undefined {
  const given = [flags.all, flags.campaigns, flags.template, flags.funding].filter(
    (flag) => flag !== undefined,
  );
  if (given.length !== 1) {
    return void say("give exactly one of --all, --campaigns, --template, --funding");
  }
  if (flags.all === true) return { kind: "all" };
  if (flags.campaigns !== undefined) {
    return { kind: "campaigns", campaignIds: flags.campaigns.split(",").map((id) => id.trim()) };
  }
  if (flags.template !== undefined) return { kind: "template", templateId: flags.template };
  if (!(FUNDING_SOURCES as readonly string[]).includes(flags.funding!)) {
    return void say(`--funding: expected one of ${FUNDING_SOURCES.join(", ")}`);
  }
  return { kind: "funding", funding: flags.funding as FundingSource };
}

/** Who acts and when, or undefined after saying why not. */
function prepare(
  flags: CommonFlags,
  say: Say,
): { readonly principal: Principal; readonly atMs: number } | undefined {
  if (flags.as === undefined) return void say("--as: name who acts");
  if (!ACTOR_PATTERN.test(flags.as)) {
    return void say(
      `--as: expected a name of letters, digits and . _ : @ + - (at most 128), got ${JSON.stringify(flags.as)}`,
    );
  }
  const roles = (flags.roles ?? KILL_ROLE).split(",").map((role) => role.trim());
  const unknown = roles.filter((role) => !(ROLES as readonly string[]).includes(role));
  if (unknown.length > 0) {
    return void say(`--roles: ${unknown.join(", ")} is not a role (${ROLES.join(", ")})`);
  }
  const atMs = flags.at === undefined ? Date.now() : parseInstantWithOffset(flags.at);
  if (atMs === undefined) {
    return void say(
      `--at: expected an instant with its offset, such as 2025-01-16T14:40:00+08:00, got ${JSON.stringify(flags.at)}`,
    );
  }
  return { principal: { id: flags.as, roles: roles as Role[] }, atMs };
}

function roleRefusal(principal: Principal): RoleRefusal | undefined {
  return principal.roles.includes(KILL_ROLE)
    ? undefined
    : {
        ok: false,
        code: "role_missing",
        message: `${principal.id} needs the ${KILL_ROLE} role to set or clear a kill`,
      };
}

function report(
  flags: CommonFlags,
  outcome: ExitCodeHolder,
  result: KillWriteResult | RoleRefusal,
  lines: (written: Extract<KillWriteResult, { ok: true }>) => string[],
): void {
  if (flags.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else if (result.ok) for (const line of lines(result)) process.stdout.write(`${line}\n`);
  else process.stdout.write(`refused: ${result.code}: ${result.message}\n`);
  outcome.exitCode = result.ok ? EXIT_OK : EXIT_FINDINGS;
}

function scopeText(scope: KillScope): string {
  switch (scope.kind) {
    case "all":
      return "all subsidies";
    case "campaigns":
      return `campaigns ${scope.campaignIds.join(",")}`;
    case "template":
      return `template ${scope.templateId}`;
    case "funding":
      return `funding ${scope.funding}`;
  }
}

function killLine(active: Kill): string {
  return `${active.sequence}  ${scopeText(active.scope)}  by ${active.actor} at ${new Date(active.atMs).toISOString()}  ${JSON.stringify(active.reason)}`;
}

async function withKillStore(
  flags: CommonFlags,
  outcome: ExitCodeHolder,
  say: Say,
  act: (store: KillStore) => Promise<void>,
): Promise<void> {
  let store: KillStore | undefined;
  try {
    store = await openKillStore(flags);
    await act(store);
  } catch (cause) {
    say(reasonOf(cause));
    outcome.exitCode = EXIT_UNUSABLE_INPUT;
  } finally {
    await store?.close();
  }
}
