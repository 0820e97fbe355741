import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import {
  WEBHOOK_ATTEMPT_CODES,
  WEBHOOK_DEAD_REASONS,
  WEBHOOK_DELIVERY_STATES,
  WEBHOOK_ENQUEUE_CODES,
} from "../../src/core/guard/webhook-delivery.ts";
import { WEBHOOK_ENDPOINT_CODES } from "../../src/core/guard/webhook-endpoint.ts";
import { WEBHOOK_SIGNATURE_CODES } from "../../src/core/guard/webhook-signature.ts";
import { WEBHOOK_OUTBOX_ERROR_CODES } from "../../src/guard/webhook-outbox.ts";

const DOC = readFileSync(
  join(import.meta.dirname, "..", "..", "docs", "reference", "webhooks.md"),
  "utf8",
);
const DOCUMENTED = new Set(
  [...DOC.matchAll(/^\| `([a-z_]+)` \| .{10,} \|$/gm)].map((match) => match[1]!),
);

const CATALOGS: [string, Record<string, string>][] = [
  ["endpoint refusal", WEBHOOK_ENDPOINT_CODES],
  ["enqueue refusal", WEBHOOK_ENQUEUE_CODES],
  ["signature", WEBHOOK_SIGNATURE_CODES],
  ["delivery state", WEBHOOK_DELIVERY_STATES],
  ["attempt", WEBHOOK_ATTEMPT_CODES],
  ["dead reason", WEBHOOK_DEAD_REASONS],
  ["store error", WEBHOOK_OUTBOX_ERROR_CODES],
];

describe("docs/reference/webhooks.md", () => {
  for (const [what, catalog] of CATALOGS) {
    test(`documents every ${what} code`, () => {
      expect(Object.keys(catalog).filter((code) => !DOCUMENTED.has(code))).toEqual([]);
    });
  }
});
