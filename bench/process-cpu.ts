/**
 * CPU time from /proc (Linux): what a benchmark prints beside its figures, because on a shared
 * 2-core VM the machine decides as much as the code, and a rate means little without the CPU it
 * took. Everything here answers undefined where /proc cannot tell.
 */
import { readFileSync } from "node:fs";
import { PerformanceObserver } from "node:perf_hooks";

/** Clock ticks per second of /proc's times: 100 on every Linux this runs on. */
const CLOCK_TICKS_PER_S = 100;

/**
 * User + system CPU seconds of a process (all its threads), or of one of its threads when
 * `threadId` is given (the main thread's id is the process id).
 */
export function cpuSecondsOf(pid: number, threadId?: number): number | undefined {
  const path = threadId === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${threadId}/stat`;
  try {
    const stat = readFileSync(path, "utf8");
    // Fields after the command (which may hold spaces), from its closing parenthesis: state is
    // field 3, utime field 14 and stime field 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S;
  } catch {
    return undefined;
  }
}

/** This process's CPU over spans of its own work, split into its main thread and the rest. */
export class OwnCpu {
  private processS = 0;
  private mainS = 0;
  private wallS = 0;
  private known = true;
  private readonly gcSpans: { startMs: number; durationMs: number }[] = [];
  private readonly spans: { startMs: number; endMs: number }[] = [];
  private readonly observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      this.gcSpans.push({ startMs: entry.startTime, durationMs: entry.duration });
    }
  });

  constructor() {
    this.observer.observe({ entryTypes: ["gc"] });
  }

  /** Runs `work` and adds the CPU it took (and everything else this process did meanwhile). */
  async measure<T>(work: () => Promise<T>): Promise<T> {
    const processStart = cpuSecondsOf(process.pid);
    const mainStart = cpuSecondsOf(process.pid, process.pid);
    const startMs = performance.now();
    const result = await work();
    const endMs = performance.now();
    const processEnd = cpuSecondsOf(process.pid);
    const mainEnd = cpuSecondsOf(process.pid, process.pid);
    this.spans.push({ startMs, endMs });
    this.wallS += (endMs - startMs) / 1000;
    if (
      processStart === undefined ||
      processEnd === undefined ||
      mainStart === undefined ||
      mainEnd === undefined
    ) {
      this.known = false;
    } else {
      this.processS += processEnd - processStart;
      this.mainS += mainEnd - mainStart;
    }
    return result;
  }

  /**
   * Per operation over the measured spans, e.g. "CPU per apply: 61 µs in the process (main
   * thread 44, of which garbage collection 12; other threads 17); the process used 1.62 of 2
   * cores". GC entries are delivered after the fact: read this once the work is done.
   */
  async describe(operations: number, name: string, cores: number): Promise<string> {
    // Let the observer deliver the last collections' entries.
    await new Promise((resolve) => setTimeout(resolve, 10));
    this.observer.disconnect();
    if (!this.known || operations === 0) return `CPU per ${name}: unknown (no /proc)`;
    let gcMs = 0;
    for (const gc of this.gcSpans) {
      if (this.spans.some((span) => gc.startMs >= span.startMs && gc.startMs < span.endMs)) {
        gcMs += gc.durationMs;
      }
    }
    const us = (seconds: number) => Math.round((seconds * 1e6) / operations);
    return `CPU per ${name}: ${us(this.processS)} µs in the process (main thread ${us(this.mainS)}, of which garbage collection ${us(gcMs / 1000)}; other threads ${us(this.processS - this.mainS)}); the process used ${(this.processS / this.wallS).toFixed(2)} of ${cores} cores`;
  }
}
