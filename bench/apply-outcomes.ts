/**
 * What the apply benchmarks' calls answered, counted so the run can say how many payments were
 * reserved, how many subsidies a limit refused (and which), and whether the store ever failed —
 * a throughput that hides refusals or `ledger_unavailable` answers would flatter the store.
 */
import type { ApplyAnswer } from "../src/ledger/ledger-service.ts";

export class ApplyOutcomes {
  applied = 0;
  reservedMinor = 0;
  private readonly codes = new Map<string, number>();
  private readonly refusals = new Map<string, number>();
  private subsidiesReserved = 0;

  record(answer: ApplyAnswer): void {
    this.applied += 1;
    this.codes.set(answer.code, (this.codes.get(answer.code) ?? 0) + 1);
    if (answer.reservation === null) return;
    this.reservedMinor += answer.reservation.totalReservedMinor;
    for (const subsidy of answer.reservation.subsidies) {
      if (subsidy.code === "reserved") this.subsidiesReserved += 1;
      else this.refusals.set(subsidy.code, (this.refusals.get(subsidy.code) ?? 0) + 1);
    }
  }

  add(other: ApplyOutcomes): void {
    this.applied += other.applied;
    this.reservedMinor += other.reservedMinor;
    this.subsidiesReserved += other.subsidiesReserved;
    for (const [code, count] of other.codes)
      this.codes.set(code, (this.codes.get(code) ?? 0) + count);
    for (const [code, count] of other.refusals)
      this.refusals.set(code, (this.refusals.get(code) ?? 0) + count);
  }

  count(code: ApplyAnswer["code"]): number {
    return this.codes.get(code) ?? 0;
  }

  describe(): string {
    const codes = [...this.codes].map(([code, count]) => `${count} ${code}`).join(", ");
    const refused = [...this.refusals].map(([code, count]) => `${count} ${code}`).join(", ");
    return `${this.applied} applied (${codes}); ${this.subsidiesReserved} subsidies reserved, refused: ${refused === "" ? "none" : refused}`;
  }
}
