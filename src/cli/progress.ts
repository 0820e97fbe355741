/** Progress goes to stderr about once a second, for a terminal or for runs this long. */
const PROGRESS_LINES_MIN = 1_000_000;
const PROGRESS_INTERVAL_MS = 1_000;

export /**
 * Progress on stderr, at most once a second: for a person at a terminal, or for long runs whose
 * stderr is a log. The interface layer may read the clock; the generator never does.
 */
class Progress {
  private readonly enabled: boolean;
  private lastMs = performance.now();
  private shown = false;

  constructor(
    private readonly verb: string,
    private readonly total: number | undefined,
  ) {
    this.enabled =
      process.stderr.isTTY === true || (total !== undefined && total > PROGRESS_LINES_MIN);
  }

  update(done: number): void {
    if (!this.enabled) return;
    const nowMs = performance.now();
    if (nowMs - this.lastMs < PROGRESS_INTERVAL_MS) return;
    this.lastMs = nowMs;
    this.shown = true;
    const percent =
      this.total === undefined
        ? ""
        : ` / ${this.total} (${Math.floor((done / this.total) * 100)} %)`;
    process.stderr.write(`${this.verb} ${done}${percent} payments\n`);
  }

  finish(done: number): void {
    if (this.shown) process.stderr.write(`${this.verb} ${done} payments, done\n`);
  }
}
