/**
 * `bursar ledger verify`: checks the embedded ledger's invariants (CONTRACTS.md). It opens the
 * database directly, without the store's recovery at open, so that counters a crash left wrong
 * are reported rather than quietly corrected first.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "@commander-js/extra-typings";
import { SqliteLedgerDatabase } from "../../stores/sqlite/sqlite-ledger-database.ts";
import { EXIT_FINDINGS, EXIT_OK, EXIT_UNUSABLE_INPUT, type ExitCodeHolder } from "../exit-codes.ts";

/** The ledger's file inside a data directory. */
export const LEDGER_FILE_NAME = "ledger.db";

export function registerLedgerCommands(program: Command, outcome: ExitCodeHolder): void {
  const ledger = program.command("ledger").description("The subsidy ledger.");
  ledger
    .command("verify")
    .description(
      "Check every ledger invariant: available + reserved + spent == funded per budget, counters equal the ledger's sums, one entry per payment and campaign, refunds never above payments.",
    )
    .option("--data <dir>", "data directory holding ledger.db", "./.bursar")
    .option("--json", "print one JSON object")
    .action((options) => {
      const path = join(options.data, LEDGER_FILE_NAME);
      if (!existsSync(path)) {
        process.stderr.write(`bursar ledger verify: no ledger at ${path}\n`);
        outcome.exitCode = EXIT_UNUSABLE_INPUT;
        return;
      }
      let report: ReturnType<SqliteLedgerDatabase["verify"]>;
      try {
        // The current time only stamps migrations, should the file be from an older version.
        const { database } = SqliteLedgerDatabase.open({ path, busyTimeoutMs: 5_000 }, Date.now());
        try {
          report = database.verify();
        } finally {
          database.close();
        }
      } catch (cause) {
        process.stderr.write(
          `bursar ledger verify: cannot read ${path}: ${cause instanceof Error ? cause.message : String(cause)}\n`,
        );
        outcome.exitCode = EXIT_UNUSABLE_INPUT;
        return;
      }
      if (options.json) {
        process.stdout.write(`${JSON.stringify(report)}\n`);
      } else {
        for (const violation of report.violations) {
          process.stdout.write(
            `${violation.invariant} ${violation.budget}: expected ${violation.expected}, actual ${violation.actual}\n`,
          );
        }
        process.stdout.write(
          `${report.budgets} budgets checked: ${report.ok ? "every invariant holds" : `${report.violations.length} violations`}\n`,
        );
      }
      outcome.exitCode = report.ok ? EXIT_OK : EXIT_FINDINGS;
    });
}
