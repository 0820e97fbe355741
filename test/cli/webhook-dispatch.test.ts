/**
 * `bursar webhook dispatch` against a local receiver (node:http on 127.0.0.1): `--once` delivers
 * the notification an opened incident enqueued and exits; without it the dispatcher runs until
 * SIGTERM and records the attempt in flight before it exits. The command runs as a child process
 * (asynchronously, so this process's receiver can answer it).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { verifyWebhookSignature } from "../../src/guard/webhook-signing.ts";
import { PROJECT_ROOT, runCli } from "../support/run-cli.ts";

const directory = mkdtempSync(join(tmpdir(), "bursar-webhook-dispatch-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
const SECRET = "whsec_dispatch-test-0123456789abcdef";

interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** Records every POST; answers 204, after `delayMs` for the event types listed there. */
async function startReceiver(delayMs: Record<string, number> = {}) {
  const received: Received[] = [];
  const waiters: (() => void)[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks).toString("utf8") });
      for (const wake of waiters.splice(0)) wake();
      const delay = delayMs[String(request.headers["bursar-event"])] ?? 0;
      setTimeout(() => response.writeHead(204).end(), delay);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/bursar`,
    received,
    /** Resolves once `count` requests arrived. */
    until: async (count: number) => {
      while (received.length < count) await new Promise<void>((wake) => waiters.push(wake));
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** `bursar ARGS…` as a child process that does not block this one's event loop. */
function startCli(args: readonly string[]) {
  const child = spawn(process.execPath, [join(PROJECT_ROOT, "bin", "bursar.js"), ...args], {
    cwd: PROJECT_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString("utf8");
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  const exited = new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on("close", (status) => resolve({ status, stdout, stderr })),
  );
  return { child, exited, stderr: () => stderr };
}

function verified(delivery: Received): boolean {
  return verifyWebhookSignature(
    SECRET,
    String(delivery.headers["bursar-signature"]),
    delivery.body,
    Date.now(),
    300_000,
  ).ok;
}

describe("bursar webhook dispatch", () => {
  test("--once delivers an opened incident's notification; a run stops cleanly on SIGTERM", {
    timeout: 240_000,
  }, async () => {
    const receiver = await startReceiver({ "incident.mitigated": 1_500 });
    try {
      const data = join(directory, "data");
      const added = runCli(
        ["webhook", "add", "pager", receiver.url, "--events", "*", "--secret-stdin"].concat([
          "--data",
          data,
          "--as",
          "ops",
        ]),
        `${SECRET}\n`,
      );
      expect(added.status).toBe(0);
      const opened = runCli(
        ["incident", "open", "--title", "government label on transfers"]
          .concat(["--reason", "customers report 20 % off", "--regions", "12"])
          .concat(["--campaign", "idc-national@3", "--data", data, "--as", "ops", "--json"]),
      );
      expect(opened.status).toBe(0);
      const { incident } = JSON.parse(opened.stdout) as { incident: { id: string } };

      const once = await startCli(["webhook", "dispatch", "--once", "--data", data]).exited;
      expect(once.status).toBe(0);
      expect(once.stdout).toBe("attempts 1: delivered 1, to retry 0, dead 0, unrecorded 0\n");
      expect(once.stderr).toMatch(
        new RegExp(
          `^${incident.id}:opened:1@pager incident\\.opened attempt 1: delivered 204 in \\d+ ms -> delivered\\n$`,
        ),
      );
      expect(once.stderr).not.toContain(receiver.url);
      expect(receiver.received).toHaveLength(1);
      expect(verified(receiver.received[0]!)).toBe(true);
      expect(JSON.parse(receiver.received[0]!.body)).toMatchObject({
        type: "incident.opened",
        data: { incident: { id: incident.id, state: "open" } },
      });
      // Nothing is due any more: a second --once attempts nothing.
      const again = await startCli(["webhook", "dispatch", "--once", "--data", data, "--json"])
        .exited;
      expect(JSON.parse(again.stdout)).toEqual({
        ok: true,
        attempts: 0,
        delivered: 0,
        retrying: 0,
        dead: 0,
        unrecorded: 0,
      });

      const running = startCli(["webhook", "dispatch", "--poll-ms", "50", "--data", data]);
      const mitigated = await startCli(
        ["incident", "mitigate", incident.id, "--reason", "killed everywhere, confirmed"].concat([
          "--data",
          data,
          "--as",
          "ops",
        ]),
      ).exited;
      expect(mitigated.status).toBe(0);
      // The receiver holds its answer for 1.5 s: the signal arrives with the attempt in flight.
      await receiver.until(2);
      running.child.kill("SIGTERM");
      const stopped = await running.exited;
      expect(stopped.status).toBe(0);
      expect(stopped.stderr).toContain("SIGTERM: stopping; waiting for 1 attempts in flight");
      expect(stopped.stderr).toContain(
        `${incident.id}:mitigated:2@pager incident.mitigated attempt 1: delivered 204`,
      );
      expect(stopped.stdout).toBe("attempts 1: delivered 1, to retry 0, dead 0, unrecorded 0\n");
      expect(verified(receiver.received[1]!)).toBe(true);

      const listed = runCli(["webhook", "deliveries", "--data", data, "--json"]);
      const { deliveries } = JSON.parse(listed.stdout) as {
        deliveries: { deliveryId: string; state: string }[];
      };
      expect(deliveries.map((each) => [each.deliveryId, each.state])).toEqual([
        [`${incident.id}:mitigated:2@pager`, "delivered"],
        [`${incident.id}:opened:1@pager`, "delivered"],
      ]);
    } finally {
      await receiver.close();
    }
  });

  test("bad numbers are unusable input", () => {
    const result = runCli([
      "webhook",
      "dispatch",
      "--once",
      "--concurrency",
      "0",
      "--data",
      join(directory, "x"),
    ]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("--concurrency");
  });
});
