/**
 * One writing process of the change store contract (change-store.contract.ts).
 * `create COUNT ACTOR`: takes COUNT change ids and writes a new change under each, all at once,
 * each creating a program of its own, and prints the ids.
 * `bump ID COUNT ACTOR`: COUNT times reads change ID and writes it back at the revision it read,
 * and prints how many writes won and how many were refused as `concurrent_update`.
 * Once open, it prints `ready` and waits for a line on stdin before writing, so processes that
 * start one after another write at the same time.
 * Usage: node --import tsx change-writer-child.ts sqlite PATH MODE …
 *        node --import tsx change-writer-child.ts postgres URL SCHEMA MODE …
 */
import type { ChangeStore } from "../../src/control/change-store.ts";
import type { Program } from "../../src/core/model/program.ts";
import { PostgresChangeStore } from "../../src/stores/postgres/postgres-change-store.ts";
import { SqliteChangeStore } from "../../src/stores/sqlite/sqlite-change-store.ts";
import { exampleDocuments } from "../change/change-fixtures.ts";
import { auditOf, draftChange, programDocument, versionsOf } from "./change-store-fixtures.ts";

async function openStore(args: readonly string[]): Promise<[ChangeStore, readonly string[]]> {
  const [kind, ...rest] = args;
  if (kind === "sqlite" && rest[0] !== undefined) {
    return [SqliteChangeStore.open({ path: rest[0] }), rest.slice(1)];
  }
  if (kind === "postgres" && rest[0] !== undefined && rest[1] !== undefined) {
    return [await PostgresChangeStore.open({ url: rest[0], schema: rest[1] }), rest.slice(2)];
  }
  throw new Error("usage: change-writer-child.ts sqlite PATH | postgres URL SCHEMA, then MODE …");
}

const [store, [mode, ...modeArgs]] = await openStore(process.argv.slice(2));
process.stdout.write("ready\n");
await new Promise((resolve) => process.stdin.once("data", resolve));
process.stdin.pause();
if (mode === "create") {
  const [countText, actor] = modeArgs;
  const program = (await exampleDocuments()).find((document) => document.kind === "program");
  const ids = await Promise.all(
    Array.from({ length: Number(countText) }, async (_, index) => {
      const id = await store.nextChangeId();
      const document = programDocument(program as Program, `${actor}-${index}`);
      const change = draftChange(id, [document]);
      const written = await store.writeChange(
        change,
        0,
        versionsOf(id, [document], 1),
        auditOf(change, "change.created", actor),
      );
      if (!written.ok) throw new Error(`${id} refused: ${written.code}`);
      return id;
    }),
  );
  process.stdout.write(`${JSON.stringify({ ids })}\n`);
} else if (mode === "bump") {
  const [id, countText, actor] = modeArgs;
  let wins = 0;
  let refusals = 0;
  for (let attempt = 0; attempt < Number(countText); attempt += 1) {
    const stored = await store.getChange(id!);
    if (stored === undefined) throw new Error(`no change ${id}`);
    const change = { ...stored.change, title: `${actor} ${attempt}` };
    const written = await store.writeChange(
      change,
      stored.revision,
      [],
      auditOf(change, "change.edited", actor!),
    );
    if (written.ok) wins += 1;
    else if (written.code === "concurrent_update") refusals += 1;
    else throw new Error(`refused: ${written.code}`);
  }
  process.stdout.write(`${JSON.stringify({ wins, refusals })}\n`);
} else {
  throw new Error(`unknown mode ${mode}`);
}
await store.close();
