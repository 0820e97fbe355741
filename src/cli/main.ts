/**
 * The `bursar` command line: the composition root for the CLI. Each command lives in its own
 * file under commands/ and returns its exit code; nothing here calls process.exit, so output
 * is flushed and tests can run commands in-process.
 */
import { Command, CommanderError } from "@commander-js/extra-typings";
import { registerAuditCommands } from "./commands/audit.ts";
import { registerChangeCommands } from "./commands/change.ts";
import { registerDemoCommands } from "./commands/demo.ts";
import { registerImpactCommand } from "./commands/impact.ts";
import { registerIncidentCommands } from "./commands/incident.ts";
import { registerKillCommands } from "./commands/kill.ts";
import { registerLedgerCommands } from "./commands/ledger.ts";
import { registerLintCommand } from "./commands/lint.ts";
import { registerQuoteCommand } from "./commands/quote.ts";
import { registerRunCommand } from "./commands/run.ts";
import { registerSchemaCommand } from "./commands/schema.ts";
import { registerServeCommand } from "./commands/serve.ts";
import { registerSimulateCommand } from "./commands/simulate.ts";
import { registerTokenCommands } from "./commands/token.ts";
import { registerTrafficCommands } from "./commands/traffic.ts";
import { registerValidateCommand } from "./commands/validate.ts";
import { registerWebhookCommands } from "./commands/webhook.ts";
import { EXIT_UNUSABLE_INPUT, type ExitCodeHolder } from "./exit-codes.ts";

export async function main(argv: readonly string[]): Promise<number> {
  const outcome: ExitCodeHolder = { exitCode: 0 };
  const program = new Command()
    .name("bursar")
    .description("Bursar: a payment-time promotion engine that cannot be misconfigured into a P0.")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  registerValidateCommand(program, outcome);
  registerLintCommand(program, outcome);
  registerTrafficCommands(program, outcome);
  registerSchemaCommand(program, outcome);
  registerQuoteCommand(program, outcome);
  registerRunCommand(program, outcome);
  registerLedgerCommands(program, outcome);
  registerImpactCommand(program, outcome);
  registerChangeCommands(program, outcome);
  registerSimulateCommand(program, outcome);
  registerAuditCommands(program, outcome);
  registerIncidentCommands(program, outcome);
  registerWebhookCommands(program, outcome);
  registerKillCommands(program, outcome);
  registerDemoCommands(program, outcome);
  registerServeCommand(program, outcome);
  registerTokenCommands(program, outcome);
  try {
    await program.parseAsync([...argv], { from: "user" });
  } catch (cause) {
    if (cause instanceof CommanderError) {
      // --help and --version end through here with exit code 0.
      return cause.exitCode === 0 ? 0 : EXIT_UNUSABLE_INPUT;
    }
    throw cause;
  }
  return outcome.exitCode;
}
