/**
 * What the console's end-to-end tests share: Debian's Chromium (installed by
 * scripts/ensure-chromium.sh when missing — never skipped: without it the tests fail and say
 * why), a console build no older than its sources, a browser driven by playwright-core, and the
 * folder screenshots are written to (test-artifacts/e2e/, gitignored).
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { type Browser, chromium } from "playwright-core";

const ROOT = join(import.meta.dirname, "..", "..");
export const CHROMIUM_PATH = "/usr/bin/chromium";
export const ARTIFACTS_DIRECTORY = join(ROOT, "test-artifacts", "e2e");

/** Quiet on a closed network: no background fetches, updates or sync (TOOLCHAIN.md). */
const CHROMIUM_FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];

/** Installs Chromium through the project's script when it is missing; throws why it cannot. */
export function ensureChromium(): void {
  if (existsSync(CHROMIUM_PATH)) return;
  try {
    execFileSync("bash", [join(ROOT, "scripts", "ensure-chromium.sh")], {
      stdio: ["ignore", "inherit", "pipe"],
      timeout: 300_000,
    });
  } catch (cause) {
    const stderr = (cause as { stderr?: Buffer }).stderr?.toString().trim() ?? "";
    throw new Error(
      `the console's end-to-end tests need Chromium at ${CHROMIUM_PATH}, and scripts/ensure-chromium.sh could not install it: ${stderr || String(cause)}`,
    );
  }
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`scripts/ensure-chromium.sh ran, but ${CHROMIUM_PATH} is still missing`);
  }
}

function newestSourceMs(directory: string): number {
  let newest = 0;
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSourceMs(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * Builds the console when dist/console is missing or older than console/ (a developer who edited
 * it and did not rebuild), so the tests always drive the sources they sit beside. The server
 * reads the build when it starts: call this before starting it.
 */
export function ensureConsoleBuild(): void {
  const index = join(ROOT, "dist", "console", "index.html");
  if (existsSync(index) && statSync(index).mtimeMs >= newestSourceMs(join(ROOT, "console"))) {
    return;
  }
  execFileSync(
    process.execPath,
    [
      join(ROOT, "node_modules", "vite", "bin", "vite.js"),
      "build",
      "--config",
      "console/vite.config.ts",
    ],
    { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"], timeout: 120_000 },
  );
}

export async function launchChromium(): Promise<Browser> {
  ensureChromium();
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_FLAGS,
    timeout: 60_000,
  });
}

export function screenshotPath(name: string): string {
  mkdirSync(ARTIFACTS_DIRECTORY, { recursive: true });
  return join(ARTIFACTS_DIRECTORY, `${name}.png`);
}
