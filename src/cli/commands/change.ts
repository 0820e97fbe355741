/**
 * `bursar change …`: the change pipeline from the command line (docs/reference/changes.md).
 * The store is the data directory's control.sqlite, or PostgreSQL with `--database`. The CLI
 * acts for whoever runs it — they hold the database — so `--as` and `--roles` name the person
 * and the roles they act in; the rules (four eyes, forcing, operator actions) are enforced on
 * those names and every action is audited under them. The server binds roles to tokens.
 */

import { createReadStream } from "node:fs";
import type { Command } from "@commander-js/extra-typings";
import { loadConfig } from "../../config/load-config.ts";
import { lintAndSimulate } from "../../control/assess-proposal.ts";
import { ChangeService } from "../../control/change-service.ts";
import type { ChangeStore } from "../../control/change-store.ts";
import { recordedPayments } from "../../control/recorded-payments.ts";
import { canonicalJson } from "../../core/change/canonical-json.ts";
import type { ChangeResult } from "../../core/change/change-codes.ts";
import {
  type Acknowledgement,
  type ChangeRequest,
  type Principal,
  ROLES,
  type Role,
} from "../../core/change/change-request.ts";
import type { ChangeEdit, DocumentKey } from "../../core/change/document-versions.ts";
import { documentKeyOf } from "../../core/change/document-versions.ts";
import {
  checkRolloutPlan,
  defaultRolloutPlan,
  type RolloutPlan,
  rolloutPlanWithShares,
} from "../../core/change/rollout.ts";
import { formatFinding } from "../../core/findings.ts";
import type { ConfigDocument } from "../../core/model/document.ts";
import { openChangeStore } from "../../stores/control-stores.ts";
import { readPaymentsNdjson } from "../../traffic/read-payments-ndjson.ts";
import { typicalAmountsFromTrafficModel } from "../../traffic/typical-amounts.ts";
import { EXIT_FINDINGS, EXIT_OK, EXIT_UNUSABLE_INPUT, type ExitCodeHolder } from "../exit-codes.ts";
import { complainer, createGenerator, parseInstantWithOffset, reasonOf } from "../traffic-flags.ts";
import { formatChange } from "./change-format.ts";

interface CommonFlags {
  data: string;
  database?: string;
  schema: string;
  json?: boolean;
  at?: string;
}

/** Synthetic traffic for the simulation when the change is submitted. */
interface TrafficFlags {
  seed: string;
  tps: string;
  seconds: string;
  start?: string;
}

const ACTOR_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}$/;

export function registerChangeCommands(program: Command, outcome: ExitCodeHolder): void {
  const change = program
    .command("change")
    .description("Change requests: create, submit, review, force, roll out, roll back.")
    // Where the control store is and how to print: shared by every subcommand.
    .option("--data <dir>", "data directory holding control.sqlite", "./.bursar")
    .option("--database <url>", "a PostgreSQL database (postgres://…) instead of --data")
    .option("--schema <name>", "the PostgreSQL schema", "bursar")
    .option("--at <instant>", "act at this instant (ISO 8601 with offset) instead of now")
    .option("--json", "print one JSON object")
    // Who acts: every command that changes something needs it.
    .option("--as <id>", "who acts")
    .option(
      "--roles <list>",
      "the roles they act in, comma-separated (default: the one the command needs)",
    )
    .configureHelp({ showGlobalOptions: true });
  const shared = (): CommonFlags => change.opts();

  const say = complainer("bursar change", outcome);
  /** The person acting, in the roles they name or else the one role the command needs. */
  const actorFor = (role: Role): Principal | undefined => {
    const flags = change.opts();
    if (flags.as === undefined) {
      say("--as: name who acts");
      return undefined;
    }
    return principalOf({ as: flags.as, roles: flags.roles ?? role }, say);
  };

  change
    .command("create")
    .description(
      "Propose the documents under PATHS (those that differ from what is active) as one change request.",
    )
    .argument("[paths...]", "files or directories with the proposed documents")
    .requiredOption("--title <text>", "what the change is for")
    .option("--retire <keys...>", "documents to retire, as kind/id")
    .action(async (paths, flags) => {
      const actor = actorFor("author");
      if (actor === undefined) return;
      const documents = await proposedDocuments(paths, say);
      if (documents === undefined) return;
      await withService(shared(), outcome, say, async (service) => {
        const active = new Map(
          (await service.activeDocuments()).map((document) => [
            documentKeyOf(document),
            canonicalJson(document),
          ]),
        );
        const edits: ChangeEdit[] = documents
          .filter((document) => active.get(documentKeyOf(document)) !== canonicalJson(document))
          .map((document) => ({ op: "put", document }));
        for (const key of flags.retire ?? []) edits.push({ op: "retire", key: key as DocumentKey });
        return service.create(actor, flags.title, edits);
      });
    });

  change
    .command("edit")
    .description(
      "Replace a change request's edits with the documents under PATHS; approvals are void.",
    )
    .argument("<id>", "the change request")
    .argument("[paths...]", "files or directories with the proposed documents")
    .option("--retire <keys...>", "documents to retire, as kind/id")
    .action(async (id, paths, flags) => {
      const actor = actorFor("author");
      if (actor === undefined) return;
      const documents = await proposedDocuments(paths, say);
      if (documents === undefined) return;
      await withService(shared(), outcome, say, async (service) => {
        const edits: ChangeEdit[] = documents.map((document) => ({ op: "put", document }));
        for (const key of flags.retire ?? []) edits.push({ op: "retire", key: key as DocumentKey });
        return service.edit(actor, id, edits);
      });
    });

  change
    .command("submit")
    .description("Lint and simulate the change against what is active, then send it to review.")
    .argument("<id>", "the change request")
    .option(
      "--ack <key=reason...>",
      "acknowledge a lint warning (its key, as printed) with a reason",
    )
    .option("--seed <n>", "seed of the synthetic traffic the change is simulated on", "20250116")
    .option("--tps <n>", "payments per second of that traffic", "200")
    .option("--seconds <n>", "seconds of that traffic", "300")
    .option("--start <instant>", "start of that traffic (default 2025-01-16T14:40:00+08:00)")
    .option(
      "--payments <path>",
      "simulate on recorded payments instead: a payment sample-log directory or an NDJSON file",
    )
    .action(async (id, flags) => {
      const actor = actorFor("author");
      if (actor === undefined) return;
      const acknowledgements: Acknowledgement[] = [];
      for (const text of flags.ack ?? []) {
        const split = text.indexOf("=");
        if (split < 1) return say(`--ack: expected KEY=REASON, got ${JSON.stringify(text)}`);
        acknowledgements.push({
          findingKey: text.slice(0, split),
          reason: text.slice(split + 1),
          byId: actor.id,
        });
      }
      const traffic = trafficOf(flags, say);
      if (traffic === undefined) return;
      await withService(
        shared(),
        outcome,
        say,
        (service) => service.submit(actor, id, acknowledgements),
        traffic,
      );
    });

  change
    .command("show")
    .description(
      "A change request: state, edits, findings, money, fan-out, approvals, forcing, rollout.",
    )
    .argument("<id>", "the change request")
    .action(async (id) => {
      await withService({ ...shared(), at: undefined }, outcome, say, async (service) => {
        const found = await service.show(id);
        return found === undefined
          ? { ok: false, code: "not_found", message: `no change request ${id}` }
          : { ok: true, change: found };
      });
    });

  change
    .command("list")
    .description("Change requests, newest first.")
    .option("--state <state>", "only those in this state")
    .option("--limit <n>", "at most this many", "50")
    .action(async (flags) => {
      const limit = Number(flags.limit);
      if (!/^\d{1,4}$/.test(flags.limit) || limit < 1 || limit > 1_000)
        return say("--limit: expected 1 to 1,000");
      let store: ChangeStore | undefined;
      try {
        store = await openChangeStore(shared());
        const changes = await store.listChanges({
          state: flags.state as ChangeRequest["state"] | undefined,
          limit,
        });
        if (shared().json)
          process.stdout.write(`${JSON.stringify({ changes: changes.map(summaryOf) })}\n`);
        else
          for (const item of changes)
            process.stdout.write(
              `${item.id}\t${item.state}\t${item.authorId}\t${item.title}${item.forced.length > 0 ? "\tFORCED" : ""}\n`,
            );
        outcome.exitCode = EXIT_OK;
      } catch (cause) {
        say(reasonOf(cause));
      } finally {
        await store?.close();
      }
    });

  change
    .command("approve")
    .description("Approve the content a reviewer saw, named by its hash (from `change show`).")
    .argument("<id>", "the change request")
    .requiredOption("--hash <contentHash>", "the content hash you reviewed")
    .action(async (id, flags) => {
      const actor = actorFor("reviewer");
      if (actor === undefined) return;
      await withService(shared(), outcome, say, (service) =>
        service.approve(actor, id, flags.hash),
      );
    });

  change
    .command("reject")
    .description("Reject a change request, with a reason.")
    .argument("<id>", "the change request")
    .requiredOption("--reason <text>", "why")
    .action(async (id, flags) => {
      const actor = actorFor("reviewer");
      if (actor === undefined) return;
      await withService(shared(), outcome, say, (service) =>
        service.reject(actor, id, flags.reason),
      );
    });

  change
    .command("force")
    .description(
      "Ask to force a change past one gate (lint or approval); a second administrator's ask completes it.",
    )
    .argument("<id>", "the change request")
    .requiredOption("--gate <gate>", "lint or approval")
    .requiredOption("--reason <text>", "why the gate is skipped")
    .action(async (id, flags) => {
      const actor = actorFor("admin");
      if (actor === undefined) return;
      await withService(shared(), outcome, say, (service) =>
        service.force(actor, id, flags.gate, flags.reason),
      );
    });

  change
    .command("rollout")
    .description(
      "Start the staged rollout of an approved change (1 % → 10 % → 50 % → 100 % by default), or judge its current stage.",
    )
    .argument("<id>", "the change request")
    .option(
      "--stages <list>",
      "shares in bps, comma-separated, ending at 10000 (e.g. 100,1000,5000,10000)",
    )
    .option(
      "--judge",
      "judge the current stage against the forecast: hold, advance, complete or abort",
    )
    .action(async (id, flags) => {
      const actor = actorFor("operator");
      if (actor === undefined) return;
      await withService(shared(), outcome, say, async (service) => {
        if (flags.judge) return service.judge(id);
        const found = await service.show(id);
        if (found === undefined)
          return { ok: false, code: "not_found", message: `no change request ${id}` };
        const plan = planOf(flags.stages, found.assessment?.proposedSubsidyPerHourMinor ?? 0, say);
        if (plan === undefined) return undefined;
        return service.startRollout(actor, id, plan);
      });
    });

  change
    .command("rollback")
    .description(
      "Roll a change back: new versions equal to the content before it; other changes stay.",
    )
    .argument("<id>", "the change request")
    .requiredOption("--reason <text>", "why")
    .action(async (id, flags) => {
      const actor = actorFor("operator");
      if (actor === undefined) return;
      await withService(shared(), outcome, say, (service) =>
        service.rollBack(actor, id, flags.reason),
      );
    });

  change
    .command("lower")
    .description(
      "Operator action: lower a campaign's or program's limits at once (the file holds the document with lower limits).",
    )
    .argument("<path>", "the document's file")
    .requiredOption("--reason <text>", "why")
    .action(async (path, flags) => {
      const actor = actorFor("operator");
      if (actor === undefined) return;
      const documents = await proposedDocuments([path], say);
      if (documents === undefined) return;
      if (documents.length !== 1)
        return say(`${path}: expected exactly one document, found ${documents.length}`);
      await withService(shared(), outcome, say, (service) =>
        service.lowerLimits(actor, documents[0]!, flags.reason),
      );
    });

  change
    .command("pause")
    .description("Operator action: pause a campaign at once; resuming it is a change request.")
    .argument("<campaign>", "the campaign's id")
    .requiredOption("--reason <text>", "why")
    .action(async (campaignId, flags) => {
      const actor = actorFor("operator");
      if (actor === undefined) return;
      await withService(shared(), outcome, say, (service) =>
        service.pause(actor, campaignId, flags.reason),
      );
    });
}

function principalOf(
  flags: { as: string; roles: string },
  say: (message: string) => void,
): Principal | undefined {
  if (!ACTOR_PATTERN.test(flags.as)) {
    say(
      `--as: expected a name of letters, digits and . _ @ + - (at most 128), got ${JSON.stringify(flags.as)}`,
    );
    return undefined;
  }
  const roles = flags.roles.split(",").map((role) => role.trim());
  const unknown = roles.filter((role) => !(ROLES as readonly string[]).includes(role));
  if (unknown.length > 0) {
    say(`--roles: ${unknown.join(", ")} is not a role (${ROLES.join(", ")})`);
    return undefined;
  }
  return { id: flags.as, roles: roles as Role[] };
}

/**
 * Every document under `paths`, each valid on its own. References between documents (a
 * campaign's template) are checked when the change is submitted, against the active
 * configuration with the change applied.
 */
async function proposedDocuments(
  paths: readonly string[],
  say: (message: string) => void,
): Promise<ConfigDocument[] | undefined> {
  if (paths.length === 0) return [];
  const loaded = await loadConfig(paths);
  const errors = loaded.documentFindings.filter((finding) => finding.severity === "error");
  if (loaded.files.length === 0 || errors.length > 0) {
    for (const finding of errors) process.stderr.write(`${formatFinding(finding)}\n`);
    say(
      loaded.files.length === 0
        ? `no configuration files in ${paths.join(", ")}`
        : `${errors.length} validation errors; fix them first (bursar lint shows all)`,
    );
    return undefined;
  }
  return loaded.documents.map((sourced) => sourced.document);
}

function planOf(
  stages: string | undefined,
  perHourMinor: number,
  say: (message: string) => void,
): RolloutPlan | undefined {
  const plan =
    stages === undefined
      ? defaultRolloutPlan(perHourMinor)
      : rolloutPlanWithShares(
          stages.split(",").map((text) => Number(text.trim())),
          perHourMinor,
        );
  const problems = checkRolloutPlan(plan);
  if (problems.length > 0) {
    say(`--stages: ${problems.join("; ")}`);
    return undefined;
  }
  return plan;
}

type Assess = ConstructorParameters<typeof ChangeService>[0]["assess"];

/**
 * The sample a submission is simulated on: recorded payments (`--payments`, at the rate their
 * sample-log names say), else synthetic traffic covering exactly its window.
 */
function trafficOf(
  flags: TrafficFlags & { payments?: string },
  say: (message: string) => void,
): ((nowMs: () => number) => Assess) | undefined {
  const common = {
    currency: "CNY" as const,
    typicalAmountsMinor: typicalAmountsFromTrafficModel(),
    randomSeed: Number(flags.seed),
  };
  if (flags.payments !== undefined) {
    const recorded = recordedPayments(flags.payments);
    if (!recorded.ok) {
      say(`--payments ${recorded.message}`);
      return undefined;
    }
    return (nowMs) =>
      lintAndSimulate({
        ...common,
        payments: () => recordedPaymentLines(recorded.paths),
        sampleRateBps: recorded.rateBps,
        sample: `${recorded.paths.length} recorded file(s) in ${flags.payments} at ${recorded.rateBps} bps`,
        nowMs,
      });
  }
  const generator = createGenerator(flags, say);
  if (generator === undefined) return undefined;
  const { seed, tps, seconds, startMs } = generator.options;
  return (nowMs) =>
    lintAndSimulate({
      ...common,
      payments: () => createGenerator(flags, say)!,
      windowMs: seconds * 1000,
      sample: `synthetic traffic, seed ${seed}, ${tps}/s for ${seconds} s from ${new Date(startMs).toISOString()}`,
      nowMs,
    });
}

/** Every line of the files, a payment where it parses and null where it does not (counted invalid). */
async function* recordedPaymentLines(paths: readonly string[]): AsyncGenerator<unknown> {
  for (const path of paths) {
    for await (const line of readPaymentsNdjson(createReadStream(path), { file: path })) {
      yield line.ok ? line.payment : null;
    }
  }
}

/** Opens the store, runs one service call, prints its result, and sets the exit code. */
async function withService(
  flags: CommonFlags,
  outcome: ExitCodeHolder,
  say: (message: string) => void,
  act: (service: ChangeService) => Promise<ChangeResult<{ change: ChangeRequest }> | undefined>,
  assess?: (nowMs: () => number) => Assess,
): Promise<void> {
  let atMs: number | undefined;
  if (flags.at !== undefined) {
    atMs = parseInstantWithOffset(flags.at);
    if (atMs === undefined)
      return say(
        `--at: expected an instant with its offset, such as 2025-01-16T14:40:00+08:00, got ${JSON.stringify(flags.at)}`,
      );
  }
  const nowMs = () => atMs ?? Date.now();
  let store: ChangeStore | undefined;
  try {
    store = await openChangeStore(flags);
    const service = new ChangeService({
      store,
      // Only submission assesses; other actions never call it.
      assess: assess?.(nowMs) ?? (async () => ({ findings: [] })),
      now: () => new Date(nowMs()).toISOString(),
    });
    const result = await act(service);
    if (result === undefined) return;
    if (flags.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else if (result.ok)
      for (const line of formatChange(result.change)) process.stdout.write(`${line}\n`);
    else process.stdout.write(`refused: ${result.code}: ${result.message}\n`);
    outcome.exitCode = result.ok ? EXIT_OK : EXIT_FINDINGS;
  } catch (cause) {
    say(reasonOf(cause));
    outcome.exitCode = EXIT_UNUSABLE_INPUT;
  } finally {
    await store?.close();
  }
}

function summaryOf(change: ChangeRequest) {
  return {
    id: change.id,
    state: change.state,
    title: change.title,
    authorId: change.authorId,
    updatedAt: change.updatedAt,
    forced: change.forced.map((force) => force.gate),
    risk: change.assessment?.risk.level ?? null,
  };
}
