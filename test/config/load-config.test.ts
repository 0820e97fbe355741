import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fc, test } from "@fast-check/vitest";
import { afterAll, beforeAll, describe, expect } from "vitest";
import { stringify } from "yaml";
import { CONFIG_LIMITS, loadConfig } from "../../src/config/load-config.ts";
import { validCampaign, validEnvelope, validProgram, validTemplate } from "../support/documents.ts";

let directory: string;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), "bursar-config-"));
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function write(name: string, text: string): Promise<string> {
  const path = join(directory, name);
  await mkdir(join(path, ".."), { recursive: true });
  await writeFile(path, text);
  return path;
}

describe("loadConfig", () => {
  test("loads a directory of YAML and JSON documents and resolves them", async () => {
    const root = join(directory, "good");
    await write("good/templates/instant-discount.yaml", stringify(validTemplate()));
    await write("good/campaigns/sh-coffee.json", JSON.stringify(validCampaign()));
    await write("good/programs/sh.yaml", stringify(validProgram()));
    await write("good/envelope.yaml", stringify(validEnvelope()));
    await write("good/README.md", "not configuration: skipped when found inside a directory");
    const { config, findings, files } = await loadConfig([root]);
    expect(findings).toEqual([]);
    expect(files).toHaveLength(4);
    expect(config.campaigns.map((campaign) => campaign.campaign.id)).toEqual(["sh-coffee"]);
    expect(config.envelope?.id).toBe("platform");
  });

  test("gives the line and column of the offending field", async () => {
    const path = await write(
      "located/coffee.yaml",
      [
        "kind: template",
        "id: percent-off",
        "name: Percent off",
        "currency: CNY",
        "offer:",
        "  kind: percent",
        "  rateBps: 20.5",
        "  capMinor: 500",
        "funding: { source: platform }",
        "label: instant_discount",
        "allowedScenarios: [merchant_qr]",
        "",
      ].join("\n"),
    );
    const { findings } = await loadConfig([path]);
    expect(findings).toEqual([
      {
        file: path,
        path: "offer.rateBps",
        code: "rate.not_integer",
        severity: "error",
        message: "expected an integer 1..10000 (basis points: 2000 = 20 %), got 20.5",
        line: 7,
        column: 12,
      },
    ]);
  });

  test("reports a path that does not exist as unreadable", async () => {
    const { findings } = await loadConfig([join(directory, "nope.yaml")]);
    expect(findings.map((finding) => finding.code)).toEqual(["file.unreadable"]);
    expect(findings[0]?.message).toContain("no such file or directory");
  });

  test("refuses a file over the size limit without reading it", async () => {
    const path = await write("big.yaml", `# ${"x".repeat(CONFIG_LIMITS.fileBytesMax)}\n`);
    const { findings } = await loadConfig([path]);
    expect(findings.map((finding) => finding.code)).toEqual(["file.too_large"]);
  });

  test("refuses a named file that is not YAML or JSON", async () => {
    const path = await write("notes.txt", "kind: campaign");
    const { findings } = await loadConfig([path]);
    expect(findings.map((finding) => finding.code)).toEqual(["file.unsupported_extension"]);
  });

  test("reports malformed YAML, malformed JSON and duplicate keys with their line", async () => {
    const yamlPath = await write("broken/a.yaml", "kind: template\nid: [unclosed\n");
    const jsonPath = await write("broken/b.json", '{"kind": "program",\n "id": "p",\n');
    const duplicatePath = await write("broken/c.yaml", "kind: template\nid: a\nid: b\n");
    const { findings } = await loadConfig([yamlPath, jsonPath, duplicatePath]);
    const byFile = (file: string) => findings.filter((finding) => finding.file === file);
    for (const file of [yamlPath, jsonPath, duplicatePath]) {
      expect(byFile(file).length).toBeGreaterThan(0);
      for (const finding of byFile(file)) {
        expect(finding.code).toBe("file.parse_error");
        expect(finding.line).toBeGreaterThan(0);
      }
    }
    expect(byFile(duplicatePath)[0]?.line).toBe(3);
  });

  test("refuses YAML-only syntax in a .json file", async () => {
    const path = await write("yamlish.json", "kind: program\n");
    const { findings } = await loadConfig([path]);
    expect(findings.map((finding) => finding.code)).toContain("file.parse_error");
  });

  test("stops an alias bomb instead of expanding it", async () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let level = 1; level < 9; level += 1) {
      lines.push(
        `${"abcdefghij"[level]}: &${"abcdefghij"[level]} [${Array(10)
          .fill(`*${"abcdefghij"[level - 1]}`)
          .join(",")}]`,
      );
    }
    const path = await write("bomb.yaml", `${lines.join("\n")}\n`);
    const { findings } = await loadConfig([path]);
    expect(findings.map((finding) => finding.code)).toEqual(["file.parse_error"]);
  });

  test("stops at the file-count limit and says so", async () => {
    for (let index = 0; index < 4; index += 1)
      await write(`many/t${index}.yaml`, stringify({ ...validTemplate(), id: `t${index}` }));
    const { findings, files } = await loadConfig([join(directory, "many")], {
      ...CONFIG_LIMITS,
      filesMax: 3,
    });
    expect(files).toHaveLength(3);
    expect(findings.map((finding) => finding.code)).toEqual(["directory.too_many_files"]);
  });

  test.prop([fc.string({ maxLength: 300 })], { numRuns: 60 })(
    "never throws on arbitrary file content",
    async (text) => {
      const path = await write("fuzz.yaml", text);
      const { findings } = await loadConfig([path]);
      // No short random text is a complete valid document, so there is always a finding, never a throw.
      expect(findings.length).toBeGreaterThan(0);
      for (const finding of findings) expect(finding.file).toBe(path);
    },
  );
});
