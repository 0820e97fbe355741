import { buildSnapshot, type Snapshot } from "../core/evaluator/snapshot.ts";
import type { Finding } from "../core/findings.ts";
import { loadConfig } from "./load-config.ts";

export type LoadedSnapshot =
  | { readonly ok: true; readonly snapshot: Snapshot; readonly findings: readonly Finding[] }
  | { readonly ok: false; readonly findings: readonly Finding[]; readonly message: string };

/**
 * Loads a configuration directory into a snapshot for the evaluator. Any error finding refuses
 * the whole set: evaluating "the campaigns that happened to be valid" would silently drop a
 * campaign an operator believes is live.
 */
export async function loadSnapshot(
  paths: readonly string[],
  randomSeed: number,
): Promise<LoadedSnapshot> {
  const { config, findings, files } = await loadConfig(paths);
  if (files.length === 0)
    return { ok: false, findings, message: `no configuration files in ${paths.join(", ")}` };
  const errors = findings.filter((finding) => finding.severity === "error").length;
  if (errors > 0) return { ok: false, findings, message: `the configuration has ${errors} errors` };
  const built = buildSnapshot(config, { version: 1, randomSeed });
  if (!built.ok) return { ok: false, findings, message: built.message };
  return { ok: true, snapshot: built.snapshot, findings };
}
