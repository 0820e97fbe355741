/**
 * Restart under load loses nothing acknowledged: `bursar serve` runs as a child process (as an
 * operator runs it) on both stores while this test drives applies at it; it is killed mid-load —
 * SIGKILL, then in a second round SIGTERM — and started again on the same data. Every payment that
 * was answered `reserved` before the kill is answered again, after the restart, with the identical
 * stored reservation (`replayed: true`); `bursar ledger verify` then finds every invariant holding.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, inject, test } from "vitest";
import { demoTimeOf } from "../../src/server/demo-clock.ts";
import { groceryPayment, mapBounded } from "../support/api-calls.ts";
import { PROJECT_ROOT, runCli } from "../support/run-cli.ts";
import { TEST_STORES, type TestStore } from "../support/server.ts";

const START_TIMEOUT_MS = 45_000;
const EXIT_TIMEOUT_MS = 20_000;
const REQUEST_TIMEOUT_MS = 5_000;
/** Payments acknowledged before the server is killed. */
const ACKNOWLEDGED_BEFORE_KILL = 60;
const DRIVERS = 8;
const APPLY_RETRIES_MAX = 5;
/** Payments one round sends at most, whatever happens. */
const ROUND_PAYMENTS_MAX = 3_000;

interface ChildServer {
  readonly url: string;
  /** Printed on the first start only. */
  readonly adminToken: string | undefined;
  readonly process: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly stderr: () => string;
}

const started: ChildProcess[] = [];

/** Starts `bursar serve` and reads its URL (and, on a first start, its admin token) from stdout. */
function startServe(storeFlags: readonly string[], firstStart: boolean): Promise<ChildServer> {
  const child = spawn(
    process.execPath,
    [
      join(PROJECT_ROOT, "bin", "bursar.js"),
      "serve",
      ...storeFlags,
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--demo",
      "--demo-tps",
      "1",
      "--log-level",
      "warn",
    ],
    { cwd: PROJECT_ROOT, stdio: ["ignore", "pipe", "pipe"] },
  );
  started.push(child);
  let stdout = "";
  let stderr = "";
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`bursar serve did not start in time; stdout ${stdout}; stderr ${stderr}`));
    }, START_TIMEOUT_MS);
    const check = () => {
      const url = /^bursar listening on (\S+)$/m.exec(stdout)?.[1];
      const adminToken = /^admin token: (\S+)$/m.exec(stdout)?.[1];
      if (url === undefined || (firstStart && adminToken === undefined)) return;
      clearTimeout(timer);
      resolve({ url, adminToken, process: child, exited, stderr: () => stderr });
    };
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      check();
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`bursar serve exited (${code ?? signal}) before listening: ${stderr}`));
    });
  });
}

async function post(url: string, token: string, body: unknown) {
  const response = await fetch(url, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  // biome-ignore lint/suspicious/noExplicitAny: the assertions check the answer's fields
  return { status: response.status, body: (await response.json()) as any };
}

interface Acknowledged {
  readonly body: ReturnType<typeof groceryPayment>;
  readonly reservation: unknown;
}

/**
 * Drives applies at the server until it stops answering, recording every payment answered
 * `reserved`; once `ackBeforeKill` are recorded, `kill` runs while the drivers keep sending.
 */
async function driveAndKill(
  server: ChildServer,
  token: string,
  round: string,
  kill: () => void,
): Promise<{ acknowledged: Map<string, Acknowledged>; sent: number }> {
  const acknowledged = new Map<string, Acknowledged>();
  let next = 0;
  let killed = false;
  const driver = async () => {
    while (next < ROUND_PAYMENTS_MAX) {
      const index = next;
      next += 1;
      const body = groceryPayment(`restart-${round}-${index}`, {
        userId: `restart-${round}-user-${index}`,
        amountMinor: 2_000 + (index % 30) * 100,
        atMs: demoTimeOf(Date.now()),
      });
      let answer: Awaited<ReturnType<typeof post>>;
      try {
        answer = await post(`${server.url}/v1/payments/apply`, token, body);
      } catch {
        if (killed) return; // refused, reset or timed out: the server is gone
        throw new Error(`an apply failed before the kill; stderr: ${server.stderr()}`);
      }
      if (answer.status === 200 && answer.body.code === "reserved") {
        acknowledged.set(body.paymentId, { body, reservation: answer.body.reservation });
        if (!killed && acknowledged.size >= ACKNOWLEDGED_BEFORE_KILL) {
          killed = true;
          kill();
        }
      } else if (answer.status >= 500 && !killed) {
        throw new Error(`an apply failed before the kill: ${JSON.stringify(answer.body)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: DRIVERS }, driver));
  expect(killed, `killed after ${acknowledged.size} acknowledged of ${next} sent`).toBe(true);
  return { acknowledged, sent: next };
}

/** Every acknowledged payment answers again with its identical stored reservation. */
async function expectAllReplayed(
  server: ChildServer,
  token: string,
  acknowledged: ReadonlyMap<string, Acknowledged>,
): Promise<void> {
  const lost: string[] = [];
  await mapBounded([...acknowledged.values()], DRIVERS, async ({ body, reservation }) => {
    // A store that misses the ledger's 50 ms deadline (a cold restart) answers
    // `ledger_unavailable`; a retry with the same id is safe by contract.
    let answer = await post(`${server.url}/v1/payments/apply`, token, body);
    for (let retried = 0; retried < APPLY_RETRIES_MAX; retried += 1) {
      if (answer.status !== 200 || answer.body.code !== "ledger_unavailable") break;
      answer = await post(`${server.url}/v1/payments/apply`, token, body);
    }
    if (
      answer.status !== 200 ||
      answer.body.replayed !== true ||
      JSON.stringify(answer.body.reservation) !== JSON.stringify(reservation)
    ) {
      lost.push(`${body.paymentId}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`);
    }
  });
  expect(lost).toEqual([]);
}

function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  what: string,
  stderr: () => string = () => "",
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${what} took over ${ms} ms; stderr: ${stderr().slice(-3_000)}`)),
        ms,
      );
    }),
  ]);
}

afterAll(() => {
  for (const child of started) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
});

describe.each(TEST_STORES)("restarting bursar serve on %s under load", (store: TestStore) => {
  test("loses nothing acknowledged across SIGKILL and SIGTERM", async () => {
    const data = mkdtempSync(join(tmpdir(), "bursar-restart-test-"));
    const schema = `restart_${process.pid}_${Math.floor(Math.random() * 1e6)}`;
    const storeFlags =
      store === "sqlite"
        ? ["--data", data]
        : ["--database", inject("postgresUrl"), "--schema", schema];
    try {
      const first = await startServe(storeFlags, true);
      const adminToken = first.adminToken as string;
      const issued = await post(`${first.url}/v1/tokens`, adminToken, {
        name: "restart test",
        principalId: "restart.payment-service",
        roles: ["payment-service"],
      });
      expect(issued.status).toBe(201);
      const token = issued.body.token as string;

      // Round 1: SIGKILL mid-load: no drain at all.
      const killedRound = await driveAndKill(first, token, "kill", () =>
        first.process.kill("SIGKILL"),
      );
      const killedExit = await withTimeout(first.exited, EXIT_TIMEOUT_MS, "exiting on SIGKILL");
      expect(killedExit.signal).toBe("SIGKILL");

      // The admin token is not printed again; the first one, and the issued token, still work.
      const second = await startServe(storeFlags, false);
      expect(second.adminToken).toBeUndefined();
      await expectAllReplayed(second, token, killedRound.acknowledged);

      // Round 2: SIGTERM mid-load: the server drains and exits cleanly.
      const termRound = await driveAndKill(second, token, "term", () =>
        second.process.kill("SIGTERM"),
      );
      const termExit = await withTimeout(
        second.exited,
        EXIT_TIMEOUT_MS,
        "draining on SIGTERM",
        second.stderr,
      );
      expect(termExit.code).toBe(0);

      const third = await startServe(storeFlags, false);
      await expectAllReplayed(third, token, killedRound.acknowledged);
      await expectAllReplayed(third, token, termRound.acknowledged);
      const self = await fetch(`${third.url}/v1/tokens/self`, {
        headers: { authorization: `Bearer ${adminToken}` },
      });
      expect(self.status).toBe(200);
      third.process.kill("SIGTERM");
      expect((await withTimeout(third.exited, EXIT_TIMEOUT_MS, "the last drain")).code).toBe(0);

      const verify = runCli(["ledger", "verify", ...storeFlags, "--json"]);
      expect(verify.status, verify.stderr).toBe(0);
      const report = JSON.parse(verify.stdout) as { ok: boolean; violations: unknown[] };
      expect(report.violations).toEqual([]);
      expect(report.ok).toBe(true);
      console.log(
        `restart on ${store}: ${killedRound.acknowledged.size} of ${killedRound.sent} acknowledged before SIGKILL, ${termRound.acknowledged.size} of ${termRound.sent} before SIGTERM; all replayed; ledger verified`,
      );
    } finally {
      rmSync(data, { recursive: true, force: true });
    }
  }, 150_000);
});
