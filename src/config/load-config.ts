/**
 * Campaigns-as-code: reads templates, campaigns, programs and the envelope from YAML or JSON
 * files, validates each, resolves them against each other and reports every problem as a
 * finding with file, path, line and code. Bad input never throws; only a bug would.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { extname, join } from "node:path";
import { type Document, LineCounter, parseDocument } from "yaml";
import type { Finding } from "../core/findings.ts";
import { formatPath } from "../core/findings.ts";
import type { ConfigSet, SourcedDocument } from "../core/model/config-set.ts";
import { resolveConfig } from "../core/model/config-set.ts";
import type { DocumentIssue } from "../core/model/document.ts";
import { validateDocument } from "../core/model/document.ts";

export const CONFIG_LIMITS = {
  /** A campaign is a few hundred bytes; a megabyte is a mistake or an attack. */
  fileBytesMax: 1_048_576,
  filesMax: 20_000,
  directoryDepthMax: 16,
  /** YAML aliases can expand a small file exponentially ("billion laughs"). */
  yamlAliasesMax: 100,
} as const;

export type ConfigLimits = { readonly [K in keyof typeof CONFIG_LIMITS]: number };

const CONFIG_EXTENSIONS = new Set([".yaml", ".yml", ".json"]);

export interface LoadedConfig {
  readonly config: ConfigSet;
  readonly findings: readonly Finding[];
  readonly files: readonly string[];
  /**
   * Every document that is valid on its own, before documents are resolved against each other,
   * and the findings of reading and validating each file alone: a change request may hold a
   * campaign whose template is not among the files but in the active configuration.
   */
  readonly documents: readonly SourcedDocument[];
  readonly documentFindings: readonly Finding[];
  /** Line and column of a path in a loaded file, for findings made later (lint). */
  readonly locate: (
    source: string,
    path: readonly (string | number)[],
  ) => { line: number; column: number } | undefined;
}

interface ParsedFile {
  readonly file: string;
  readonly document: Document.Parsed;
  readonly lineCounter: LineCounter;
}

/** Loads every configuration file under `paths` (files or directories, searched recursively). */
export async function loadConfig(
  paths: readonly string[],
  limits: ConfigLimits = CONFIG_LIMITS,
): Promise<LoadedConfig> {
  const findings: Finding[] = [];
  const files = await listConfigFiles(paths, limits, findings);
  const parsedFiles = new Map<string, ParsedFile>();
  const documents: SourcedDocument[] = [];

  for (const file of files) {
    const text = await readConfigFile(file, limits, findings);
    if (text === undefined) continue;
    const parsed = parseConfigText(file, text, findings);
    if (parsed === undefined) continue;
    parsedFiles.set(file, parsed);
    const raw = toPlainValue(parsed, limits, findings);
    if (raw === undefined) continue;
    const result = validateDocument(raw.value);
    for (const issue of result.issues) findings.push(locate(parsed, issue));
    if (result.ok) documents.push({ source: file, document: result.document });
  }

  const documentFindings = [...findings];
  const { config, issues } = resolveConfig(documents);
  for (const { source, issue } of issues) {
    const parsed = parsedFiles.get(source);
    findings.push(
      parsed === undefined ? { file: source, ...toFinding(issue) } : locate(parsed, issue),
    );
  }
  const locateIn = (source: string, path: readonly (string | number)[]) => {
    const parsed = parsedFiles.get(source);
    return parsed === undefined ? undefined : positionOf(parsed, path);
  };
  return { config, findings, files, documents, documentFindings, locate: locateIn };
}

async function listConfigFiles(
  paths: readonly string[],
  limits: ConfigLimits,
  findings: Finding[],
): Promise<string[]> {
  const files: string[] = [];
  const visit = async (path: string, depth: number, named: boolean): Promise<void> => {
    if (files.length > limits.filesMax) return;
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(path);
    } catch (cause) {
      findings.push(fileFinding(path, "file.unreadable", `cannot read: ${reasonOf(cause)}`));
      return;
    }
    if (info.isDirectory()) {
      if (depth >= limits.directoryDepthMax) return;
      const entries = (await readdir(path)).filter(
        (entry) => !entry.startsWith(".") && entry !== "node_modules",
      );
      for (const entry of entries.sort()) await visit(join(path, entry), depth + 1, false);
      return;
    }
    if (!CONFIG_EXTENSIONS.has(extname(path).toLowerCase())) {
      // Files found while walking a directory may be READMEs; only a named file is an error.
      if (named) {
        findings.push(
          fileFinding(path, "file.unsupported_extension", "expected a .yaml, .yml or .json file"),
        );
      }
      return;
    }
    files.push(path);
  };
  for (const path of paths) await visit(path, 0, true);
  if (files.length > limits.filesMax) {
    findings.push(
      fileFinding(
        paths.join(" "),
        "directory.too_many_files",
        `more than ${limits.filesMax} configuration files; split the run`,
      ),
    );
    files.length = limits.filesMax;
  }
  return files;
}

async function readConfigFile(
  file: string,
  limits: ConfigLimits,
  findings: Finding[],
): Promise<string | undefined> {
  try {
    const info = await stat(file);
    if (info.size > limits.fileBytesMax) {
      findings.push(
        fileFinding(
          file,
          "file.too_large",
          `file is ${info.size} bytes; the limit is ${limits.fileBytesMax}`,
        ),
      );
      return undefined;
    }
    return await readFile(file, "utf8");
  } catch (cause) {
    findings.push(fileFinding(file, "file.unreadable", `cannot read: ${reasonOf(cause)}`));
    return undefined;
  }
}

/** Parses YAML, or JSON with the JSON schema so that YAML-only forms are refused. */
export function parseConfigText(
  file: string,
  text: string,
  findings: Finding[],
): ParsedFile | undefined {
  const lineCounter = new LineCounter();
  const json = extname(file).toLowerCase() === ".json";
  const document = parseDocument(text, {
    lineCounter,
    uniqueKeys: true,
    prettyErrors: true,
    ...(json ? { schema: "json" as const } : {}),
  });
  if (document.errors.length > 0) {
    for (const problem of document.errors) {
      const position = problem.linePos?.[0];
      findings.push({
        file,
        path: "",
        code: "file.parse_error",
        severity: "error",
        message: `not well-formed ${json ? "JSON" : "YAML"}: ${problem.message.split("\n")[0]?.replace(/ at line \d+, column \d+:?$/, "")}`,
        ...(position === undefined ? {} : { line: position.line, column: position.col }),
      });
    }
    return undefined;
  }
  return { file, document, lineCounter };
}

/** The document as plain data; an alias bomb is a parse error, not an out-of-memory crash. */
function toPlainValue(
  parsed: ParsedFile,
  limits: ConfigLimits,
  findings: Finding[],
): { value: unknown } | undefined {
  try {
    return { value: parsed.document.toJS({ maxAliasCount: limits.yamlAliasesMax }) };
  } catch (cause) {
    findings.push(
      fileFinding(parsed.file, "file.parse_error", `not usable YAML: ${reasonOf(cause)}`),
    );
    return undefined;
  }
}

/** Attaches file, line and column to an issue, using the nearest node the path reaches. */
function locate(parsed: ParsedFile, issue: DocumentIssue): Finding {
  const finding: Finding = { file: parsed.file, ...toFinding(issue) };
  const position = positionOf(parsed, issue.path);
  return position === undefined ? finding : { ...finding, ...position };
}

function positionOf(
  parsed: ParsedFile,
  path: readonly (string | number)[],
): { line: number; column: number } | undefined {
  for (let length = path.length; length >= 0; length -= 1) {
    const node = parsed.document.getIn(path.slice(0, length), true) as
      | { range?: [number, number, number] }
      | undefined;
    if (node?.range === undefined) continue;
    const position = parsed.lineCounter.linePos(node.range[0]);
    return { line: position.line, column: position.col };
  }
  return undefined;
}

function toFinding(issue: DocumentIssue): Omit<Finding, "file"> {
  return {
    path: formatPath(issue.path),
    code: issue.code,
    severity: issue.severity,
    message: issue.message,
  };
}

function fileFinding(file: string, code: Finding["code"], message: string): Finding {
  return { file, path: "", code, severity: "error", message };
}

function reasonOf(cause: unknown): string {
  const code = (cause as { code?: unknown })?.code;
  if (code === "ENOENT") return "no such file or directory";
  if (code === "EACCES") return "permission denied";
  return cause instanceof Error ? cause.message : String(cause);
}
