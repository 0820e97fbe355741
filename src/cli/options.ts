/** Parsers for flag values shared by commands; each returns undefined for an unusable value. */

export function parseSeed(text: string): number | undefined {
  return parseWholeNumber(text, 0, 4_294_967_295);
}

export function parseWholeNumber(text: string, min: number, max: number): number | undefined {
  if (!/^\d+$/.test(text.trim())) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) && value >= min && value <= max ? value : undefined;
}
