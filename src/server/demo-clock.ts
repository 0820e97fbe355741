/**
 * The demo's clock. The examples are the platform of 2025 (campaigns and the government program
 * run through 2025), so `bursar serve --demo` lives in that year: its clock is the wall clock
 * moved back by whole 50-week periods until it falls between 2025-01-13 (a Monday) and 50 weeks
 * later. Whole weeks keep the weekday and the time of day, so weekday offers and meal-time
 * campaigns behave as they would; the same wall time maps to the same demo time on every start,
 * so a restart goes on where it stopped. Once every 50 weeks of wall time the demo clock jumps
 * back to the period's start (documented in docs/reference/serve.md).
 */
const DEMO_PERIOD_START_MS = Date.parse("2025-01-13T00:00:00+08:00");
const DEMO_PERIOD_MS = 50 * 7 * 86_400_000;

export function demoTimeOf(wallMs: number): number {
  const offset =
    (((wallMs - DEMO_PERIOD_START_MS) % DEMO_PERIOD_MS) + DEMO_PERIOD_MS) % DEMO_PERIOD_MS;
  return DEMO_PERIOD_START_MS + offset;
}

export function demoClock(wallNowMs: () => number = Date.now): () => number {
  return () => demoTimeOf(wallNowMs());
}
