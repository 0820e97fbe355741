/**
 * `copyRows` against the real PostgreSQL server: any text (COPY's own escapes, `\N` and `\.` as
 * text, tabs, line breaks, astral characters), nulls and whole numbers up to the safe bound come
 * back exactly as written; a row the server refuses rejects the call and leaves the transaction
 * to be rolled back; values that cannot be written are refused before anything is sent.
 */
import { fc, test } from "@fast-check/vitest";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject } from "vitest";
import { type CopyValue, copyRows, copyTextOf } from "../../src/stores/postgres/postgres-copy.ts";

const url = inject("postgresUrl");
const schema = `copy_${process.pid}`;
const COLUMNS = ["id", "label", "amount", "note"];

/** Text the COPY format gives meaning to, mixed with anything else. */
const copyText = fc.oneof(
  fc.constantFrom("\\N", "\\.", "\\", "\t", "\n", "\r\n", "a\\tb", '"quoted"', "ünï 😀", ""),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.string({ maxLength: 40 }).map((value) => value.replace(/\0/g, "")),
);

describe("COPY rows into PostgreSQL", () => {
  const client = new pg.Client({ connectionString: url });
  let table = 0;

  beforeAll(async () => {
    await client.connect();
    await client.query(`CREATE SCHEMA ${schema}`);
  });
  afterAll(async () => {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  });

  async function freshTable(): Promise<string> {
    table += 1;
    const name = `${schema}.rows_${table}`;
    await client.query(
      `CREATE TABLE ${name} (id integer PRIMARY KEY, label text NOT NULL, amount bigint, note text)`,
    );
    return name;
  }

  test.prop(
    [
      fc.array(
        fc.tuple(
          copyText,
          fc.oneof(fc.constant(null), fc.maxSafeInteger(), fc.integer()),
          fc.option(copyText),
        ),
        { maxLength: 300 },
      ),
    ],
    { numRuns: 25 },
  )("every value comes back as written", async (generated) => {
    const name = await freshTable();
    const rows: CopyValue[][] = generated.map(([label, amount, note], index) => [
      index,
      label,
      amount,
      note,
    ]);
    await client.query("BEGIN");
    await copyRows(client, name, COLUMNS, rows);
    await client.query("COMMIT");
    const read = await client.query<{
      id: number;
      label: string;
      amount: string | null;
      note: string | null;
    }>(`SELECT id, label, amount, note FROM ${name} ORDER BY id`);
    expect(
      read.rows.map((row) => [
        row.id,
        row.label,
        row.amount === null ? null : Number(row.amount),
        row.note,
      ]),
    ).toEqual(rows);
  });

  test("a row the server refuses rejects the call; the rows before it are rolled back with the transaction", async () => {
    const name = await freshTable();
    await client.query("BEGIN");
    await expect(
      copyRows(client, name, COLUMNS, [
        [1, "first", 10, null],
        [1, "the same id again", 20, null],
      ]),
    ).rejects.toThrow(/duplicate key/);
    await client.query("ROLLBACK");
    // The connection goes on serving statements.
    expect((await client.query(`SELECT count(*)::int AS n FROM ${name}`)).rows[0]).toEqual({
      n: 0,
    });
  });

  test("refuses rows of the wrong width and numbers that are not safe integers before sending", async () => {
    const name = await freshTable();
    await expect(copyRows(client, name, COLUMNS, [[1, "short"]])).rejects.toThrow(RangeError);
    expect(() => copyTextOf(1.5)).toThrow(RangeError);
    expect(() => copyTextOf(2 ** 53)).toThrow(RangeError);
    // Nothing to write is no statement at all.
    await copyRows(client, name, COLUMNS, []);
    expect((await client.query(`SELECT count(*)::int AS n FROM ${name}`)).rows[0]).toEqual({
      n: 0,
    });
  });
});
