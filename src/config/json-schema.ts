/**
 * Publishes the document schemas as JSON Schema (draft 2020-12), so editors autocomplete and
 * check campaign files. Generated from the same Zod schemas that validation uses; a test keeps
 * the committed copies in schemas/ equal to what this produces.
 */
import { z } from "zod";
import { DOCUMENT_SCHEMAS, type DocumentKind } from "../core/model/document.ts";
import { paymentSchema } from "../core/model/payment.ts";

export const PUBLISHED_SCHEMAS = {
  ...DOCUMENT_SCHEMAS,
  payment: paymentSchema,
} as const;

export type PublishedSchemaName = DocumentKind | "payment";

export function jsonSchemaFor(name: PublishedSchemaName): Record<string, unknown> {
  const schema = z.toJSONSchema(PUBLISHED_SCHEMAS[name], { target: "draft-2020-12", io: "input" });
  return {
    $schema: schema.$schema,
    $id: `https://bursar.invalid/schemas/${name}.schema.json`,
    title: `Bursar ${name}`,
    ...schema,
  };
}

export function jsonSchemaText(name: PublishedSchemaName): string {
  return `${JSON.stringify(jsonSchemaFor(name), null, 2)}\n`;
}
