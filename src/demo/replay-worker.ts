/** A replay worker thread: one guarded run (see replay-threads.ts), its progress and its result. */
import { parentPort, workerData } from "node:worker_threads";
import { type GuardedRunInput, runGuardedWorld } from "./incident-replay.ts";
import type { ReplayWorkerMessage } from "./replay-threads.ts";

const port = parentPort;
if (port === null) throw new Error("replay-worker.ts runs only as a worker thread");
const send = (message: ReplayWorkerMessage) => port.postMessage(message);
try {
  const result = await runGuardedWorld(workerData as GuardedRunInput, (doneMs) =>
    send({ kind: "progress", doneMs }),
  );
  send({ kind: "done", result });
} catch (error) {
  send({
    kind: "failed",
    message: error instanceof Error ? (error.stack ?? error.message) : String(error),
  });
}
