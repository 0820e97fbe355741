import { buildSnapshot, type Snapshot } from "../../src/core/evaluator/snapshot.ts";
import { resolveConfig } from "../../src/core/model/config-set.ts";
import { validateDocument } from "../../src/core/model/document.ts";
import { validCampaign, validEnvelope, validTemplate, withField } from "./documents.ts";

/** A snapshot from raw documents, which must all be valid and resolve. */
export function snapshotOf(documents: readonly Record<string, unknown>[], version = 1): Snapshot {
  const sourced = documents.map((raw, index) => {
    const result = validateDocument(raw);
    if (!result.ok) throw new Error(`document ${index}: ${JSON.stringify(result.issues)}`);
    return { source: String(index), document: result.document };
  });
  const { config, issues } = resolveConfig(sourced);
  if (issues.length > 0) throw new Error(`documents do not resolve: ${JSON.stringify(issues)}`);
  const built = buildSnapshot(config, { version, randomSeed: 0 });
  if (!built.ok) throw new Error(built.message);
  return built.snapshot;
}

/**
 * The valid campaign alone, its template without bands, the envelope and a total budget of
 * `totalBudgetMinor`: it subsidises `coffeePayment` (documents.ts) with 80 fen.
 */
export function coffeeSnapshot(totalBudgetMinor: number): Snapshot {
  return snapshotOf([
    withField(validTemplate(), "bands", undefined),
    validEnvelope(),
    { ...validCampaign(), limits: { totalBudgetMinor } },
  ]);
}
