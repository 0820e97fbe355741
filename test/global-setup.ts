/**
 * Once per test run: finds or starts PostgreSQL (test/support/postgres-server.ts) and creates
 * the run's own database, dropped at the end, so runs never interfere. Suites read its URL with
 * `inject("postgresUrl")` and give every store a schema of its own inside it.
 */
import type { TestProject } from "vitest/node";
import { createFreshDatabase, findOrStartPostgres } from "./support/postgres-server.ts";

declare module "vitest" {
  export interface ProvidedContext {
    postgresUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await findOrStartPostgres();
  const database = await createFreshDatabase(server.url);
  project.provide("postgresUrl", database.url);
  process.stderr.write(`PostgreSQL for this run: ${server.description}\n`);
  return async () => {
    await database.drop();
    await server.stop();
  };
}
