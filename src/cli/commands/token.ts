/**
 * `bursar token issue|list|revoke`: API tokens from the machine that holds the stores — the way
 * back in when the administrator's token printed at the first start is lost, and the way to
 * provision tokens before a server runs. Whoever can run this can read the data directory (or
 * holds the database's credentials) anyway; the audit log records the actor it names (`--as`).
 */
import { randomBytes } from "node:crypto";
import type { Command } from "@commander-js/extra-typings";
import type { ApiTokenRecord } from "../../control/api-token-store.ts";
import { ApiTokenService } from "../../control/api-tokens.ts";
import { API_ROLES, type ApiRole, isApiRole } from "../../core/access/api-roles.ts";
import { openApiTokenStore } from "../../stores/control-stores.ts";
import { EXIT_FINDINGS, EXIT_OK, EXIT_UNUSABLE_INPUT, type ExitCodeHolder } from "../exit-codes.ts";
import { parseWholeNumber } from "../options.ts";
import { complainer } from "../traffic-flags.ts";

interface CommonFlags {
  data: string;
  database?: string;
  schema: string;
  as: string;
  json?: true;
}

function recordLine(record: ApiTokenRecord): string {
  const revoked =
    record.revokedAtMs === null
      ? ""
      : `  revoked ${new Date(record.revokedAtMs).toISOString()} by ${record.revokedBy}`;
  return `${record.id}  ${record.principalId}  ${record.roles.join(",")}  "${record.name}"  created ${new Date(record.createdAtMs).toISOString()} by ${record.createdBy}${revoked}`;
}

function publicRecord(record: ApiTokenRecord) {
  const { secretHash: _hash, ...shown } = record;
  return shown;
}

export function registerTokenCommands(program: Command, outcome: ExitCodeHolder): void {
  const token = program
    .command("token")
    .description("API tokens for the server, from the machine that holds the stores.")
    .option("--data <dir>", "data directory holding control.sqlite", "./.bursar")
    .option("--database <url>", "a PostgreSQL database (postgres://…) instead of --data")
    .option("--schema <name>", "the PostgreSQL schema", "bursar")
    .option("--as <id>", "who acts, for the audit log", "cli:operator")
    .option("--json", "print one JSON object")
    .configureHelp({ showGlobalOptions: true });
  const shared = (): CommonFlags => token.opts() as CommonFlags;
  const say = complainer("bursar token", outcome);

  const withService = async (use: (service: ApiTokenService) => Promise<void>) => {
    const flags = shared();
    let service: ApiTokenService | undefined;
    let close = async () => {};
    try {
      const store = await openApiTokenStore(flags);
      close = () => store.close();
      service = new ApiTokenService({ store, nowMs: Date.now, randomBytes });
      await use(service);
    } catch (cause) {
      say(cause instanceof Error ? cause.message : String(cause));
      outcome.exitCode = EXIT_UNUSABLE_INPUT;
    } finally {
      await close();
    }
  };

  token
    .command("issue")
    .description("Issue a token; its text is printed this once and stored only as a hash.")
    .requiredOption("--name <text>", "what people call it")
    .requiredOption("--principal <id>", "whom requests made with it act for")
    .requiredOption("--roles <list>", `comma-separated: ${API_ROLES.join(", ")}`)
    .action(async (flags) => {
      const roles = flags.roles.split(",").map((role) => role.trim());
      const unknown = roles.filter((role) => !isApiRole(role));
      if (unknown.length > 0) return say(`--roles: unknown ${unknown.join(", ")}`);
      await withService(async (service) => {
        const issued = await service.issue({
          name: flags.name,
          principalId: flags.principal,
          roles: roles as ApiRole[],
          actor: shared().as,
        });
        if (!issued.ok) {
          process.stdout.write(
            shared().json
              ? `${JSON.stringify(issued)}\n`
              : `refused: ${issued.code}: ${issued.message}\n`,
          );
          outcome.exitCode = EXIT_FINDINGS;
          return;
        }
        process.stdout.write(
          shared().json
            ? `${JSON.stringify({ ok: true, token: issued.token, record: publicRecord(issued.record) })}\n`
            : `${recordLine(issued.record)}\ntoken (shown once): ${issued.token}\n`,
        );
        outcome.exitCode = EXIT_OK;
      });
    });

  token
    .command("list")
    .description("The tokens, newest first, without secrets.")
    .option("--revoked", "include revoked tokens")
    .option("--limit <n>", "at most this many (1-1000)", "100")
    .action(async (flags) => {
      const limit = parseWholeNumber(flags.limit, 1, 1_000);
      if (limit === undefined) return say("--limit: a whole number in 1..1000");
      await withService(async (service) => {
        const records = await service.list({ includeRevoked: flags.revoked === true, limit });
        process.stdout.write(
          shared().json
            ? `${JSON.stringify({ tokens: records.map(publicRecord) })}\n`
            : records.map((record) => `${recordLine(record)}\n`).join(""),
        );
        outcome.exitCode = EXIT_OK;
      });
    });

  token
    .command("revoke")
    .description("Revoke a token for good: servers refuse it within a second.")
    .argument("<id>", "the token's id (the part between bsr_ and the second _)")
    .requiredOption("--reason <text>", "why (kept in the audit log)")
    .action(async (id, flags) => {
      await withService(async (service) => {
        const revoked = await service.revoke({ id, actor: shared().as, reason: flags.reason });
        if (!revoked.ok) {
          process.stdout.write(
            shared().json
              ? `${JSON.stringify(revoked)}\n`
              : `refused: ${revoked.code}: ${revoked.message}\n`,
          );
          outcome.exitCode = EXIT_FINDINGS;
          return;
        }
        process.stdout.write(
          shared().json
            ? `${JSON.stringify({ ok: true, record: publicRecord(revoked.record) })}\n`
            : `${recordLine(revoked.record)}\n`,
        );
        outcome.exitCode = EXIT_OK;
      });
    });
}
