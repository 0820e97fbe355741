/**
 * A reader of the Prometheus text format, enough for `GET /metrics`: samples with their labels.
 * Comments, histograms' own lines and anything unparsable are skipped, not fatal: the console
 * shows what it can read. Pure.
 */

export interface MetricSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Lines read from one scrape; a larger answer is cut (STYLE rule 9). */
export const METRIC_LINES_MAX = 50_000;

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\S+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

function unescapeLabel(value: string): string {
  return value.replace(/\\(.)/g, (_whole, character: string) =>
    character === "n" ? "\n" : character,
  );
}

function parseValue(text: string): number | undefined {
  if (text === "+Inf") return Number.POSITIVE_INFINITY;
  if (text === "-Inf") return Number.NEGATIVE_INFINITY;
  const value = Number(text);
  return Number.isNaN(value) && text !== "NaN" ? undefined : value;
}

/** The samples of `names` only (every sample when `names` is undefined). */
export function parseMetrics(text: string, names?: ReadonlySet<string>): MetricSample[] {
  const samples: MetricSample[] = [];
  const lines = text.split("\n", METRIC_LINES_MAX);
  for (const raw of lines) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const match = SAMPLE.exec(line);
    if (match === null) continue;
    const name = match[1] as string;
    if (names !== undefined && !names.has(name)) continue;
    const value = parseValue(match[3] as string);
    if (value === undefined) continue;
    const labels: Record<string, string> = {};
    for (const label of (match[2] ?? "").matchAll(LABEL)) {
      labels[label[1] as string] = unescapeLabel(label[2] as string);
    }
    samples.push({ name, labels, value });
  }
  return samples;
}
