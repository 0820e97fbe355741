import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { recordedPayments } from "../../src/control/recorded-payments.ts";

function directoryWith(...names: string[]): string {
  const directory = mkdtempSync(join(tmpdir(), "bursar-recorded-"));
  for (const name of names) writeFileSync(join(directory, name), "");
  return directory;
}

describe("where recorded payments come from, and at what rate", () => {
  test("one sample-log file carries its rate in its name, as a directory of them does", () => {
    const directory = directoryWith(
      "payments-00000001-r100.ndjson",
      "payments-00000002-r100.ndjson",
    );
    expect(recordedPayments(join(directory, "payments-00000002-r100.ndjson"))).toMatchObject({
      ok: true,
      rateBps: 100,
    });
    expect(recordedPayments(directory)).toMatchObject({
      ok: true,
      rateBps: 100,
      paths: [expect.stringContaining("00000001"), expect.stringContaining("00000002")],
    });
  });

  test("a rate given by hand must agree with the names; a plain file takes it, or is all the traffic", () => {
    const directory = directoryWith("payments-00000001-r100.ndjson", "export.ndjson");
    expect(
      recordedPayments(join(directory, "payments-00000001-r100.ndjson"), 10_000),
    ).toMatchObject({ ok: false });
    expect(recordedPayments(join(directory, "export.ndjson"), 250)).toMatchObject({
      ok: true,
      rateBps: 250,
    });
    expect(recordedPayments(join(directory, "export.ndjson"))).toMatchObject({
      ok: true,
      rateBps: 10_000,
    });
  });

  test("mixed rates, an empty directory and a missing path are refused with a message", () => {
    expect(
      recordedPayments(
        directoryWith("payments-00000001-r100.ndjson", "payments-00000002-r50.ndjson"),
      ),
    ).toMatchObject({ ok: false, message: expect.stringContaining("different rates") });
    expect(recordedPayments(directoryWith())).toMatchObject({ ok: false });
    expect(recordedPayments("/nonexistent/sample")).toMatchObject({ ok: false });
  });
});
