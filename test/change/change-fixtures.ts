/**
 * The examples as documents, and small helpers to edit them, for the change pipeline's tests.
 */
import { join } from "node:path";
import { loadConfig } from "../../src/config/load-config.ts";
import type { ConfigSet } from "../../src/core/model/config-set.ts";
import { resolveConfig } from "../../src/core/model/config-set.ts";
import type { ConfigDocument } from "../../src/core/model/document.ts";
import type { Template } from "../../src/core/model/template.ts";

export const EXAMPLES = join(import.meta.dirname, "..", "..", "examples");

export async function exampleDocuments(): Promise<ConfigDocument[]> {
  const loaded = await loadConfig([EXAMPLES]);
  if (loaded.findings.some((finding) => finding.severity === "error")) {
    throw new Error("the examples do not validate");
  }
  return documentsOf(loaded.config);
}

export function documentsOf(config: ConfigSet): ConfigDocument[] {
  return [
    ...config.templates.values(),
    ...config.programs.values(),
    ...config.campaigns.map((effective) => effective.campaign),
    ...(config.envelope === undefined ? [] : [config.envelope]),
  ];
}

export function resolve(documents: readonly ConfigDocument[]): ConfigSet {
  const { config, issues } = resolveConfig(
    documents.map((document) => ({ source: `${document.kind}/${document.id}`, document })),
  );
  if (issues.length > 0) throw new Error(`unresolvable: ${issues[0]!.issue.message}`);
  return config;
}

/** The 2025-01-16 edit: the routine template becomes 20 % off, government-funded. */
export function incidentTemplate(template: Template, programId: string): Template {
  return {
    ...template,
    offer: { kind: "percent", rateBps: 2_000, capMinor: 100_000 } as Template["offer"],
    bands: undefined,
    funding: { source: "government", programId },
  };
}

/** Replaces one document by id and kind. */
export function replaced(
  documents: readonly ConfigDocument[],
  next: ConfigDocument,
): ConfigDocument[] {
  return documents.map((document) =>
    document.kind === next.kind && document.id === next.id ? next : document,
  );
}
