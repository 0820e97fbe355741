/**
 * The replay's guarded runs in worker threads: each is independent of the other (its own
 * stores, evaluators and guard over the same seeded traffic), so two run at once on two cores.
 * The same for guard mode's replay, whose guarded runs are the external engine behind the guard.
 */
import { Worker } from "node:worker_threads";
import type { GuardModeRunInput, GuardModeRunResult } from "./guard-mode-replay.ts";
import type { GuardedRunInput, GuardedRunResult } from "./incident-replay.ts";

/** What a replay worker runs: one of the native replay's guarded runs, or one of guard mode's. */
export type ReplayWorkerTask =
  | { readonly mode: "native"; readonly input: GuardedRunInput }
  | { readonly mode: "guard"; readonly input: GuardModeRunInput };

export type ReplayWorkerMessage =
  | { readonly kind: "progress"; readonly doneMs: number }
  | { readonly kind: "done"; readonly result: GuardedRunResult | GuardModeRunResult }
  | { readonly kind: "failed"; readonly message: string };

export function runGuardedWorldInWorker(
  input: GuardedRunInput,
  onProgress: (doneMs: number) => void,
): Promise<GuardedRunResult> {
  return runInWorker({ mode: "native", input }, onProgress) as Promise<GuardedRunResult>;
}

export function runGuardModeWorldInWorker(
  input: GuardModeRunInput,
  onProgress: (doneMs: number) => void,
): Promise<GuardModeRunResult> {
  return runInWorker({ mode: "guard", input }, onProgress) as Promise<GuardModeRunResult>;
}

function runInWorker(
  task: ReplayWorkerTask,
  onProgress: (doneMs: number) => void,
): Promise<GuardedRunResult | GuardModeRunResult> {
  const { input } = task;
  return new Promise((resolve, reject) => {
    const worker = startWorker(task);
    let answered = false;
    worker.on("message", (message: ReplayWorkerMessage) => {
      if (message.kind === "progress") onProgress(message.doneMs);
      else if (message.kind === "done") {
        answered = true;
        resolve(message.result);
      } else {
        answered = true;
        reject(new Error(`the ${input.kind} guarded run failed: ${message.message}`));
      }
    });
    worker.on("error", (error) => {
      answered = true;
      reject(error);
    });
    worker.on("exit", (code) => {
      if (!answered) reject(new Error(`a replay worker exited (code ${code}) before answering`));
    });
  });
}

/**
 * The worker runs this folder's TypeScript directly; Node 20 workers do not inherit tsx's loader,
 * so a two-line bootstrap registers it first (as the simulation's workers do).
 */
function startWorker(task: ReplayWorkerTask): Worker {
  const entry = new URL("./replay-worker.ts", import.meta.url);
  const tsxApi = import.meta.resolve("tsx/esm/api");
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(bootstrap, { eval: true, workerData: task });
}
