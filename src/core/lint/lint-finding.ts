import type { LintCode, LintSeverity } from "./lint-codes.ts";

/** One lint finding: the fields of CONTRACTS.md's lint output, plus where it came from. */
export interface LintFinding {
  /** The document's source (its file when read from files); the same as `source`. */
  readonly file: string;
  readonly source: string;
  /** Dotted path inside the document, e.g. `offer.rateBps`; "" for the whole document. */
  readonly path: string;
  readonly code: LintCode;
  readonly severity: LintSeverity;
  readonly message: string;
  readonly line?: number;
  readonly column?: number;
  /** Campaigns the finding is about besides its own document, e.g. a template edit's fan-out. */
  readonly campaignIds?: readonly string[];
}

/**
 * A finding's stable identity across runs: code, source and path. The change pipeline keys
 * acknowledgements of warnings on it, so it must not depend on the message or the position.
 */
export function lintFindingKey(finding: Pick<LintFinding, "code" | "source" | "path">): string {
  return `${finding.code}|${finding.source}|${finding.path}`;
}

/** Whether findings block a change: any error does; warnings need acknowledgements instead. */
export function lintFindingsBlock(findings: readonly Pick<LintFinding, "severity">[]): boolean {
  return findings.some((finding) => finding.severity === "error");
}
