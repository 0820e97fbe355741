/**
 * `bursar token issue|list|revoke` on a real control.sqlite: the issued text authenticates against
 * the same store a server reads, is printed once and never listed; refusals carry their codes and
 * exit codes; every write is in the audit log.
 */

import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { ApiTokenService } from "../../src/control/api-tokens.ts";
import { SqliteApiTokenStore } from "../../src/stores/sqlite/sqlite-api-token-store.ts";
import {
  CONTROL_FILE_NAME,
  SqliteAuditLogStore,
} from "../../src/stores/sqlite/sqlite-audit-log-store.ts";
import { runCli } from "../support/run-cli.ts";

const directory = mkdtempSync(join(tmpdir(), "bursar-token-cli-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe("bursar token", { timeout: 120_000 }, () => {
  test("issue, list, revoke; the text authenticates until revoked; audited", async () => {
    const data = join(directory, "data");
    const token = (args: readonly string[]) =>
      runCli(["token", ...args, "--data", data, "--as", "ops.zhang", "--json"]);

    const issued = token([
      "issue",
      "--name",
      "ops laptop",
      "--principal",
      "ops.zhang",
      "--roles",
      "admin,operator",
    ]);
    expect(issued.status).toBe(0);
    const answer = JSON.parse(issued.stdout) as { token: string; record: Record<string, unknown> };
    expect(answer.token).toMatch(/^bsr_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(answer.record).not.toHaveProperty("secretHash");

    const store = await SqliteApiTokenStore.open({ path: join(data, CONTROL_FILE_NAME) });
    const service = new ApiTokenService({ store, nowMs: Date.now, randomBytes, cacheTrustMs: 0 });
    try {
      expect((await service.authenticate(answer.token))?.roles).toEqual(["admin", "operator"]);

      const listed = token(["list"]);
      expect(listed.status).toBe(0);
      expect(listed.stdout).not.toContain(answer.token.split("_")[2]);
      expect(JSON.parse(listed.stdout).tokens).toHaveLength(1);

      const id = answer.record.id as string;
      expect(token(["revoke", id, "--reason", "laptop lost"]).status).toBe(0);
      expect(await service.authenticate(answer.token)).toBeUndefined();
      const again = token(["revoke", id, "--reason", "again"]);
      expect(again.status).toBe(1);
      expect(JSON.parse(again.stdout).code).toBe("token_revoked");
    } finally {
      await store.close();
    }

    const refused = token(["issue", "--name", "x", "--principal", "y", "--roles", "superuser"]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain("unknown superuser");

    const audit = SqliteAuditLogStore.open({ path: join(data, CONTROL_FILE_NAME), readOnly: true });
    try {
      const entries = await audit.read(1, 100);
      expect(entries.map((entry) => [entry.action, entry.actor])).toEqual([
        ["token.created", "ops.zhang"],
        ["token.revoked", "ops.zhang"],
      ]);
    } finally {
      await audit.close();
    }
  });
});
