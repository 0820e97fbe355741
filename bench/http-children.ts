/**
 * The processes the HTTP benchmarks (bench/http.ts) measure: the Bursar server
 * (bench/http-server-child.ts) and a bare Fastify hello-world (bench/http-hello-child.ts), each a
 * child process of its own so that the load generator, in the benchmark's process, never shares an
 * event loop with the server under test. Children are always stopped: by `stop()`, by an exit hook
 * of this process, and — when this process dies without running hooks — by their stdin closing.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { cpuSecondsOf } from "./process-cpu.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SERVER_CHILD = fileURLToPath(new URL("./http-server-child.ts", import.meta.url));
const HELLO_CHILD = fileURLToPath(new URL("./http-hello-child.ts", import.meta.url));

/** Startup includes tsx loading the sources and, for the demo, seeding through the pipeline. */
const START_TIMEOUT_MS = 60_000;
/** A drained server closes its stores in well under this; past it, SIGKILL. */
const STOP_TIMEOUT_MS = 10_000;
/** Lines of a child's stderr kept for the message when it fails to start. */
const STDERR_LINES_KEPT = 20;

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function track(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once("exit", () => {
      for (const each of live) each.kill("SIGKILL");
    });
  }
  live.add(child);
  child.once("exit", () => live.delete(child));
}

export interface Child {
  /** The `KEY VALUE` lines it printed on stdout before it was ready, by their first words. */
  readonly said: ReadonlyMap<string, string>;
  /** CPU seconds it has used so far (user + system), or undefined where /proc cannot tell. */
  cpuSeconds(): number | undefined;
  /** The same for its main thread alone (the event loop), without its worker and V8 threads. */
  mainThreadCpuSeconds(): number | undefined;
  /** Asks it to stop (SIGTERM), waits, and kills it if it has not exited by the time-out. */
  stop(): Promise<void>;
}

/**
 * Spawns a child and waits until its stdout has carried a line starting with each of `prefixes`;
 * the rest of each such line is kept in `said`. Kills it when it exits, fails or stays silent.
 */
async function startChild(
  args: readonly string[],
  prefixes: readonly string[],
  name: string,
): Promise<Child> {
  const child = spawn(process.execPath, [...args], {
    cwd: ROOT,
    stdio: ["pipe", "pipe", "pipe"],
  });
  track(child);
  const said = new Map<string, string>();
  const stderrTail: string[] = [];
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${name} was not ready after ${START_TIMEOUT_MS} ms`)),
        START_TIMEOUT_MS,
      );
      let pending = "";
      child.stdout!.setEncoding("utf8");
      child.stdout!.on("data", (chunk: string) => {
        pending += chunk;
        let end = pending.indexOf("\n");
        while (end >= 0) {
          const line = pending.slice(0, end);
          pending = pending.slice(end + 1);
          const prefix = prefixes.find((each) => line.startsWith(each));
          if (prefix !== undefined) said.set(prefix, line.slice(prefix.length).trim());
          end = pending.indexOf("\n");
        }
        if (prefixes.every((prefix) => said.has(prefix))) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.stderr!.setEncoding("utf8");
      child.stderr!.on("data", (chunk: string) => {
        stderrTail.push(...chunk.split("\n").filter((line) => line !== ""));
        stderrTail.splice(0, Math.max(0, stderrTail.length - STDERR_LINES_KEPT));
      });
      child.once("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(
          new Error(
            `${name} exited (${signal ?? code}) before it was ready: ${stderrTail.join(" | ")}`,
          ),
        );
      });
    });
  } catch (cause) {
    await stop();
    throw cause;
  }
  // Read on after startup so a chatty child never blocks on a full pipe.
  child.stdout!.resume();
  child.stderr!.resume();
  const { pid } = child;
  const cpuSeconds = () => (pid === undefined ? undefined : cpuSecondsOf(pid));
  const mainThreadCpuSeconds = () => (pid === undefined ? undefined : cpuSecondsOf(pid, pid));
  return { said, stop, cpuSeconds, mainThreadCpuSeconds };
}

export interface ServerChild extends Pick<Child, "stop" | "cpuSeconds" | "mainThreadCpuSeconds"> {
  readonly url: string;
}

export interface BursarChild extends ServerChild {
  readonly adminToken: string;
}

/** The Bursar server on a free loopback port, its SQLite stores in `dataDirectory`. */
export async function startBursarServer(dataDirectory: string): Promise<BursarChild> {
  const child = await startChild(
    ["--import", "tsx", SERVER_CHILD, dataDirectory],
    ["bursar listening on ", "admin token: "],
    "the Bursar server",
  );
  return {
    url: child.said.get("bursar listening on ")!,
    adminToken: child.said.get("admin token: ")!,
    stop: child.stop,
    cpuSeconds: child.cpuSeconds,
    mainThreadCpuSeconds: child.mainThreadCpuSeconds,
  };
}

/** The bare Fastify hello-world on a free loopback port. */
export async function startHelloWorld(): Promise<ServerChild> {
  const child = await startChild(
    ["--import", "tsx", HELLO_CHILD],
    ["listening on "],
    "hello-world",
  );
  return {
    url: child.said.get("listening on ")!,
    stop: child.stop,
    cpuSeconds: child.cpuSeconds,
    mainThreadCpuSeconds: child.mainThreadCpuSeconds,
  };
}
