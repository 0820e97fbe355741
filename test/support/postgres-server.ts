/**
 * Finds or starts the PostgreSQL server the tests use, and gives each test run a fresh database:
 * `BURSAR_PG_URL` when set, else the local server on 127.0.0.1:5432, else a throwaway cluster
 * from the installed PostgreSQL binaries (`.ci/run` installs Debian's `postgresql` when they are
 * missing) with fsync on, else a clear error. Nothing here is mocked: the suites run against a
 * real server.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";

const LOCAL_URL = "postgres://postgres@127.0.0.1:5432/postgres";
const CONNECT_TIMEOUT_MS = 3_000;

export interface PostgresServer {
  /** A URL of the server's maintenance database (`postgres`). */
  readonly url: string;
  readonly description: string;
  stop(): Promise<void>;
}

export async function findOrStartPostgres(): Promise<PostgresServer> {
  const configured = process.env.BURSAR_PG_URL;
  if (configured !== undefined && configured !== "") {
    await expectReachable(configured, "BURSAR_PG_URL");
    return { url: configured, description: "BURSAR_PG_URL", stop: async () => {} };
  }
  if (await isReachable(LOCAL_URL)) {
    return {
      url: LOCAL_URL,
      description: "the local server on 127.0.0.1:5432",
      stop: async () => {},
    };
  }
  return startThrowawayCluster();
}

/** Creates an empty database with a unique name; returns its URL and how to drop it. */
export async function createFreshDatabase(
  serverUrl: string,
): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `bursar_test_${Date.now()}_${process.pid}_${Math.floor(Math.random() * 1e6)}`;
  await withClient(serverUrl, (client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      await withClient(serverUrl, (client) =>
        client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
      );
    },
  };
}

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

async function isReachable(url: string): Promise<boolean> {
  try {
    await withClient(url, (client) => client.query("SELECT 1"));
    return true;
  } catch {
    return false;
  }
}

async function expectReachable(url: string, source: string): Promise<void> {
  try {
    await withClient(url, (client) => client.query("SELECT 1"));
  } catch (cause) {
    throw new Error(
      `${source} (${redacted(url)}) is not reachable: ${cause instanceof Error ? cause.message : String(cause)}`,
    );
  }
}

function redacted(url: string): string {
  const parsed = new URL(url);
  if (parsed.password !== "") parsed.password = "***";
  return parsed.toString();
}

function postgresBinaries(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((version) => existsSync(join(root, version, "bin", "initdb")))
    .sort((left, right) => Number(right) - Number(left));
  return versions.length === 0 ? undefined : join(root, versions[0]!, "bin");
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function startThrowawayCluster(): Promise<PostgresServer> {
  const bin = postgresBinaries();
  if (bin === undefined) {
    throw new Error(
      "PostgreSQL is needed by the store tests: BURSAR_PG_URL is not set, nothing answers on 127.0.0.1:5432, and no PostgreSQL binaries are installed (/usr/lib/postgresql/*/bin). Install them (`apt-get install -y postgresql`, as .ci/run does) or set BURSAR_PG_URL.",
    );
  }
  const directory = mkdtempSync(join(tmpdir(), "bursar-pg-"));
  const data = join(directory, "data");
  // PostgreSQL refuses to run as root; as root, the cluster belongs to the postgres user.
  const asRoot = process.getuid?.() === 0;
  const run = (command: string, args: string[]) => {
    const [file, fileArgs] = asRoot
      ? ["runuser", ["-u", "postgres", "--", join(bin, command), ...args]]
      : [join(bin, command), args];
    execFileSync(file, fileArgs, { stdio: "pipe" });
  };
  if (asRoot) {
    chmodSync(directory, 0o777);
  }
  run("initdb", ["-D", data, "-A", "trust", "-U", "postgres"]);
  const port = await freePort();
  run("pg_ctl", [
    "-D",
    data,
    "-w",
    "-l",
    join(directory, "server.log"),
    "-o",
    `-p ${port} -k ${directory} -c listen_addresses=127.0.0.1`,
    "start",
  ]);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  await expectReachable(url, "the throwaway cluster");
  return {
    url,
    description: `a throwaway cluster in ${directory}`,
    stop: async () => {
      const stopArgs = ["-D", data, "-m", "fast", "-w", "stop"];
      if (asRoot) spawnSync("runuser", ["-u", "postgres", "--", join(bin, "pg_ctl"), ...stopArgs]);
      else spawnSync(join(bin, "pg_ctl"), stopArgs);
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
