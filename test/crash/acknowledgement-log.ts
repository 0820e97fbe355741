/**
 * The load generator's record of every answer the store acknowledged, kept outside the store:
 * one NDJSON file per generator run.
 *
 * A line is written only after its answer has arrived, with a synchronous write to a file opened
 * for appending, so a record can be lost (killed between answer and write) but never claims an
 * answer the store did not give. A SIGKILL ends the process, not the kernel: a completed write
 * is in the page cache and survives it. The periodic fsync only matters for a machine crash,
 * which this test does not simulate. A kill can interrupt the last write halfway, so a line
 * without its newline at the very end of a file is a torn record, dropped and counted.
 */
import { closeSync, fsyncSync, openSync, readFileSync, writeSync } from "node:fs";
import type { ReserveResult } from "../../src/core/ledger/reservation.ts";
import type { SettleAnswer, SettleCommand } from "../../src/core/ledger/settlement.ts";
import type { CrashVariant } from "./crash-workload.ts";

export type AcknowledgementRecord =
  | {
      readonly type: "reserve";
      readonly paymentId: string;
      readonly variant: CrashVariant;
      readonly result: ReserveResult;
    }
  | {
      readonly type: "settle";
      readonly command: SettleCommand["kind"];
      readonly answer: SettleAnswer;
    };

export class AcknowledgementLogWriter {
  private readonly descriptor: number;
  private unsynced = 0;

  constructor(path: string) {
    this.descriptor = openSync(path, "a");
  }

  append(record: AcknowledgementRecord): void {
    writeSync(this.descriptor, `${JSON.stringify(record)}\n`);
    this.unsynced += 1;
  }

  sync(): void {
    if (this.unsynced === 0) return;
    fsyncSync(this.descriptor);
    this.unsynced = 0;
  }

  close(): void {
    this.sync();
    closeSync(this.descriptor);
  }
}

export interface AcknowledgementLog {
  readonly records: AcknowledgementRecord[];
  /** 0 or 1: a last line cut short by the kill. */
  readonly tornRecords: number;
  /** Complete lines that are not records: the log itself is broken. */
  readonly malformedLines: readonly string[];
}

export function readAcknowledgementLog(path: string): AcknowledgementLog {
  const text = readFileSync(path, "utf8");
  const lines = text.split("\n");
  // The text after the last newline is either empty or a torn last record.
  const tail = lines.pop() ?? "";
  const records: AcknowledgementRecord[] = [];
  const malformedLines: string[] = [];
  for (const line of lines) {
    try {
      records.push(JSON.parse(line) as AcknowledgementRecord);
    } catch {
      malformedLines.push(line);
    }
  }
  return { records, tornRecords: tail.length > 0 ? 1 : 0, malformedLines };
}
