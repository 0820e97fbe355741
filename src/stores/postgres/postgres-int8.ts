/**
 * What the control stores' pools share: int8 columns read as JavaScript numbers (revisions,
 * positions, versions and sequences stay far below 2^53), and the rule for schema names, which
 * are put into SQL text and so must be plain.
 */
import pg from "pg";

function parseInt8(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new Error(`integer ${text} is beyond 2^53 - 1`);
  return value;
}

/** The `types` of a pool whose int8 columns arrive as numbers. */
export const INT8_AS_NUMBER_TYPES = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === pg.types.builtins.INT8
      ? parseInt8
      : pg.types.getTypeParser(oid, format ?? "text")) as typeof pg.types.getTypeParser,
};

/** A plain lower-case schema name, safe to put into SQL text. */
export const POSTGRES_SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
