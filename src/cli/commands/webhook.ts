/**
 * `bursar webhook …`: the endpoints incident notifications are delivered to, and what happened
 * to each delivery (docs/reference/webhooks.md). The store is the data directory's
 * control.sqlite, or PostgreSQL with `--database`. Endpoint changes are audited under `--as`.
 * A secret is printed once, when `add` makes it, and never again: listings leave it out.
 * `dispatch` runs a dispatcher over the outbox (webhook-dispatcher.ts).
 */
import type { Command } from "@commander-js/extra-typings";
import type { AuditAction } from "../../core/audit/audit-actions.ts";
import type { AuditDetails, AuditEntryInput } from "../../core/audit/audit-entry.ts";
import {
  WEBHOOK_DELIVERY_STATES,
  type WebhookDeliveryState,
} from "../../core/guard/webhook-delivery.ts";
import type { WebhookEndpoint } from "../../core/guard/webhook-endpoint.ts";
import {
  WEBHOOK_DISPATCHER_DEFAULTS,
  type WebhookAttemptReport,
  WebhookDispatcher,
} from "../../guard/webhook-dispatcher.ts";
import type { WebhookEndpointWriteResult, WebhookOutbox } from "../../guard/webhook-outbox.ts";
import { newWebhookSecret } from "../../guard/webhook-signing.ts";
import { openWebhookOutbox } from "../../stores/control-stores.ts";
import { EXIT_FINDINGS, EXIT_OK, EXIT_UNUSABLE_INPUT, type ExitCodeHolder } from "../exit-codes.ts";
import { parseWholeNumber } from "../options.ts";
import { complainer, reasonOf } from "../traffic-flags.ts";

interface CommonFlags {
  data: string;
  database?: string;
  schema: string;
  json?: boolean;
  as?: string;
}

/** A secret read from standard input is at most this long; the endpoint check bounds it again. */
const SECRET_STDIN_BYTES_MAX = 4_096;

export function registerWebhookCommands(program: Command, outcome: ExitCodeHolder): void {
  const webhook = program
    .command("webhook")
    .description("Webhook endpoints for incident notifications, and their deliveries.")
    .option("--data <dir>", "data directory holding control.sqlite", "./.bursar")
    .option("--database <url>", "a PostgreSQL database (postgres://…) instead of --data")
    .option("--schema <name>", "the PostgreSQL schema", "bursar")
    .option("--json", "print one JSON object")
    .option("--as <id>", "who acts (add, remove, enable, disable)")
    .configureHelp({ showGlobalOptions: true });
  const shared = (): CommonFlags => webhook.opts();
  const say = complainer("bursar webhook", outcome);

  webhook
    .command("add")
    .description("Configure an endpoint; prints its new secret once.")
    .argument("<id>", "the endpoint's id (a-z, 0-9, - and _)")
    .argument("<url>", "where deliveries are POSTed (http or https, no credentials)")
    .requiredOption("--events <types...>", "event types it receives (incident.opened …, or *)")
    .option("--disabled", "add it disabled: no deliveries until enabled")
    .option("--secret-stdin", "read the secret from standard input instead of making one")
    .action(async (id, url, flags) => {
      const actor = actorOf(shared(), say);
      if (actor === undefined) return;
      const secret = flags.secretStdin ? await secretFromStdin(say) : newWebhookSecret();
      if (secret === undefined) return;
      const endpoint: WebhookEndpoint = {
        id,
        url,
        secret,
        eventTypes: flags.events,
        enabled: flags.disabled !== true,
      };
      await withOutbox(shared(), outcome, say, async (outbox) => {
        const nowMs = Date.now();
        const audit = auditOf(actor, "webhook.endpoint_added", id, nowMs, {
          origin: originOf(url),
          eventTypes: [...flags.events],
          enabled: endpoint.enabled,
        });
        const result = await outbox.addEndpoint(endpoint, nowMs, audit);
        // The secret is printed here only, and only when this command made it.
        const shown = flags.secretStdin ? undefined : secret;
        report(
          shared(),
          outcome,
          result,
          () =>
            shown === undefined
              ? [`added ${id}`]
              : [`added ${id}`, `secret (shown once; configure it at the receiver): ${shown}`],
          shown === undefined ? { id } : { id, secret: shown },
        );
      });
    });

  webhook
    .command("dispatch")
    .description("Deliver due notifications until SIGINT/SIGTERM, or with --once what is due now.")
    .option("--once", "deliver what is due now, then exit")
    .option("--concurrency <n>", "attempts in flight at most (1-64)", "4")
    .option("--timeout-ms <ms>", "how long one POST may take (1-120000)", "10000")
    .option("--poll-ms <ms>", "how long to sleep when nothing is due (1-600000)", "1000")
    .action(async (flags) => {
      await dispatch({ ...shared(), ...flags }, outcome, say);
    });

  webhook
    .command("list")
    .description("The configured endpoints, without their secrets.")
    .action(async () => {
      await withOutbox(shared(), outcome, say, async (outbox) => {
        const endpoints = await outbox.listEndpoints();
        if (shared().json) {
          process.stdout.write(`${JSON.stringify({ endpoints })}\n`);
        } else if (endpoints.length === 0) {
          process.stdout.write("no webhook endpoints\n");
        } else {
          for (const endpoint of endpoints) {
            process.stdout.write(
              `${endpoint.id}  ${endpoint.enabled ? "enabled " : "disabled"}  ${endpoint.eventTypes.join(",")}  ${endpoint.url}\n`,
            );
          }
        }
        outcome.exitCode = EXIT_OK;
      });
    });

  webhook
    .command("remove")
    .description("Remove an endpoint; its pending deliveries become dead.")
    .argument("<id>", "the endpoint")
    .action(async (id) => {
      const actor = actorOf(shared(), say);
      if (actor === undefined) return;
      await withOutbox(shared(), outcome, say, async (outbox) => {
        const origin = (await outbox.listEndpoints()).find((each) => each.id === id)?.url;
        const nowMs = Date.now();
        const audit = auditOf(actor, "webhook.endpoint_removed", id, nowMs, {
          origin: origin === undefined ? null : originOf(origin),
        });
        const result = await outbox.removeEndpoint(id, nowMs, audit);
        report(shared(), outcome, result, () => [`removed ${id}`], { id });
      });
    });

  for (const [name, enabled] of [
    ["enable", true],
    ["disable", false],
  ] as const) {
    webhook
      .command(name)
      .description(
        enabled
          ? "Enable an endpoint: its waiting deliveries are attempted again."
          : "Disable an endpoint: no new deliveries; pending ones wait.",
      )
      .argument("<id>", "the endpoint")
      .action(async (id) => {
        const actor = actorOf(shared(), say);
        if (actor === undefined) return;
        await withOutbox(shared(), outcome, say, async (outbox) => {
          const action = enabled ? "webhook.endpoint_enabled" : "webhook.endpoint_disabled";
          const audit = auditOf(actor, action, id, Date.now(), {});
          const result = await outbox.setEndpointEnabled(id, enabled, audit);
          report(shared(), outcome, result, () => [`${name}d ${id}`], { id, enabled });
        });
      });
  }

  webhook
    .command("deliveries")
    .description("Deliveries, newest first; with --delivery, one delivery's attempts.")
    .option("--state <state>", "only pending, delivered or dead ones")
    .option("--endpoint <id>", "only this endpoint's")
    .option("--delivery <id>", "one delivery with its attempts")
    .option("--limit <n>", "at most this many (1 to 1,000)", "50")
    .action(async (flags) => {
      if (flags.state !== undefined && !Object.hasOwn(WEBHOOK_DELIVERY_STATES, flags.state)) {
        return say(
          `--state: expected pending, delivered or dead, got ${JSON.stringify(flags.state)}`,
        );
      }
      const limit = parseWholeNumber(flags.limit, 1, 1_000);
      if (limit === undefined) return say("--limit: expected 1 to 1,000");
      await withOutbox(shared(), outcome, say, async (outbox) => {
        if (flags.delivery !== undefined) {
          await showDelivery(outbox, flags.delivery, shared(), outcome);
          return;
        }
        const deliveries = await outbox.listDeliveries({
          state: flags.state as WebhookDeliveryState | undefined,
          endpointId: flags.endpoint,
          limit,
        });
        if (shared().json) {
          process.stdout.write(`${JSON.stringify({ deliveries })}\n`);
        } else if (deliveries.length === 0) {
          process.stdout.write("no deliveries\n");
        } else {
          for (const delivery of deliveries) {
            const last =
              delivery.lastAttemptCode === null
                ? ""
                : `  last ${delivery.lastAttemptCode}${delivery.lastStatus === null ? "" : ` ${delivery.lastStatus}`}`;
            const when =
              delivery.state === "pending" && delivery.nextAttemptAtMs !== null
                ? `  next ${new Date(delivery.nextAttemptAtMs).toISOString()}`
                : "";
            const dead = delivery.deadReason === null ? "" : ` (${delivery.deadReason})`;
            process.stdout.write(
              `${delivery.deliveryId}  ${delivery.eventType}  ${delivery.state}${dead}  attempts ${delivery.attempts}${last}${when}\n`,
            );
          }
        }
        outcome.exitCode = EXIT_OK;
      });
    });
}

interface DispatchFlags {
  once?: boolean;
  concurrency: string;
  timeoutMs: string;
  pollMs: string;
}

interface DispatchTally {
  attempts: number;
  delivered: number;
  retrying: number;
  dead: number;
  unrecorded: number;
}

/**
 * Runs a dispatcher over the outbox: with `--once` until nothing is due now, else until SIGINT or
 * SIGTERM, after which it claims nothing more and waits for the attempts in flight to be
 * recorded (each bounded by the time-out), so none is left to a claim's expiry. One line per
 * attempt on stderr, from the dispatcher's report: ids, codes and times, never a secret, URL or body.
 */
async function dispatch(
  flags: CommonFlags & DispatchFlags,
  outcome: ExitCodeHolder,
  say: (message: string) => void,
): Promise<void> {
  const options = dispatchOptionsOf(flags, say);
  if (options === undefined) return;
  const tally: DispatchTally = { attempts: 0, delivered: 0, retrying: 0, dead: 0, unrecorded: 0 };
  await withOutbox(flags, outcome, say, async (outbox) => {
    const dispatcher = new WebhookDispatcher({
      outbox,
      ...options,
      onAttempt: (report) => {
        count(tally, report);
        process.stderr.write(`${attemptLine(report)}\n`);
      },
      onError: (error) => process.stderr.write(`store error (retrying): ${reasonOf(error)}\n`),
    });
    if (flags.once) {
      // Each round claims what is due now; a failed attempt is due again only later, so it ends.
      while ((await dispatcher.runOnce()) > 0) {}
    } else {
      await runUntilSignalled(dispatcher);
    }
    const summary = { ok: true, ...tally };
    if (flags.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    else {
      process.stdout.write(
        `attempts ${tally.attempts}: delivered ${tally.delivered}, to retry ${tally.retrying}, dead ${tally.dead}, unrecorded ${tally.unrecorded}\n`,
      );
    }
    outcome.exitCode = EXIT_OK;
  });
}

function dispatchOptionsOf(flags: DispatchFlags, say: (message: string) => void) {
  const concurrencyMax = parseWholeNumber(flags.concurrency, 1, 64);
  const timeoutMs = parseWholeNumber(flags.timeoutMs, 1, 120_000);
  const pollIntervalMs = parseWholeNumber(flags.pollMs, 1, 600_000);
  if (concurrencyMax === undefined) say("--concurrency: a whole number in 1..64");
  if (timeoutMs === undefined) say("--timeout-ms: a whole number in 1..120000");
  if (pollIntervalMs === undefined) say("--poll-ms: a whole number in 1..600000");
  if (concurrencyMax === undefined || timeoutMs === undefined || pollIntervalMs === undefined) {
    return undefined;
  }
  // The claim outlives two time-outs (the dispatcher's rule), and never less than its default.
  const claimMs = Math.max(WEBHOOK_DISPATCHER_DEFAULTS.claimMs, 2 * timeoutMs);
  return { concurrencyMax, timeoutMs, pollIntervalMs, claimMs };
}

/** Starts the dispatcher and resolves once a signal stopped it cleanly. */
async function runUntilSignalled(dispatcher: WebhookDispatcher): Promise<void> {
  dispatcher.start();
  process.stderr.write("dispatching (SIGINT or SIGTERM stops)\n");
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const onSignal = (name: NodeJS.Signals) => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      resolve(name);
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
  process.stderr.write(
    `${signal}: stopping; waiting for ${dispatcher.inFlightCount} attempts in flight\n`,
  );
  await dispatcher.stop();
}

function count(tally: DispatchTally, report: WebhookAttemptReport): void {
  tally.attempts += 1;
  if (!report.recorded) tally.unrecorded += 1;
  else if (report.next.state === "delivered") tally.delivered += 1;
  else if (report.next.state === "pending") tally.retrying += 1;
  else tally.dead += 1;
}

function attemptLine(report: WebhookAttemptReport): string {
  const status = report.status === null ? "" : ` ${report.status}`;
  const next =
    report.next.state === "pending"
      ? `retry at ${new Date(report.next.nextAttemptAtMs).toISOString()}`
      : report.next.state;
  const recorded = report.recorded ? "" : " (claim expired: not recorded)";
  return `${report.deliveryId} ${report.eventType} attempt ${report.attempt}: ${report.code}${status} in ${report.durationMs} ms -> ${next}${recorded}`;
}

async function showDelivery(
  outbox: WebhookOutbox,
  deliveryId: string,
  flags: CommonFlags,
  outcome: ExitCodeHolder,
): Promise<void> {
  const attempts = await outbox.attemptsOf(deliveryId);
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ deliveryId, attempts })}\n`);
  } else if (attempts.length === 0) {
    process.stdout.write(`${deliveryId}: no attempts\n`);
  } else {
    for (const attempt of attempts) {
      const ended =
        attempt.code === null
          ? "unfinished (in flight, or its dispatcher stopped before recording it)"
          : `${attempt.code}${attempt.status === null ? "" : ` ${attempt.status}`}`;
      process.stdout.write(
        `attempt ${attempt.attempt}  ${new Date(attempt.startedAtMs).toISOString()}  ${ended}\n`,
      );
    }
  }
  outcome.exitCode = EXIT_OK;
}

function actorOf(flags: CommonFlags, say: (message: string) => void): string | undefined {
  if (flags.as === undefined || flags.as === "") {
    say("--as: name who acts");
    return undefined;
  }
  return flags.as;
}

function auditOf(
  actor: string,
  action: AuditAction,
  id: string,
  nowMs: number,
  details: AuditDetails,
): AuditEntryInput {
  return {
    at: new Date(nowMs).toISOString(),
    actor,
    action,
    subject: `webhook/${id}`,
    contentHash: null,
    reason: null,
    details,
  };
}

/**
 * The URL's scheme, host and port only: paths of hosted webhook URLs often hold a token, so the
 * audit log keeps the origin, as the dispatcher's reports do.
 */
function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return "(not a URL)";
  }
}

function report(
  flags: CommonFlags,
  outcome: ExitCodeHolder,
  result: WebhookEndpointWriteResult,
  lines: () => string[],
  json: Record<string, unknown>,
): void {
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(result.ok ? { ok: true, ...json } : result)}\n`);
  } else if (result.ok) {
    for (const line of lines()) process.stdout.write(`${line}\n`);
  } else {
    process.stdout.write(`refused: ${result.code}: ${result.message}\n`);
  }
  outcome.exitCode = result.ok ? EXIT_OK : EXIT_FINDINGS;
}

async function secretFromStdin(say: (message: string) => void): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of process.stdin) {
    bytes += (chunk as Buffer).length;
    if (bytes > SECRET_STDIN_BYTES_MAX) {
      say(`--secret-stdin: more than ${SECRET_STDIN_BYTES_MAX} bytes`);
      return undefined;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
}

async function withOutbox(
  flags: CommonFlags,
  outcome: ExitCodeHolder,
  say: (message: string) => void,
  act: (outbox: WebhookOutbox) => Promise<void>,
): Promise<void> {
  let outbox: WebhookOutbox | undefined;
  try {
    outbox = await openWebhookOutbox(flags);
    await act(outbox);
  } catch (cause) {
    say(reasonOf(cause));
    outcome.exitCode = EXIT_UNUSABLE_INPUT;
  } finally {
    await outbox?.close();
  }
}
