import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { parse, stringify } from "yaml";
import { validateDocument } from "../../src/core/model/document.ts";
import { campaignArbitrary, templateArbitrary } from "../support/arbitraries.ts";

describe("documents round-trip through YAML and JSON unchanged", () => {
  test.prop([fc.oneof(templateArbitrary, campaignArbitrary), fc.constantFrom("yaml", "json")], {
    numRuns: 300,
  })("validate(parse(write(document))) is the document", (document, format) => {
    const text = format === "yaml" ? stringify(document) : JSON.stringify(document);
    const result = validateDocument(format === "yaml" ? parse(text) : JSON.parse(text));
    expect(result.issues).toEqual([]);
    expect(result.ok && result.document).toEqual(document);
  });
});
