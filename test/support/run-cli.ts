import { spawnSync } from "node:child_process";
import { join } from "node:path";

export const PROJECT_ROOT = join(import.meta.dirname, "..", "..");

export interface CliResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `bursar ARGS…` as a user would, through bin/bursar.js, from the project root. */
export function runCli(args: readonly string[], input?: string, timeoutMs = 60_000): CliResult {
  const result = spawnSync(process.execPath, [join(PROJECT_ROOT, "bin", "bursar.js"), ...args], {
    cwd: PROJECT_ROOT,
    input,
    encoding: "utf8",
    timeout: timeoutMs,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
