/**
 * What the kill tests share: a snapshot with three campaigns on the coffee payment — two in one
 * exclusive group (the winner `a-coffee` 80 fen, the runner-up `b-coffee` 50 fen) on the platform's
 * template, and `c-bank` (30 fen) on a bank-funded template — and a manual clock with timers.
 */
import type { Snapshot } from "../../src/core/evaluator/snapshot.ts";
import type { KillTimers } from "../../src/guard/kill-watcher.ts";
import { validCampaign, validEnvelope, validTemplate, withField } from "../support/documents.ts";
import { snapshotOf } from "../support/snapshots.ts";

export { COFFEE_PAYMENT_AT_MS, coffeePayment } from "../support/documents.ts";

function campaign(
  id: string,
  template: string,
  amountMinor: number,
  priority: number,
  group?: string,
) {
  return {
    ...withField(validCampaign(), "offer", { amountMinor }),
    id,
    template,
    stacking: group === undefined ? { priority } : { priority, exclusiveGroup: group },
  };
}

export function killSnapshot(): Snapshot {
  return snapshotOf([
    withField(validTemplate(), "bands", undefined),
    {
      ...withField(validTemplate(), "bands", undefined),
      id: "bank-discount",
      funding: { source: "bank" },
    },
    validEnvelope(),
    campaign("a-coffee", "instant-discount", 80, 10, "coffee"),
    campaign("b-coffee", "instant-discount", 50, 5, "coffee"),
    campaign("c-bank", "bank-discount", 30, 1),
  ]);
}

/** A clock and timers that move only when told: `advance` runs what falls due, in order. */
export class ManualTimers implements KillTimers {
  nowMs = 1_000_000;
  private next = 1;
  private readonly due = new Map<number, { atMs: number; callback: () => void }>();

  setTimeout(callback: () => void, delayMs: number): unknown {
    const handle = this.next++;
    this.due.set(handle, { atMs: this.nowMs + delayMs, callback });
    return handle;
  }

  clearTimeout(handle: unknown): void {
    this.due.delete(handle as number);
  }

  /** Moves the clock by `ms`, running each timer at its instant and letting promises settle. */
  async advance(ms: number): Promise<void> {
    const endMs = this.nowMs + ms;
    for (;;) {
      await settle();
      const first = [...this.due.entries()]
        .filter(([, timer]) => timer.atMs <= endMs)
        .sort((left, right) => left[1].atMs - right[1].atMs || left[0] - right[0])[0];
      if (first === undefined) break;
      this.due.delete(first[0]);
      this.nowMs = Math.max(this.nowMs, first[1].atMs);
      first[1].callback();
    }
    this.nowMs = endMs;
    await settle();
  }

  get pending(): number {
    return this.due.size;
  }
}

/** Lets queued promise callbacks run (a few rounds: reads chain several awaits). */
export async function settle(): Promise<void> {
  for (let round = 0; round < 20; round += 1) await Promise.resolve();
}
