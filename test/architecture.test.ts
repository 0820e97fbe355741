/**
 * Dependencies point inward (STYLE rule 12) and the core is pure (rule 1). This reads every
 * source file's imports and the core's text; a new top-level folder under src/ must be added to
 * LAYERS before its files pass.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { describe, expect, test } from "vitest";

const SOURCE_ROOT = join(import.meta.dirname, "..", "src");

interface Layer {
  /** Other layers under src/ this one may import from. */
  readonly mayImport: readonly string[];
  /** npm packages it may import; `node:` built-ins are allowed outside the core. */
  readonly packages: readonly string[];
}

const LAYERS: Readonly<Record<string, Layer>> = {
  core: { mayImport: [], packages: ["zod"] },
  config: { mayImport: ["core"], packages: ["yaml", "zod"] },
  traffic: { mayImport: ["core"], packages: [] },
  ledger: { mayImport: ["core"], packages: [] },
  control: { mayImport: ["core", "config", "traffic", "ledger"], packages: [] },
  guard: { mayImport: ["core", "config", "traffic", "ledger", "control"], packages: [] },
  // The 2025-01-16 replay: composes the application layers over memory stores, no adapters.
  demo: { mayImport: ["core", "config", "traffic", "ledger", "control", "guard"], packages: [] },
  stores: {
    mayImport: ["core", "ledger", "control", "guard"],
    packages: ["better-sqlite3", "pg", "pg-copy-streams"],
  },
  // The HTTP server: a composition root like the CLI, which starts it.
  server: {
    mayImport: ["core", "config", "traffic", "ledger", "control", "guard", "stores"],
    packages: ["fastify", "prom-client", "zod"],
  },
  cli: {
    mayImport: [
      "core",
      "config",
      "traffic",
      "ledger",
      "control",
      "guard",
      "demo",
      "stores",
      "server",
    ],
    packages: ["@commander-js/extra-typings", "commander", "yaml", "zod"],
  },
};

/** Text that reaches the clock, randomness, environment, files or network. */
const IMPURE_PATTERNS: readonly [RegExp, string][] = [
  [/\bDate\.now\s*\(/, "reads the clock"],
  [/\bnew Date\s*\(/, "builds a Date (the clock when called without arguments)"],
  [/\bperformance\./, "reads the clock"],
  [/\bprocess\./, "touches the process or environment"],
  [/\bMath\.random\s*\(/, "draws unseeded randomness"],
  [/\bcrypto\b/, "draws randomness"],
  [/\b(?:setTimeout|setInterval|setImmediate|queueMicrotask)\s*\(/, "schedules work on a timer"],
  [/\bfetch\s*\(/, "uses the network"],
  [/\brequire\s*\(/, "loads modules dynamically"],
  [/\bglobalThis\b/, "reaches global state"],
];

function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

function importsOf(text: string): string[] {
  const specifiers: string[] = [];
  const pattern =
    /(?:^|\n)\s*(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']|\bimport\s*\(\s*["']([^"']+)["']\s*\)|(?:^|\n)\s*import\s*["']([^"']+)["']/g;
  for (const match of text.matchAll(pattern)) specifiers.push(match[1] ?? match[2] ?? match[3]!);
  return specifiers;
}

function layerOf(file: string): string {
  return relative(SOURCE_ROOT, file).split(sep)[0]!;
}

function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
}

const files = sourceFiles(SOURCE_ROOT);

describe("architecture", () => {
  test("every source folder is a known layer", () => {
    const unknown = [...new Set(files.map(layerOf))].filter((layer) => !(layer in LAYERS));
    expect(unknown).toEqual([]);
  });

  test("each layer imports only the layers and packages it may", () => {
    const violations: string[] = [];
    for (const file of files) {
      const layer = LAYERS[layerOf(file)];
      if (layer === undefined) continue;
      for (const specifier of importsOf(readFileSync(file, "utf8"))) {
        const where = relative(SOURCE_ROOT, file);
        if (specifier.startsWith(".")) {
          const target = layerOf(join(file, "..", specifier));
          if (target !== layerOf(file) && !layer.mayImport.includes(target)) {
            violations.push(`${where} imports ${specifier} (layer ${target})`);
          }
        } else if (specifier.startsWith("node:")) {
          if (layerOf(file) === "core")
            violations.push(`${where} imports ${specifier}: the core does no I/O`);
        } else if (!layer.packages.includes(packageName(specifier))) {
          violations.push(`${where} imports package ${specifier}`);
        }
      }
    }
    expect(violations).toEqual([]);
  });

  test("the core reads no clock, randomness, environment, file or network", () => {
    const violations: string[] = [];
    for (const file of files.filter((path) => layerOf(path) === "core")) {
      // Comments may mention what the code must not do.
      const code = readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, "");
      for (const [pattern, why] of IMPURE_PATTERNS) {
        if (pattern.test(code))
          violations.push(`${relative(SOURCE_ROOT, file)} ${why} (${pattern.source})`);
      }
    }
    expect(violations).toEqual([]);
  });

  test("the checks catch what they are meant to catch", () => {
    // Guards against a regular expression that silently matches nothing.
    expect(
      importsOf(
        'import { a } from "../ledger/x.ts";\nexport * from "./y.ts";\nconst m = await import("node:fs");',
      ),
    ).toEqual(["../ledger/x.ts", "./y.ts", "node:fs"]);
    const impure = "const now = Date.now(); const r = Math.random(); process.env.X;";
    expect(IMPURE_PATTERNS.filter(([pattern]) => pattern.test(impure)).length).toBe(3);
  });
});
