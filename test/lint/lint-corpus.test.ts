/**
 * The lint corpora: every known-bad configuration produces the codes its expect.json names,
 * and every known-good one (examples/ among them) produces no error. Each case runs the way
 * `bursar lint` runs it: validation findings, then lint over what validated.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { loadConfig } from "../../src/config/load-config.ts";
import { LINT_CODE_LIST } from "../../src/core/lint/lint-codes.ts";
import { lintConfigSet } from "../../src/core/lint/lint-config-set.ts";
import { typicalAmountsFromTrafficModel } from "../../src/traffic/typical-amounts.ts";

const CORPUS = join(import.meta.dirname, "..", "lint-corpus");
const EXAMPLES = join(import.meta.dirname, "..", "..", "examples");

interface Expectation {
  readonly description: string;
  readonly codes: readonly string[];
  readonly at?: string;
  readonly campaignsNamed?: readonly string[];
}

function casesIn(kind: "bad" | "good"): string[] {
  return readdirSync(join(CORPUS, kind)).sort();
}

async function lintDirectory(directory: string, previousDirectory?: string, at?: string) {
  const loaded = await loadConfig([directory]);
  const previous =
    previousDirectory === undefined ? undefined : (await loadConfig([previousDirectory])).config;
  const lint = lintConfigSet(loaded.config, {
    typicalAmountsMinor: typicalAmountsFromTrafficModel(),
    locate: loaded.locate,
    ...(previous === undefined ? {} : { previous }),
    ...(at === undefined ? {} : { atMs: Date.parse(at) }),
  });
  return { loaded, lint, all: [...loaded.findings, ...lint] };
}

describe("known-bad corpus", () => {
  test.each(casesIn("bad"))("%s is caught with its expected codes", async (name) => {
    const directory = join(CORPUS, "bad", name);
    const expectation = JSON.parse(
      readFileSync(join(directory, "expect.json"), "utf8"),
    ) as Expectation;
    expect(expectation.description.length).toBeGreaterThan(20);
    expect(expectation.codes.length).toBeGreaterThan(0);
    const previous = join(directory, "previous");
    const { all, lint } = await lintDirectory(
      join(directory, "config"),
      existsSync(previous) ? previous : undefined,
      expectation.at,
    );
    const codes = new Set<string>(all.map((finding) => finding.code));
    expect([...expectation.codes].filter((code) => !codes.has(code))).toEqual([]);
    const named = new Set(lint.flatMap((finding) => finding.campaignIds ?? []));
    expect((expectation.campaignsNamed ?? []).filter((id) => !named.has(id))).toEqual([]);
  });

  test.each(["template-edit-2025-01-16", "template-edit-amount"])(
    "%s is caught from the template alone, its campaigns only in --previous (a CI linting changed files)",
    async (name) => {
      const directory = join(CORPUS, "bad", name);
      const expectation = JSON.parse(
        readFileSync(join(directory, "expect.json"), "utf8"),
      ) as Expectation;
      const templates = join(directory, "config", "templates");
      const { lint } = await lintDirectory(templates, join(directory, "previous"), expectation.at);
      const editCodes = expectation.codes.filter((code) => code.startsWith("lint.template_edit_"));
      expect(editCodes.length).toBeGreaterThan(0);
      const codes = new Set<string>(lint.map((finding) => finding.code));
      expect(editCodes.filter((code) => !codes.has(code))).toEqual([]);
      const named = new Set(lint.flatMap((finding) => finding.campaignIds ?? []));
      expect((expectation.campaignsNamed ?? []).filter((id) => !named.has(id))).toEqual([]);
    },
  );

  test("every lint code has at least one known-bad example", () => {
    const expected = new Set(
      casesIn("bad").flatMap(
        (name) =>
          (
            JSON.parse(
              readFileSync(join(CORPUS, "bad", name, "expect.json"), "utf8"),
            ) as Expectation
          ).codes,
      ),
    );
    const uncovered = LINT_CODE_LIST.filter(
      (code) => code !== "lint.config_too_large" && !expected.has(code),
    );
    // config_too_large needs 100,001 campaigns: test/lint/lint-rules.test.ts builds them in memory.
    expect(uncovered).toEqual([]);
  });
});

describe("known-good corpus", () => {
  test.each([...casesIn("good").map((name) => join(CORPUS, "good", name)), EXAMPLES])(
    "%s passes without errors",
    async (directory) => {
      const { all, loaded } = await lintDirectory(directory);
      expect(loaded.config.campaigns.length).toBeGreaterThan(0);
      const errors = all.filter((finding) => finding.severity === "error");
      expect(errors).toEqual([]);
    },
  );
});
