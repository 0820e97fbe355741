/**
 * `bursar ledger verify`: checks a ledger's invariants (CONTRACTS.md), the embedded one in
 * `--data` or a PostgreSQL one with `--database`. The SQLite file is read directly, read-only,
 * so it can be checked while a store writes it; PostgreSQL is read in one REPEATABLE READ
 * snapshot while writers go on.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "@commander-js/extra-typings";
import type { LedgerVerification } from "../../core/ledger/ledger-verification.ts";
import { PostgresLedgerStore } from "../../stores/postgres/postgres-ledger-store.ts";
import { SqliteLedgerReader } from "../../stores/sqlite/sqlite-ledger-reader.ts";
import { LEDGER_FILE_NAME } from "../../stores/sqlite/sqlite-ledger-store.ts";
import { EXIT_FINDINGS, EXIT_OK, EXIT_UNUSABLE_INPUT, type ExitCodeHolder } from "../exit-codes.ts";

/** The ledger's file inside a data directory. */

export function registerLedgerCommands(program: Command, outcome: ExitCodeHolder): void {
  const ledger = program.command("ledger").description("The subsidy ledger.");
  ledger
    .command("verify")
    .description(
      "Check every ledger invariant: available + reserved + spent == funded per budget, one entry per payment and campaign, refunds never above payments, and stored counters equal the ledger's sums (PostgreSQL; the SQLite store keeps its counters in memory).",
    )
    .option("--data <dir>", "data directory holding ledger.db", "./.bursar")
    .option("--database <url>", "a PostgreSQL ledger (postgres://…) instead of --data")
    .option("--schema <name>", "the PostgreSQL schema holding the ledger", "bursar")
    .option("--json", "print one JSON object")
    .action(async (options) => {
      let report: LedgerVerification;
      let leasedMinor: number | undefined;
      try {
        if (options.database === undefined) report = verifySqlite(options.data);
        else ({ report, leasedMinor } = await verifyPostgres(options.database, options.schema));
      } catch (cause) {
        process.stderr.write(
          `bursar ledger verify: ${cause instanceof Error ? cause.message : String(cause)}\n`,
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
        if (leasedMinor !== undefined) {
          process.stdout.write(`${leasedMinor} minor units held in budget leases\n`);
        }
      }
      outcome.exitCode = report.ok ? EXIT_OK : EXIT_FINDINGS;
    });
}

function verifySqlite(data: string): LedgerVerification {
  const path = join(data, LEDGER_FILE_NAME);
  if (!existsSync(path)) throw new Error(`no ledger at ${path}`);
  try {
    // Read-only, beside a store that may be writing: the counters live in that store's memory,
    // so the invariants are checked over the ledger's own sums and records.
    const reader = SqliteLedgerReader.open(path);
    try {
      return reader.verify();
    } finally {
      reader.close();
    }
  } catch (cause) {
    throw new Error(
      `cannot read ${path}: ${cause instanceof Error ? cause.message : String(cause)}`,
    );
  }
}

/** Reads one consistent snapshot of the ledger (the store's own verify), and the money in leases. */
async function verifyPostgres(
  url: string,
  schema: string,
): Promise<{ report: LedgerVerification; leasedMinor: number }> {
  const store = await PostgresLedgerStore.open({ url, schema });
  try {
    return { report: await store.verify(), leasedMinor: await store.leasedMinor() };
  } finally {
    await store.close();
  }
}
