/**
 * The baseline of the HTTP benchmarks (bench/http.ts): a bare hello-world on the framework the
 * server uses (the same Fastify, default options, no logger), in a process of its own as the
 * server is. `GET /` answers `{"hello":"world"}`; so does `POST /parse`, after Fastify has parsed
 * its JSON body (the quote's bodies, to tell the framework's cost of a body from the server's own
 * work). Prints `listening on URL` once it listens on a
 * free loopback port, and exits when its stdin closes, so it never outlives its parent.
 * Usage: node --import tsx bench/http-hello-child.ts
 */
import Fastify from "fastify";

const app = Fastify();
app.get("/", async () => ({ hello: "world" }));
app.post("/parse", async () => ({ hello: "world" }));
const url = await app.listen({ host: "127.0.0.1", port: 0 });
process.stdout.write(`listening on ${url}\n`);
// Exiting normally (not killed by the signal) lets `node --cpu-prof` write its profile.
process.on("SIGTERM", () => process.exit(0));
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
