import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, inject, test } from "vitest";
import { SqliteAuditLogStore } from "../../src/stores/sqlite/sqlite-audit-log-store.ts";
import { SqliteWebhookOutbox } from "../../src/stores/sqlite/sqlite-webhook-outbox.ts";
import { runCli } from "../support/run-cli.ts";

const directory = mkdtempSync(join(tmpdir(), "bursar-webhook-cli-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
const url = inject("postgresUrl");

describe("bursar webhook on SQLite", () => {
  test("add prints the secret once; list, deliveries and remove never show it; changes are audited", {
    timeout: 240_000,
  }, async () => {
    const data = join(directory, "data");
    const added = runCli([
      "webhook",
      "add",
      "pager",
      "https://hooks.example.com/bursar",
      "--events",
      "incident.opened",
      "incident.resolved",
      "--data",
      data,
      "--as",
      "ops-oncall",
      "--json",
    ]);
    expect(added.status).toBe(0);
    const { secret } = JSON.parse(added.stdout) as { secret: string };
    expect(secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);

    const piped = runCli(
      [
        "webhook",
        "add",
        "chat",
        "http://127.0.0.1:9/chat",
        "--events",
        "*",
        "--disabled",
        "--secret-stdin",
        "--data",
        data,
        "--as",
        "ops-oncall",
      ],
      "whsec_from-a-vault-0123456789abcdef\n",
    );
    expect(piped).toMatchObject({ status: 0, stdout: "added chat\n" });

    const listed = runCli(["webhook", "list", "--data", data]);
    expect(listed.stdout).toBe(
      "chat  disabled  *  http://127.0.0.1:9/chat\npager  enabled   incident.opened,incident.resolved  https://hooks.example.com/bursar\n",
    );

    const refused = runCli([
      "webhook",
      "add",
      "x",
      "https://me:pw@example.com/",
      "--events",
      "*",
      "--data",
      data,
      "--as",
      "ops-oncall",
    ]);
    expect(refused.status).toBe(1);
    expect(refused.stdout).toMatch(/^refused: url_has_credentials: /);
    expect(refused.stdout).not.toContain("pw");
    // Without --as nothing is changed: unusable input.
    expect(
      runCli(["webhook", "add", "x", "https://example.com/", "--events", "*", "--data", data])
        .status,
    ).toBe(2);

    const outbox = SqliteWebhookOutbox.open({ path: join(data, "control.sqlite") });
    await outbox.enqueue(
      { eventType: "incident.opened", id: "incident-1:opened", payload: { severity: "P1" } },
      1_737_009_600_000,
    );
    await outbox.claimDue({
      nowMs: 1_737_009_600_000,
      limit: 5,
      claimMs: 60_000,
      claimToken: "t",
      attemptsMax: 8,
    });
    await outbox.close();

    const deliveries = runCli(["webhook", "deliveries", "--data", data]);
    expect(deliveries.stdout).toBe(
      "incident-1:opened@pager  incident.opened  pending  attempts 1  next 2025-01-16T06:41:00.000Z\n",
    );
    const attempts = runCli([
      "webhook",
      "deliveries",
      "--delivery",
      "incident-1:opened@pager",
      "--data",
      data,
      "--json",
    ]);
    expect(JSON.parse(attempts.stdout)).toEqual({
      deliveryId: "incident-1:opened@pager",
      attempts: [
        {
          attempt: 1,
          startedAtMs: 1_737_009_600_000,
          finishedAtMs: null,
          code: null,
          status: null,
        },
      ],
    });

    expect(
      runCli(["webhook", "remove", "pager", "--data", data, "--as", "ops-oncall"]).stdout,
    ).toBe("removed pager\n");
    expect(
      runCli(["webhook", "remove", "pager", "--data", data, "--as", "ops-oncall"]).status,
    ).toBe(1);
    const dead = runCli(["webhook", "deliveries", "--state", "dead", "--data", data, "--json"]);
    expect(JSON.parse(dead.stdout).deliveries).toMatchObject([{ deadReason: "endpoint_removed" }]);

    const audit = SqliteAuditLogStore.open({ path: join(data, "control.sqlite") });
    const entries = await audit.read(1, 10);
    await audit.close();
    expect(entries.map((entry) => [entry.action, entry.subject])).toEqual([
      ["webhook.endpoint_added", "webhook/pager"],
      ["webhook.endpoint_added", "webhook/chat"],
      ["webhook.endpoint_removed", "webhook/pager"],
    ]);
    expect(entries[0]!.details).toEqual({
      origin: "https://hooks.example.com",
      eventTypes: ["incident.opened", "incident.resolved"],
      enabled: true,
    });
    expect(JSON.stringify(entries)).not.toContain(secret);
  });
});

describe("bursar webhook on PostgreSQL", () => {
  test("add, disable and list in a schema of its own", { timeout: 120_000 }, () => {
    const flags = [
      "--database",
      url,
      "--schema",
      `webhook_cli_${process.pid}`,
      "--as",
      "ops-oncall",
    ];
    expect(
      runCli(["webhook", "add", "pager", "https://hooks.example.com/x", "--events", "*", ...flags])
        .status,
    ).toBe(0);
    expect(runCli(["webhook", "disable", "pager", ...flags]).stdout).toBe("disabled pager\n");
    expect(runCli(["webhook", "list", ...flags]).stdout).toBe(
      "pager  disabled  *  https://hooks.example.com/x\n",
    );
  });
});
