import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, test } from "vitest";
import {
  jsonSchemaFor,
  jsonSchemaText,
  PUBLISHED_SCHEMAS,
  type PublishedSchemaName,
} from "../../src/config/json-schema.ts";
import {
  validCampaign,
  validEnvelope,
  validProgram,
  validTemplate,
  withField,
} from "../support/documents.ts";

const SCHEMA_DIRECTORY = join(import.meta.dirname, "..", "..", "schemas");
const NAMES = Object.keys(PUBLISHED_SCHEMAS) as PublishedSchemaName[];

describe("published JSON Schemas", () => {
  test("the committed files are what the code generates (run npm run schemas after a model change)", () => {
    for (const name of NAMES) {
      expect(readFileSync(join(SCHEMA_DIRECTORY, `${name}.schema.json`), "utf8"), name).toBe(
        jsonSchemaText(name),
      );
    }
  });

  // A standard JSON Schema validator, as an editor would use, agrees with Bursar's own checks.
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  const validators = Object.fromEntries(
    NAMES.map((name) => [name, ajv.compile(jsonSchemaFor(name))]),
  );

  test("accept valid documents", () => {
    expect(validators.template!(validTemplate())).toBe(true);
    expect(validators.campaign!(validCampaign())).toBe(true);
    expect(validators.program!(validProgram())).toBe(true);
    expect(validators.envelope!(validEnvelope())).toBe(true);
  });

  test("refuse what validation refuses: floats for money, unknown fields, unknown scenarios, missing caps", () => {
    expect(validators.campaign!(withField(validCampaign(), "limits.totalBudgetMinor", 0.5))).toBe(
      false,
    );
    expect(validators.campaign!(withField(validCampaign(), "colour", "red"))).toBe(false);
    expect(validators.campaign!(withField(validCampaign(), "scope.scenarios", ["p2p"]))).toBe(
      false,
    );
    expect(
      validators.template!(withField(validTemplate(), "offer", { kind: "percent", rateBps: 2000 })),
    ).toBe(false);
    expect(
      validators.template!(
        withField(validTemplate(), "offer", { kind: "percent", rateBps: 20.5, capMinor: 5 }),
      ),
    ).toBe(false);
  });
});
