/**
 * Regions, as ISO 3166-2 subdivision codes: the provincial-level divisions of China (including
 * the municipalities Beijing, Shanghai, Tianjin and Chongqing, which are cities) and a few
 * outside it for non-CNY payments. The list is closed: an unknown region is a finding.
 */
export const REGIONS = [
  "CN-AH",
  "CN-BJ",
  "CN-CQ",
  "CN-FJ",
  "CN-GD",
  "CN-GS",
  "CN-GX",
  "CN-GZ",
  "CN-HA",
  "CN-HB",
  "CN-HE",
  "CN-HI",
  "CN-HK",
  "CN-HL",
  "CN-HN",
  "CN-JL",
  "CN-JS",
  "CN-JX",
  "CN-LN",
  "CN-MO",
  "CN-NM",
  "CN-NX",
  "CN-QH",
  "CN-SC",
  "CN-SD",
  "CN-SH",
  "CN-SN",
  "CN-SX",
  "CN-TJ",
  "CN-XJ",
  "CN-XZ",
  "CN-YN",
  "CN-ZJ",
  "JP-13",
  "KW-KU",
  "SG-01",
  "US-CA",
] as const;

export type Region = (typeof REGIONS)[number];

export function isRegion(value: unknown): value is Region {
  return typeof value === "string" && (REGIONS as readonly string[]).includes(value);
}
