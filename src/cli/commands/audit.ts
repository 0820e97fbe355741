/**
 * `bursar audit verify` and `bursar audit show`: the hash-chained audit log of the control plane
 * (docs/reference/audit-log.md), in `--data`'s control.sqlite or a PostgreSQL database. Both open
 * the log read-only, so they run beside the processes appending to it; verify streams the log in
 * pages within one snapshot, in bounded memory.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "@commander-js/extra-typings";
import { AUDIT_READ_LIMIT_MAX, type AuditLogStore } from "../../control/audit-log.ts";
import {
  type AuditVerification,
  formatAuditHead,
  parseAuditHead,
} from "../../core/audit/audit-chain-verifier.ts";
import type { AuditEntry, AuditHead } from "../../core/audit/audit-entry.ts";
import { PostgresAuditLogStore } from "../../stores/postgres/postgres-audit-log-store.ts";
import {
  CONTROL_FILE_NAME,
  SqliteAuditLogStore,
} from "../../stores/sqlite/sqlite-audit-log-store.ts";
import { EXIT_FINDINGS, EXIT_OK, EXIT_UNUSABLE_INPUT, type ExitCodeHolder } from "../exit-codes.ts";
import { parseWholeNumber } from "../options.ts";

/** Progress goes to stderr about once a second, at a terminal or for logs this long. */
const PROGRESS_ENTRIES_MIN = 1_000_000;
const PROGRESS_INTERVAL_MS = 1_000;
const SHOW_LIMIT_DEFAULT = 50;

interface LogOptions {
  readonly data: string;
  readonly database?: string;
  readonly schema: string;
}

export function registerAuditCommands(program: Command, outcome: ExitCodeHolder): void {
  const audit = program.command("audit").description("The control plane's hash-chained audit log.");
  audit
    .command("verify")
    .description(
      "Check that no audit entry was edited, deleted, inserted or reordered: every hash, every link, the recorded head and, with --expect-head, a head you kept.",
    )
    .option("--data <dir>", "data directory holding control.sqlite", "./.bursar")
    .option("--database <url>", "a PostgreSQL database (postgres://…) instead of --data")
    .option("--schema <name>", "the PostgreSQL schema holding the log", "bursar")
    .option("--expect-head <seq:hash>", "a head kept earlier: its entry must still be there")
    .option("--json", "print one JSON object")
    .action(async (options) => {
      let anchor: AuditHead | undefined;
      if (options.expectHead !== undefined) {
        anchor = parseAuditHead(options.expectHead);
        if (anchor === undefined) {
          process.stderr.write(
            `bursar audit verify: --expect-head ${options.expectHead} is not SEQ:HASH (a sequence and 64 hex digits)\n`,
          );
          outcome.exitCode = EXIT_UNUSABLE_INPUT;
          return;
        }
      }
      let report: AuditVerification;
      try {
        report = await withLog(options, async (store) => {
          const progress = new VerifyProgress((await store.head()).sequence);
          const verification = await store.verify({
            ...(anchor === undefined ? {} : { anchor }),
            onProgress: (entries) => progress.update(entries),
          });
          progress.finish(verification.entries);
          return verification;
        });
      } catch (cause) {
        process.stderr.write(`bursar audit verify: ${messageOf(cause)}\n`);
        outcome.exitCode = EXIT_UNUSABLE_INPUT;
        return;
      }
      if (options.json) {
        process.stdout.write(`${JSON.stringify(report)}\n`);
      } else {
        for (const violation of report.violations) {
          process.stdout.write(
            `${violation.problem} at ${violation.sequence}: expected ${violation.expected}, actual ${violation.actual}\n`,
          );
        }
        if (report.violationsOmitted > 0) {
          process.stdout.write(`… and ${report.violationsOmitted} more violations\n`);
        }
        const total = report.violations.length + report.violationsOmitted;
        process.stdout.write(
          report.ok
            ? `${report.entries} entries checked: the chain is intact; head ${formatAuditHead(report.head)}\n`
            : `${report.entries} entries checked: ${total} violations\n`,
        );
      }
      outcome.exitCode = report.ok ? EXIT_OK : EXIT_FINDINGS;
    });

  audit
    .command("show")
    .description("Print audit entries in order, from a sequence on.")
    .option("--data <dir>", "data directory holding control.sqlite", "./.bursar")
    .option("--database <url>", "a PostgreSQL database (postgres://…) instead of --data")
    .option("--schema <name>", "the PostgreSQL schema holding the log", "bursar")
    .option("--from <n>", "the first sequence shown", "1")
    .option(
      "--limit <n>",
      `entries shown at most (up to ${AUDIT_READ_LIMIT_MAX})`,
      String(SHOW_LIMIT_DEFAULT),
    )
    .option("--json", "print one JSON object")
    .action(async (options) => {
      const from = parseWholeNumber(options.from, 1, Number.MAX_SAFE_INTEGER);
      const limit = parseWholeNumber(options.limit, 1, AUDIT_READ_LIMIT_MAX);
      if (from === undefined || limit === undefined) {
        process.stderr.write(
          `bursar audit show: --from must be a sequence from 1, --limit a count from 1 to ${AUDIT_READ_LIMIT_MAX}\n`,
        );
        outcome.exitCode = EXIT_UNUSABLE_INPUT;
        return;
      }
      let entries: readonly AuditEntry[];
      try {
        entries = await withLog(options, (store) => store.read(from, limit));
      } catch (cause) {
        process.stderr.write(`bursar audit show: ${messageOf(cause)}\n`);
        outcome.exitCode = EXIT_UNUSABLE_INPUT;
        return;
      }
      // The next page starts after the last entry shown, whatever gaps tampering left.
      const next = entries.length === limit ? entries[entries.length - 1]!.sequence + 1 : null;
      if (options.json) {
        process.stdout.write(`${JSON.stringify({ entries, next })}\n`);
      } else {
        for (const entry of entries) process.stdout.write(`${entryLine(entry)}\n`);
        if (next !== null) process.stdout.write(`(more: --from ${next})\n`);
      }
      outcome.exitCode = EXIT_OK;
    });
}

function entryLine(entry: AuditEntry): string {
  const parts = [String(entry.sequence), entry.at, entry.actor, entry.action, entry.subject];
  if (entry.contentHash !== null) parts.push(`content ${entry.contentHash.slice(0, 12)}`);
  if (Object.keys(entry.details).length > 0) parts.push(JSON.stringify(entry.details));
  if (entry.reason !== null) parts.push(`— ${JSON.stringify(entry.reason)}`);
  return parts.join("  ");
}

/** Opens the log read-only, runs `use`, and closes it. */
async function withLog<T>(
  options: LogOptions,
  use: (store: AuditLogStore) => Promise<T>,
): Promise<T> {
  let store: AuditLogStore;
  if (options.database === undefined) {
    const path = join(options.data, CONTROL_FILE_NAME);
    if (!existsSync(path)) throw new Error(`no audit log at ${path}`);
    store = SqliteAuditLogStore.open({ path, readOnly: true });
  } else {
    store = await PostgresAuditLogStore.open({
      url: options.database,
      schema: options.schema,
      readOnly: true,
      connectionsMax: 1,
    });
  }
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

/** The interface layer may read the clock; the verifier never does. */
class VerifyProgress {
  private readonly enabled: boolean;
  private lastMs = performance.now();
  private shown = false;

  constructor(private readonly total: number) {
    this.enabled = process.stderr.isTTY === true || total > PROGRESS_ENTRIES_MIN;
  }

  update(done: number): void {
    if (!this.enabled) return;
    const nowMs = performance.now();
    if (nowMs - this.lastMs < PROGRESS_INTERVAL_MS) return;
    this.lastMs = nowMs;
    this.shown = true;
    const percent = this.total > 0 ? ` (${Math.floor((done / this.total) * 100)} %)` : "";
    process.stderr.write(`verified ${done} / ${this.total} entries${percent}\n`);
  }

  finish(done: number): void {
    if (this.shown) process.stderr.write(`verified ${done} entries, done\n`);
  }
}

function messageOf(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
