/**
 * Where recorded payments for a simulation come from: one NDJSON file, or a payment sample-log
 * directory. The rate the sample was taken at is what subsidy per hour is scaled by, so it comes
 * from the sample log's file names (`payments-SEQ-rRATE.ndjson`) whenever they carry it — a
 * sample read as if it were all the traffic would understate the money by the inverse of its
 * rate — and a rate given by hand must agree with them.
 */
import { statSync } from "node:fs";
import { sampleLogFiles, sampleRateOfFile } from "./payment-sample-log.ts";

export interface RecordedPayments {
  readonly paths: readonly string[];
  /** The share of all traffic the files hold, in bps (10,000: all of it). */
  readonly rateBps: number;
}

export type RecordedPaymentsResult =
  | ({ readonly ok: true } & RecordedPayments)
  | { readonly ok: false; readonly message: string };

/** `givenRateBps` is a rate named by the caller, for files whose names do not carry one. */
export function recordedPayments(path: string, givenRateBps?: number): RecordedPaymentsResult {
  let files: { path: string; rateBps?: number }[];
  try {
    files = statSync(path).isDirectory()
      ? sampleLogFiles(path)
      : [{ path, ...optional(sampleRateOfFile(path)) }];
  } catch (cause) {
    return {
      ok: false,
      message: `${path}: ${cause instanceof Error ? cause.message : String(cause)}`,
    };
  }
  if (files.length === 0)
    return { ok: false, message: `${path}: no sample-log files (payments-*-r*.ndjson)` };
  const named = [
    ...new Set(files.flatMap((file) => (file.rateBps === undefined ? [] : [file.rateBps]))),
  ];
  if (named.length > 1) {
    return {
      ok: false,
      message: `${path}: the files were sampled at different rates (${named.join(", ")} bps); simulate one rate at a time`,
    };
  }
  const fromNames = named[0];
  if (fromNames !== undefined && givenRateBps !== undefined && givenRateBps !== fromNames) {
    return {
      ok: false,
      message: `${path}: the sample was taken at ${fromNames} bps (its file names say so), not ${givenRateBps}`,
    };
  }
  return {
    ok: true,
    paths: files.map((file) => file.path),
    rateBps: fromNames ?? givenRateBps ?? 10_000,
  };
}

function optional(rateBps: number | undefined): { rateBps?: number } {
  return rateBps === undefined ? {} : { rateBps };
}
