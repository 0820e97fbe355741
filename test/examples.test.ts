import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, test } from "vitest";
import { parse } from "yaml";
import { jsonSchemaFor } from "../src/config/json-schema.ts";
import { loadConfig } from "../src/config/load-config.ts";
import type { DocumentKind } from "../src/core/model/document.ts";

const EXAMPLES = join(import.meta.dirname, "..", "examples");

describe("examples/", () => {
  test("validates with no findings and holds a realistic set", async () => {
    const { config, findings, files } = await loadConfig([EXAMPLES]);
    expect(findings).toEqual([]);
    expect(config.envelope?.id).toBe("platform");
    expect(config.campaigns.length).toBeGreaterThanOrEqual(24);
    expect(config.templates.get("instant-discount")?.offer).toEqual({
      kind: "fixed",
      amountMinor: 50,
    });
    const usingRoutineTemplate = config.campaigns.filter(
      (campaign) => campaign.template.id === "instant-discount",
    );
    expect(usingRoutineTemplate.length).toBeGreaterThanOrEqual(10);
    const shanghaiProgram = config.programs.get("sh-consumption-2025");
    expect(shanghaiProgram?.regions).toEqual(["CN-SH"]);
    expect(
      config.campaigns.some((campaign) => campaign.program?.id === "sh-consumption-2025"),
    ).toBe(true);
    // Guard mode: a partner engine's campaign registered as a document, known by its own id.
    expect(config.externalCampaigns?.get("lunch-flash-2025")?.id).toBe("partner-lunch-flash");
    expect(files.length).toBe(
      config.campaigns.length +
        config.templates.size +
        config.programs.size +
        (config.externalCampaigns?.size ?? 0) +
        1,
    );
  });

  test("each file also passes the published JSON Schema it names", async () => {
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    const { files } = await loadConfig([EXAMPLES]);
    for (const file of files) {
      const document = parse(readFileSync(file, "utf8")) as { kind: DocumentKind };
      if (ajv.getSchema(document.kind) === undefined) {
        ajv.addSchema(jsonSchemaFor(document.kind), document.kind);
      }
      const validate = ajv.getSchema(document.kind)!;
      expect(validate(document), `${file}: ${JSON.stringify(validate.errors)}`).toBe(true);
      expect(readFileSync(file, "utf8")).toMatch(
        new RegExp(`schemas/${document.kind}\\.schema\\.json`),
      );
    }
  });
});
