import pg from "pg";
import { expect, test } from "vitest";
import { startThrowawayCluster } from "../support/postgres-server.ts";

// The fallback the test set-up takes on a machine where no PostgreSQL server runs: it must work
// here too, so that a fresh machine with only the Debian package installed can run the suites.
test("a throwaway cluster starts from the installed binaries, answers, and is gone after stop", async () => {
  const server = await startThrowawayCluster();
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  const { rows } = await client.query<{ fsync: string }>("SHOW fsync");
  await client.end();
  // Durability tests need a server that really syncs.
  expect(rows[0]?.fsync).toBe("on");
  await server.stop();
  const after = new pg.Client({ connectionString: server.url, connectionTimeoutMillis: 1_000 });
  await expect(after.connect()).rejects.toThrow();
});
