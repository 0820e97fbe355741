import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { runCli } from "../support/run-cli.ts";

const CORPUS = join("test", "lint-corpus");

interface LintOutput {
  findings: {
    file: string;
    path: string;
    code: string;
    severity: string;
    message: string;
    campaignIds?: string[];
  }[];
  errors: number;
  warnings: number;
}

describe("bursar lint", () => {
  test("examples/ lint without errors: exit 0, and the JSON has the contract's shape", () => {
    const result = runCli(["lint", "examples", "--json"]);
    expect(result.status).toBe(0);
    const output = JSON.parse(result.stdout) as LintOutput;
    expect(Object.keys(output).sort()).toEqual(["errors", "findings", "warnings"]);
    expect(output.errors).toBe(0);
    expect(output.warnings).toBe(output.findings.length);
    for (const finding of output.findings) {
      expect(finding.severity).toBe("warning");
      expect(typeof finding.file).toBe("string");
      expect(typeof finding.path).toBe("string");
      expect(finding.code).toMatch(/^lint\.[a-z_]+$/);
      expect(finding.message.length).toBeGreaterThan(0);
    }
  });

  test("the 2025-01-16 template edit exits 1 and names the campaigns it reaches", () => {
    const directory = join(CORPUS, "bad", "template-edit-2025-01-16");
    const result = runCli([
      "lint",
      join(directory, "config"),
      "--previous",
      join(directory, "previous"),
      "--json",
    ]);
    expect(result.status).toBe(1);
    const output = JSON.parse(result.stdout) as LintOutput;
    const kind = output.findings.find(
      (finding) => finding.code === "lint.template_edit_changes_offer_kind",
    );
    expect(kind?.file).toMatch(/templates\/instant-discount\.yaml$/);
    expect(kind?.path).toBe("offer.kind");
    expect(kind?.campaignIds).toContain("idc-national-qr-everyday");
    expect(output.errors).toBe(
      output.findings.filter((finding) => finding.severity === "error").length,
    );
    // Validation findings come in the same run, with their own codes.
    expect(output.findings.map((finding) => finding.code)).toContain("offer.param_not_in_kind");
  });

  test("human output: one line per finding with file, line and column, then the count", () => {
    const result = runCli(["lint", join(CORPUS, "bad", "display-overpromises", "config")]);
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(
      /sh-coffee-morning\.yaml:\d+:\d+ display\.title: error: .*\[lint\.display_overpromises\]/,
    );
    expect(result.stdout).toMatch(/files, 1 campaigns: 1 errors, 0 warnings\n$/);
  });

  test("warnings alone exit 0", () => {
    const result = runCli(["lint", join(CORPUS, "bad", "scope-everything", "config"), "--json"]);
    expect(result.status).toBe(0);
    const output = JSON.parse(result.stdout) as LintOutput;
    expect(output.errors).toBe(0);
    expect(output.warnings).toBeGreaterThan(0);
  });

  test("--at turns on expiry: the 2025 program has ended in March 2026", () => {
    const config = join(CORPUS, "bad", "program-expired", "config");
    expect(runCli(["lint", config]).status).toBe(0);
    const result = runCli(["lint", config, "--at", "2026-03-01T12:00:00+08:00"]);
    expect(result.status).toBe(1);
    expect(result.stdout).toContain("[lint.program_expired]");
  });

  test("unusable input exits 2: no files, a bad --at, an invalid --previous", () => {
    const empty = mkdtempSync(join(tmpdir(), "bursar-lint-"));
    expect(runCli(["lint", empty]).status).toBe(2);
    expect(runCli(["lint", "examples", "--at", "yesterday"]).status).toBe(2);
    const broken = mkdtempSync(join(tmpdir(), "bursar-lint-"));
    writeFileSync(join(broken, "bad.yaml"), "kind: campaign\nid: x\n");
    const result = runCli(["lint", "examples", "--previous", broken]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("--previous");
  });
});
