import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Command } from "@commander-js/extra-typings";
import {
  jsonSchemaText,
  PUBLISHED_SCHEMAS,
  type PublishedSchemaName,
} from "../../config/json-schema.ts";
import { EXIT_UNUSABLE_INPUT, type ExitCodeHolder } from "../exit-codes.ts";

const NAMES = Object.keys(PUBLISHED_SCHEMAS) as PublishedSchemaName[];

export function registerSchemaCommand(program: Command, outcome: ExitCodeHolder): void {
  program
    .command("schema")
    .description(
      `Print the JSON Schema of a document kind (${NAMES.join(", ")}), or write them all.`,
    )
    .argument("[kind]", "which schema to print")
    .option("--write <dir>", "write every schema to DIR/<kind>.schema.json")
    .action(async (kind, options) => {
      if (options.write !== undefined) {
        await mkdir(options.write, { recursive: true });
        for (const name of NAMES)
          await writeFile(join(options.write, `${name}.schema.json`), jsonSchemaText(name));
        process.stderr.write(`wrote ${NAMES.length} schemas to ${options.write}\n`);
        return;
      }
      if (kind === undefined || !(NAMES as string[]).includes(kind)) {
        process.stderr.write(
          `bursar schema: expected one of ${NAMES.join(", ")}, got ${kind ?? "nothing"}\n`,
        );
        outcome.exitCode = EXIT_UNUSABLE_INPUT;
        return;
      }
      process.stdout.write(jsonSchemaText(kind as PublishedSchemaName));
    });
}
