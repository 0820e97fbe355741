/**
 * The server under test of bench/http.ts: `BursarServer` composed exactly as `bursar serve --demo`
 * composes it (SQLite stores in DATA_DIR, the examples seeded through the change pipeline, the
 * demo clock), without the demo's synthetic traffic — demoTps 0, as test/support/server.ts starts
 * it. The traffic would be load the benchmark did not send, and it builds its 1,000,000-user
 * population for every 10-second window on the server's event loop (110–280 ms on the 2-core VM),
 * a stall the benchmark would charge to the server. The command line cannot say this:
 * `--demo-tps` is at least 1.
 *
 * Prints `bursar listening on URL` and `admin token: TOKEN` as `bursar serve` does. Stops (drains
 * and closes its stores) on SIGTERM or when its stdin closes, so it never outlives its parent.
 * Usage: node --import tsx bench/http-server-child.ts DATA_DIR
 */
import { fileURLToPath } from "node:url";
import { BursarServer } from "../src/server/bursar-server.ts";

const [data] = process.argv.slice(2);
if (data === undefined) throw new Error("usage: http-server-child.ts DATA_DIR");
const server = await BursarServer.start({
  host: "127.0.0.1",
  port: 0,
  data,
  schema: "bursar",
  demo: true,
  examples: fileURLToPath(new URL("../examples", import.meta.url)),
  demoTps: 0,
  seed: 20250116,
  logLevel: "warn",
  version: "bench",
});
process.stdout.write(`bursar listening on ${server.url}\nadmin token: ${server.adminToken}\n`);
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  server.stop().then(
    () => process.exit(0),
    (cause: unknown) => {
      process.stderr.write(`stopping failed: ${String(cause)}\n`);
      process.exit(1);
    },
  );
};
process.on("SIGTERM", stop);
process.stdin.on("end", stop);
process.stdin.resume();
