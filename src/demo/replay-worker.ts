/** A replay worker thread: one guarded run (see replay-threads.ts), its progress and its result. */
import { parentPort, workerData } from "node:worker_threads";
import { runGuardModeWorld } from "./guard-mode-replay.ts";
import { runGuardedWorld } from "./incident-replay.ts";
import type { ReplayWorkerMessage, ReplayWorkerTask } from "./replay-threads.ts";

const port = parentPort;
if (port === null) throw new Error("replay-worker.ts runs only as a worker thread");
const send = (message: ReplayWorkerMessage) => port.postMessage(message);
try {
  const task = workerData as ReplayWorkerTask;
  const onProgress = (doneMs: number) => send({ kind: "progress", doneMs });
  const result =
    task.mode === "native"
      ? await runGuardedWorld(task.input, onProgress)
      : await runGuardModeWorld(task.input, onProgress);
  send({ kind: "done", result });
} catch (error) {
  send({
    kind: "failed",
    message: error instanceof Error ? (error.stack ?? error.message) : String(error),
  });
}
