import type { Command } from "@commander-js/extra-typings";
import { loadConfig } from "../../config/load-config.ts";
import { countBySeverity, formatFinding } from "../../core/findings.ts";
import { EXIT_FINDINGS, EXIT_OK, EXIT_UNUSABLE_INPUT, type ExitCodeHolder } from "../exit-codes.ts";

export function registerValidateCommand(program: Command, outcome: ExitCodeHolder): void {
  program
    .command("validate")
    .description(
      "Validate templates, campaigns, programs and the envelope (YAML or JSON files or directories).",
    )
    .argument("<paths...>", "files or directories to validate")
    .option("--json", "print one JSON object with every finding")
    .action(async (paths, options) => {
      const { config, findings, files } = await loadConfig(paths);
      const { errors, warnings } = countBySeverity(findings);
      if (options.json) {
        process.stdout.write(
          `${JSON.stringify({ findings, errors, warnings, files: files.length })}\n`,
        );
      } else {
        for (const finding of findings) process.stdout.write(`${formatFinding(finding)}\n`);
        const documents = `${config.templates.size} templates, ${config.programs.size} programs, ${config.campaigns.length} campaigns, ${config.envelope === undefined ? "no" : "1"} envelope${externalCampaignsPart(config.externalCampaigns?.size ?? 0)}`;
        process.stdout.write(
          `${files.length} files (${documents}): ${errors} errors, ${warnings} warnings\n`,
        );
      }
      outcome.exitCode =
        files.length === 0 ? EXIT_UNUSABLE_INPUT : errors > 0 ? EXIT_FINDINGS : EXIT_OK;
    });
}

/** Registrations are named only when there are some: most configurations have none. */
function externalCampaignsPart(count: number): string {
  return count === 0 ? "" : `, ${count} external campaign${count === 1 ? "" : "s"}`;
}
