/**
 * `bursar serve`: the HTTP server (CONTRACTS.md, "The server"). Prints `bursar listening on
 * http://HOST:PORT` when ready and, on the first start, `admin token: TOKEN` once; runs until
 * SIGINT or SIGTERM, then drains and closes its stores.
 */
import { readFileSync } from "node:fs";
import type { Command } from "@commander-js/extra-typings";
import { WHOLE_TRAFFIC_BPS } from "../../core/guard/guard-monitors.ts";
import { BursarServer } from "../../server/bursar-server.ts";
import { EXIT_OK, EXIT_UNUSABLE_INPUT, type ExitCodeHolder } from "../exit-codes.ts";
import {
  parseSeed,
  parseTrafficShareBps,
  parseWholeNumber,
  TRAFFIC_SHARE_EXPECTED,
} from "../options.ts";

const LOG_LEVELS = ["debug", "info", "warn", "error", "silent"] as const;

function packageVersion(): string {
  const text = readFileSync(new URL("../../../package.json", import.meta.url), "utf8");
  return (JSON.parse(text) as { version: string }).version;
}

export function registerServeCommand(program: Command, outcome: ExitCodeHolder): void {
  program
    .command("serve")
    .description(
      "Serve the HTTP API (payments and control plane), /metrics, /openapi.json and /docs until SIGINT or SIGTERM.",
    )
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option("--port <n>", "port to listen on; 0 picks a free one", "8080")
    .option("--data <dir>", "data directory of the embedded SQLite stores", "./.bursar")
    .option("--database <url>", "PostgreSQL (postgres://…) instead of the data directory")
    .option("--schema <name>", "with --database: the PostgreSQL schema", "bursar")
    .option(
      "--demo",
      "seed the example configuration through the change pipeline (once) and drive synthetic traffic at this server",
    )
    .option("--demo-tps <n>", "with --demo: payments per second the demo sends", "50")
    .option("--examples <dir>", "with --demo: the configuration it seeds", "examples")
    .option("--seed <n>", "seed of random offers and of the demo's traffic", "20250116")
    .option("--log-level <level>", `JSON logs to stderr: ${LOG_LEVELS.join(", ")}`, "info")
    .option(
      "--traffic-share <fraction>",
      "this process's share of the payment traffic, a decimal in (0, 1] (0.25 for one of four evenly balanced servers); the runtime guard scales the fleet's money-per-minute limits (declared ceilings) by it",
      "1",
    )
    .action(async (flags) => {
      const say = (message: string) => {
        process.stderr.write(`bursar serve: ${message}\n`);
        outcome.exitCode = EXIT_UNUSABLE_INPUT;
      };
      const port = parseWholeNumber(flags.port, 0, 65_535);
      const demoTps = parseWholeNumber(flags.demoTps, 1, 5_000);
      const seed = parseSeed(flags.seed);
      const logLevel = LOG_LEVELS.find((level) => level === flags.logLevel);
      const trafficShareBps = parseTrafficShareBps(flags.trafficShare);
      if (port === undefined) return say(`--port: a whole number in 0..65535, got ${flags.port}`);
      if (demoTps === undefined)
        return say(`--demo-tps: a whole number in 1..5000, got ${flags.demoTps}`);
      if (seed === undefined) return say(`--seed: a whole number in 0..4294967295`);
      if (logLevel === undefined)
        return say(`--log-level: one of ${LOG_LEVELS.join(", ")}, got ${flags.logLevel}`);
      if (trafficShareBps === undefined)
        return say(
          `--traffic-share: expected ${TRAFFIC_SHARE_EXPECTED}, got ${JSON.stringify(flags.trafficShare)}`,
        );
      let server: BursarServer;
      try {
        server = await BursarServer.start({
          host: flags.host,
          port,
          data: flags.data,
          ...(flags.database === undefined ? {} : { database: flags.database }),
          schema: flags.schema,
          demo: flags.demo === true,
          examples: flags.examples,
          demoTps,
          seed,
          logLevel: logLevel === "silent" ? false : logLevel,
          version: packageVersion(),
          trafficShareBps,
        });
      } catch (cause) {
        return say(`cannot start: ${cause instanceof Error ? cause.message : String(cause)}`);
      }
      process.stdout.write(`bursar listening on ${server.url}\n`);
      // On stderr: stdout's lines are a contract (CONTRACTS.md, "The server").
      process.stderr.write(
        `bursar serve: the console is at ${server.url}/ — sign in with an API token (docs/reference/console.md)\n`,
      );
      if (server.adminToken !== undefined) {
        process.stdout.write(`admin token: ${server.adminToken}\n`);
        process.stderr.write(
          "bursar serve: the admin token above is shown this once and stored only as a hash; keep it.\n",
        );
      }
      if (trafficShareBps < WHOLE_TRAFFIC_BPS) {
        process.stderr.write(
          `bursar serve: the runtime guard takes this process's share of the traffic as ${trafficShareBps / WHOLE_TRAFFIC_BPS}: declared spend ceilings are scaled by it (docs/reference/guard.md)\n`,
        );
      }
      if (server.demoSeed !== undefined) {
        process.stderr.write(
          `bursar serve: demo ${server.demoSeed.seeded ? `seeded the examples through the change pipeline as ${server.demoSeed.changeId}` : `not seeded again: ${server.demoSeed.reason}`}; sending ${demoTps} payments/s\n`,
        );
      }
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          process.stderr.write(`bursar serve: ${signal}: draining and closing the stores\n`);
          process.off("SIGINT", onInt);
          process.off("SIGTERM", onTerm);
          server.stop().then(resolve, (cause: unknown) => {
            process.stderr.write(
              `bursar serve: shutdown failed: ${cause instanceof Error ? cause.message : String(cause)}\n`,
            );
            outcome.exitCode = EXIT_UNUSABLE_INPUT;
            resolve();
          });
        };
        const onInt = () => stop("SIGINT");
        const onTerm = () => stop("SIGTERM");
        process.on("SIGINT", onInt);
        process.on("SIGTERM", onTerm);
      });
      if (outcome.exitCode === EXIT_OK) process.stderr.write("bursar serve: stopped\n");
    });
}
