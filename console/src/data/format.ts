/**
 * How the console writes money, rates and times. Money arrives as integer minor units with its
 * currency's exponent (DESIGN §4.1); it is shown in major units without floating-point sums.
 */

const EXPONENTS: Readonly<Record<string, number>> = { JPY: 0, KRW: 0, KWD: 3, BHD: 3 };

export function exponentOf(currency: string): number {
  return EXPONENTS[currency] ?? 2;
}

/** `123456` CNY → `1,234.56`; fractions of a minor unit (rates) are rounded to the unit. */
export function formatMinor(amountMinor: number, currency = "CNY"): string {
  const exponent = exponentOf(currency);
  const rounded = Math.round(amountMinor);
  const negative = rounded < 0;
  const digits = String(Math.abs(rounded)).padStart(exponent + 1, "0");
  const whole = digits.slice(0, digits.length - exponent);
  const fraction = exponent > 0 ? `.${digits.slice(digits.length - exponent)}` : "";
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${negative ? "-" : ""}${grouped}${fraction}`;
}

export function formatMoney(amountMinor: number, currency = "CNY"): string {
  return `${formatMinor(amountMinor, currency)} ${currency}`;
}

/** A count or rate with at most `decimals` decimals and thousands separators. */
export function formatNumber(value: number, decimals = 0): string {
  if (!Number.isFinite(value)) return "—";
  const fixed = value.toFixed(decimals);
  const [whole = "0", fraction] = fixed.split(".");
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return fraction === undefined ? grouped : `${grouped}.${fraction}`;
}

/** Basis points as a percentage: 1234 → `12.34 %`. */
export function formatBps(bps: number): string {
  return `${formatNumber(bps / 100, 2)} %`;
}

/** A share of a whole in basis points, 0 when the whole is 0. */
export function shareBps(part: number, whole: number): number {
  return whole > 0 ? Math.round((part / whole) * 10_000) : 0;
}

/** An instant as `2025-01-16 14:40:05 UTC`: the server's clock may be the demo's, in 2025. */
export function formatInstant(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "—";
  return `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** The time of day of an instant, `14:40:05` UTC, for chart axes. */
export function formatClock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}

/** A duration in milliseconds as `4 min 59 s`, `0.021 s`. */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${formatNumber(ms / 1_000, 3)} s`;
  const seconds = Math.round(ms / 1_000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
