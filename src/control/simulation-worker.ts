/**
 * A simulation worker thread: evaluates its segments of the sample under both snapshots into its
 * own accumulator and answers with the tally (see simulate-payment-files.ts).
 */
import { parentPort, workerData } from "node:worker_threads";
import { SimulationAccumulator } from "../core/simulation/simulation-accumulator.ts";
import type { SimulationWorkerData, SimulationWorkerMessage } from "./simulate-payment-files.ts";
import { simulateClaimedSegments } from "./simulate-payment-files.ts";

const data = workerData as SimulationWorkerData;
const port = parentPort;
if (port === null) throw new Error("simulation-worker.ts runs only as a worker thread");
const accumulator = new SimulationAccumulator(data.options);
const claimed = simulateClaimedSegments(
  data.current,
  data.proposed,
  data.segments,
  new Int32Array(data.nextSegment),
  accumulator,
  (payments) => port.postMessage({ kind: "progress", payments } satisfies SimulationWorkerMessage),
);
port.postMessage({
  kind: "done",
  tally: accumulator.tally(),
  claimed,
} satisfies SimulationWorkerMessage);
