/**
 * A real Bursar server for API tests, in this process: on SQLite in a fresh temporary directory,
 * or on the run's PostgreSQL database in a schema of its own; listening on a free loopback port.
 * Nothing is mocked: requests go over HTTP to the same server `bursar serve` runs.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inject } from "vitest";
import type { ApiRole } from "../../src/core/access/api-roles.ts";
import { BursarServer, type BursarServerOptions } from "../../src/server/bursar-server.ts";

export type TestStore = "sqlite" | "postgres";
export const TEST_STORES: readonly TestStore[] = ["sqlite", "postgres"];

export interface TestServer {
  readonly url: string;
  readonly store: TestStore;
  readonly adminToken: string;
  readonly server: BursarServer;
  /** Issues a token with these roles through the API (as the bootstrap administrator). */
  tokenFor(roles: readonly ApiRole[], principalId?: string): Promise<string>;
  /**
   * A JSON request; the answer's status, headers and parsed body. The body is `any`: tests read
   * many shapes of answer and assert on their fields, which is the check.
   */
  request(
    method: string,
    path: string,
    options?: { token?: string; body?: unknown; headers?: Record<string, string> },
    // biome-ignore lint/suspicious/noExplicitAny: the tests' assertions check the answer's shape
  ): Promise<{ status: number; headers: Headers; body: any }>;
  stop(): Promise<void>;
}

let schemaCounter = 0;

export async function startTestServer(
  store: TestStore,
  options: Partial<BursarServerOptions> = {},
): Promise<TestServer> {
  const data = mkdtempSync(join(tmpdir(), "bursar-server-test-"));
  schemaCounter += 1;
  const schema = `srv_${process.pid}_${schemaCounter}_${Math.floor(Math.random() * 1e6)}`;
  const server = await BursarServer.start({
    host: "127.0.0.1",
    port: 0,
    data,
    ...(store === "postgres" ? { database: inject("postgresUrl") } : {}),
    schema,
    demo: false,
    examples: join(import.meta.dirname, "..", "..", "examples"),
    demoTps: 50,
    seed: 20250116,
    logLevel: false,
    version: "test",
    ...options,
  });
  if (server.adminToken === undefined) throw new Error("a fresh store issued no admin token");
  const adminToken = server.adminToken;
  let principals = 0;
  const request: TestServer["request"] = async (method, path, requestOptions = {}) => {
    const headers: Record<string, string> = { ...requestOptions.headers };
    if (requestOptions.token !== undefined)
      headers.authorization = `Bearer ${requestOptions.token}`;
    if (requestOptions.body !== undefined) headers["content-type"] ??= "application/json";
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers,
      ...(requestOptions.body === undefined
        ? {}
        : {
            body:
              typeof requestOptions.body === "string"
                ? requestOptions.body
                : JSON.stringify(requestOptions.body),
          }),
    });
    const text = await response.text();
    let body: unknown = text;
    if ((response.headers.get("content-type") ?? "").includes("json") && text !== "") {
      body = JSON.parse(text);
    }
    return { status: response.status, headers: response.headers, body };
  };
  return {
    url: server.url,
    store,
    adminToken,
    server,
    request,
    async tokenFor(roles, principalId) {
      principals += 1;
      const answer = await request("POST", "/v1/tokens", {
        token: adminToken,
        body: {
          name: `test ${roles.join("+")} ${principals}`,
          principalId: principalId ?? `test.${roles.join("-")}.${principals}`,
          roles,
        },
      });
      if (answer.status !== 201) {
        throw new Error(
          `issuing a test token failed: ${answer.status} ${JSON.stringify(answer.body)}`,
        );
      }
      return answer.body.token as string;
    },
    async stop() {
      await server.stop();
      rmSync(data, { recursive: true, force: true });
    },
  };
}
