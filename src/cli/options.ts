/** Parsers for flag values shared by commands; each returns undefined for an unusable value. */

export function parseSeed(text: string): number | undefined {
  return parseWholeNumber(text, 0, 4_294_967_295);
}

export function parseWholeNumber(text: string, min: number, max: number): number | undefined {
  if (!/^\d+$/.test(text.trim())) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) && value >= min && value <= max ? value : undefined;
}

/**
 * A process's share of the traffic, `--traffic-share FRACTION`: a decimal in (0, 1] with at most
 * four places (`0.25`, `1`, `0.0001`), as the basis points the guard's policy takes. Parsed from
 * the text, digit by digit: `0.3334` is 3,334 bps, where 0.3334 × 10,000 in floating point is
 * 3,333.9999999999995 (and a floor would make it 3,333).
 */
export function parseTrafficShareBps(text: string): number | undefined {
  const match = /^(\d{1,5})(?:\.(\d{1,4}))?$/.exec(text.trim());
  if (match === null) return undefined;
  const bps = Number(match[1]) * 10_000 + Number((match[2] ?? "").padEnd(4, "0"));
  return bps >= 1 && bps <= 10_000 ? bps : undefined;
}

/** What `--traffic-share` says when its value is refused. */
export const TRAFFIC_SHARE_EXPECTED =
  "a decimal in (0, 1] with at most 4 decimal places, e.g. 0.25 for one of four evenly balanced processes";
