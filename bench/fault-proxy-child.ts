/**
 * The fault proxy (test/support/fault-proxy.ts) in a process of its own, so that a benchmark
 * timing the engine's answers does not also time the proxy's work on the same event loop.
 * Prints "port N" when listening; each line on stdin sets the mode and is acknowledged with
 * "mode M". Exits when stdin closes.
 * Usage: node --import tsx fault-proxy-child.ts HOST PORT
 */
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { type FaultMode, FaultProxy } from "../test/support/fault-proxy.ts";

const MODES: readonly FaultMode[] = [
  "pass",
  "refuse",
  "hang",
  "delay",
  "drop_after_commit",
  "garbage",
];

async function main(): Promise<void> {
  const [host, port] = process.argv.slice(2);
  if (host === undefined || port === undefined) throw new Error("usage: HOST PORT");
  const proxy = await FaultProxy.start(host, Number(port));
  process.stdout.write(`port ${proxy.port}\n`);
  const lines = createInterface({ input: process.stdin });
  lines.on("line", (line) => {
    const mode = line.trim() as FaultMode;
    if (!MODES.includes(mode)) {
      process.stdout.write(`unknown mode ${line}\n`);
      return;
    }
    proxy.mode = mode;
    if (mode === "pass") proxy.cutAll();
    process.stdout.write(`mode ${mode}\n`);
  });
  lines.on("close", () => void proxy.close().then(() => process.exit(0)));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
