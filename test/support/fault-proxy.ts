/**
 * A TCP proxy on a loopback port between the engine and PostgreSQL that misbehaves on demand:
 * `refuse` new connections, `hang` (swallow every byte both ways, as a dead link does), `delay`
 * each chunk, `drop_after_commit` (forward a COMMIT to the server, then cut the connection
 * before its answer comes back: the ambiguous commit), or `garbage` (the server's answers
 * replaced by bytes that are not the PostgreSQL protocol). Bounded: it only ever talks to the one target it was given.
 */
import { connect, createServer, type Server, type Socket } from "node:net";

export type FaultMode = "pass" | "refuse" | "hang" | "delay" | "drop_after_commit" | "garbage";

/** A simple-protocol query message for COMMIT, as node-postgres sends it. */
const COMMIT_QUERY = Buffer.from("COMMIT\0");

export class FaultProxy {
  mode: FaultMode = "pass";
  delayMs = 200;
  /** Connections cut by `drop_after_commit`. */
  droppedCommits = 0;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetHost: string, targetPort: number): Promise<FaultProxy> {
    let proxy: FaultProxy | undefined;
    const server = createServer((client) => proxy?.accept(client, targetHost, targetPort));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    const address = server.address();
    if (typeof address !== "object" || address === null) throw new Error("proxy has no port");
    proxy = new FaultProxy(server, address.port);
    return proxy;
  }

  /** `url` with its host and port replaced by the proxy's. */
  urlFor(url: string): string {
    const proxied = new URL(url);
    proxied.hostname = "127.0.0.1";
    proxied.port = String(this.port);
    return proxied.toString();
  }

  /** Cuts every open connection (as a network partition would). */
  cutAll(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  async close(): Promise<void> {
    this.cutAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket, targetHost: string, targetPort: number): void {
    if (this.mode === "refuse") {
      client.destroy();
      return;
    }
    const upstream = connect(targetPort, targetHost);
    this.track(client);
    this.track(upstream);
    const cut = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", cut);
    upstream.on("error", cut);
    client.on("close", cut);
    upstream.on("close", cut);
    const link = { answersHeld: false };
    this.relay(client, upstream, true, cut, link);
    this.relay(upstream, client, false, cut, link);
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.on("close", () => this.sockets.delete(socket));
  }

  private relay(
    from: Socket,
    to: Socket,
    towardsServer: boolean,
    cut: () => void,
    link: { answersHeld: boolean },
  ): void {
    // Chunks leave in arrival order even when delayed.
    let previous: Promise<void> = Promise.resolve();
    from.on("data", (chunk: Buffer) => {
      const mode = this.mode;
      if (mode === "hang" || (!towardsServer && link.answersHeld)) return;
      const send = () => {
        if (to.destroyed) return;
        if (!towardsServer && mode === "garbage") {
          // Deterministic junk of the same length: an unknown message type and a wild length.
          to.write(Buffer.alloc(chunk.length, 0x7e));
          return;
        }
        const isCommit =
          towardsServer && mode === "drop_after_commit" && chunk.includes(COMMIT_QUERY);
        // From the COMMIT on, the server's answers are swallowed, then the connection is cut.
        if (isCommit) link.answersHeld = true;
        to.write(chunk);
        if (isCommit) {
          this.droppedCommits += 1;
          // Long enough for the server to read the COMMIT; the answer never comes back.
          setTimeout(cut, 50);
        }
      };
      previous =
        mode === "delay"
          ? previous.then(
              () => new Promise<void>((done) => setTimeout(() => done(send()), this.delayMs)),
            )
          : previous.then(send);
    });
  }
}
