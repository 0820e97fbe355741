import type { Command } from "@commander-js/extra-typings";
import { loadConfig } from "../../config/load-config.ts";
import { countBySeverity, type Finding, formatFinding } from "../../core/findings.ts";
import { lintConfigSet } from "../../core/lint/lint-config-set.ts";
import type { LintFinding } from "../../core/lint/lint-finding.ts";
import type { LintContext } from "../../core/lint/lint-rule.ts";
import { typicalAmountsFromTrafficModel } from "../../traffic/typical-amounts.ts";
import { EXIT_FINDINGS, EXIT_OK, EXIT_UNUSABLE_INPUT, type ExitCodeHolder } from "../exit-codes.ts";

/** One finding as `bursar lint --json` prints it (CONTRACTS.md), validation or lint alike. */
interface PrintedFinding {
  readonly file: string;
  readonly path: string;
  readonly code: string;
  readonly severity: "error" | "warning";
  readonly message: string;
  readonly line?: number;
  readonly column?: number;
  readonly campaignIds?: readonly string[];
}

export function registerLintCommand(program: Command, outcome: ExitCodeHolder): void {
  program
    .command("lint")
    .description(
      "Validate, then check configuration against the lint policies (YAML or JSON files or directories).",
    )
    .argument("<paths...>", "files or directories to lint")
    .option("--json", "print one JSON object with every finding")
    .option(
      "--previous <dir>",
      "the configuration active now, so template edits are checked against the campaigns they reach",
    )
    .option("--at <instant>", "the instant to judge expiry at, ISO 8601 with offset")
    .action(async (paths, options) => {
      let atMs: number | undefined;
      if (options.at !== undefined) {
        atMs = Date.parse(options.at);
        if (!/(?:Z|[+-]\d{2}:\d{2})$/.test(options.at) || Number.isNaN(atMs)) {
          process.stderr.write(
            `--at: expected an ISO 8601 instant with offset, got ${options.at}\n`,
          );
          outcome.exitCode = EXIT_UNUSABLE_INPUT;
          return;
        }
      }
      const loaded = await loadConfig(paths);
      if (loaded.files.length === 0) {
        for (const finding of loaded.findings) process.stderr.write(`${formatFinding(finding)}\n`);
        process.stderr.write("no configuration files to lint\n");
        outcome.exitCode = EXIT_UNUSABLE_INPUT;
        return;
      }
      let previous: LintContext["previous"];
      if (options.previous !== undefined) {
        const before = await loadConfig([options.previous]);
        const { errors } = countBySeverity(before.findings);
        if (before.files.length === 0 || errors > 0) {
          process.stderr.write(
            `--previous ${options.previous}: ${before.files.length === 0 ? "no configuration files" : `${errors} validation errors`}; it must be the valid configuration active now\n`,
          );
          outcome.exitCode = EXIT_UNUSABLE_INPUT;
          return;
        }
        previous = before.config;
      }
      const lintFindings = lintConfigSet(loaded.config, {
        typicalAmountsMinor: typicalAmountsFromTrafficModel(),
        locate: loaded.locate,
        ...(previous === undefined ? {} : { previous }),
        ...(atMs === undefined ? {} : { atMs }),
      });
      const findings = [...loaded.findings.map(fromValidation), ...lintFindings.map(fromLint)];
      let errors = 0;
      for (const finding of findings) if (finding.severity === "error") errors += 1;
      const warnings = findings.length - errors;
      if (options.json) {
        process.stdout.write(`${JSON.stringify({ findings, errors, warnings })}\n`);
      } else {
        for (const finding of findings) {
          process.stdout.write(`${formatFinding(finding as Finding)}\n`);
        }
        process.stdout.write(
          `${loaded.files.length} files, ${loaded.config.campaigns.length} campaigns: ${errors} errors, ${warnings} warnings\n`,
        );
      }
      outcome.exitCode = errors > 0 ? EXIT_FINDINGS : EXIT_OK;
    });
}

function fromValidation(finding: Finding): PrintedFinding {
  return {
    file: finding.file ?? "",
    path: finding.path,
    code: finding.code,
    severity: finding.severity,
    message: finding.message,
    ...(finding.line === undefined ? {} : { line: finding.line }),
    ...(finding.column === undefined ? {} : { column: finding.column }),
  };
}

function fromLint(finding: LintFinding): PrintedFinding {
  return {
    file: finding.file,
    path: finding.path,
    code: finding.code,
    severity: finding.severity,
    message: finding.message,
    ...(finding.line === undefined ? {} : { line: finding.line }),
    ...(finding.column === undefined ? {} : { column: finding.column }),
    ...(finding.campaignIds === undefined ? {} : { campaignIds: finding.campaignIds }),
  };
}
