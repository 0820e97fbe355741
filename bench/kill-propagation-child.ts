/**
 * One evaluator process of the kill propagation runs (bench/kill-propagation.ts, and
 * test/guard/kill-propagation.test.ts): a PostgreSQL kill store, a kill watcher (with or without
 * notifications) and the coffee evaluator guarded by it, quoting the coffee payment every
 * millisecond. Prints `ready` once it grants, then one JSON line each time the answer flips:
 * `{"event":"refused","atMs":…,"reason":…,"sequence":…}` at the first refusal after grants, and
 * `{"event":"granted",…}` at the first grant after refusals. `atMs` is
 * `performance.timeOrigin + performance.now()`, comparable with the parent's on one machine.
 * Exits when its stdin closes, so it never outlives its parent.
 * Usage: node --import tsx kill-propagation-child.ts URL SCHEMA NOTIFICATIONS(0|1) POLL_MS
 *   ALLOWED_STALENESS_MS CAMPAIGN_ID (the coffee snapshot's campaign, `sh-coffee`)
 */
import { createFastEvaluator } from "../src/core/evaluator/fast-evaluator.ts";
import { KillWatcher } from "../src/guard/kill-watcher.ts";
import { killedEvaluator } from "../src/guard/killed-evaluator.ts";
import { PostgresKillStore } from "../src/stores/postgres/postgres-kill-store.ts";
import { coffeePayment } from "../test/support/documents.ts";
import { coffeeSnapshot } from "../test/support/snapshots.ts";

const QUOTE_EVERY_MS = 1;

const [url, schema, notifications, pollMs, allowedStalenessMs, killedCampaignId] =
  process.argv.slice(2);
if (url === undefined || schema === undefined || killedCampaignId === undefined) {
  throw new Error("usage: URL SCHEMA NOTIFICATIONS POLL_MS ALLOWED_STALENESS_MS CAMPAIGN_ID");
}
const nowMs = () => performance.timeOrigin + performance.now();
const store = await PostgresKillStore.open({ url, schema });
const watcher = await KillWatcher.start({
  store,
  nowMs,
  notifications: notifications === "1",
  pollMs: Number(pollMs),
  allowedStalenessMs: Number(allowedStalenessMs),
});
const evaluator = killedEvaluator(createFastEvaluator(coffeeSnapshot(1_000_000)), watcher);
const payment = coffeePayment("kill-propagation");

let granting: boolean | undefined;
let timer: ReturnType<typeof setTimeout> | undefined;
const tick = () => {
  const atMs = nowMs();
  const decision = evaluator.quote(payment);
  const grants = decision.subsidies.length > 0;
  if (granting === undefined) {
    if (grants) {
      granting = true;
      process.stdout.write("ready\n");
    }
  } else if (grants !== granting) {
    granting = grants;
    const reason =
      decision.reason ??
      decision.rejected.find((rejection) => rejection.campaignId === killedCampaignId)?.reason ??
      null;
    process.stdout.write(
      `${JSON.stringify({ event: grants ? "granted" : "refused", atMs, reason, sequence: watcher.state.sequence })}\n`,
    );
  }
  timer = setTimeout(tick, QUOTE_EVERY_MS);
};
tick();

process.stdin.resume();
process.stdin.on("end", async () => {
  clearTimeout(timer);
  await watcher.stop();
  await store.close();
  process.exit(0);
});
