/**
 * A parser for payment lines as `JSON.stringify` writes them (the NDJSON writer's and the sample
 * log's format): one object, no whitespace, string values without escapes, whole numbers, and a
 * list of strings for `segments`. It is several times faster than `JSON.parse` here because it
 * knows the keys and builds the object with them directly.
 *
 * It returns undefined for anything outside that format — whitespace, an escape, an unknown or
 * repeated key, a fraction, a number too long to be exact — and the caller parses such a line with
 * `JSON.parse` instead. So it never decides whether a line is valid JSON or a valid payment: when
 * it answers, `JSON.parse` would have given an equal object (a differential test checks this), and
 * the evaluator's payment check then judges the payment.
 */

import { CHANNELS, PAYEE_KINDS, PAYMENT_METHODS, SEGMENTS } from "../core/model/payment.ts";
import { CURRENCIES } from "../core/money.ts";
import { REGIONS } from "../core/region.ts";
import { SCENARIOS } from "../core/scenario.ts";

const QUOTE = 0x22;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const BACKSLASH = 0x5c;
const MINUS = 0x2d;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const CONTROL_MAX = 0x1f;
/** Digits a whole number may have and still be exact as a double (and below 2^53). */
const DIGITS_MAX = 15;

/** Where the scan is: `position` after each step, or -1 once the line left the format. */
let position = 0;

/** Parses `text[start, end)`; undefined means "use JSON.parse" (see the file comment). */
export function parsePaymentJsonFast(
  text: string,
  start = 0,
  end = text.length,
): Record<string, unknown> | undefined {
  if (end - start < 2 || text.charCodeAt(start) !== OPEN_BRACE) return undefined;
  if (text.charCodeAt(end - 1) !== CLOSE_BRACE) return undefined;
  const values = valuesScratch;
  // A line that leaves the format part-way leaves values behind: start clean.
  values.fill(undefined);
  let seen = 0;
  position = start + 1;
  if (position === end - 1) return paymentOf(values);
  for (;;) {
    if (text.charCodeAt(position) !== QUOTE) return undefined;
    const keyStart = position + 1;
    const keyEnd = text.indexOf('"', keyStart);
    if (keyEnd === -1 || keyEnd >= end) return undefined;
    const key = keyIndex(text, keyStart, keyEnd - keyStart);
    if (key < 0 || (seen & (1 << key)) !== 0) return undefined;
    seen |= 1 << key;
    if (text.charCodeAt(keyEnd + 1) !== COLON) return undefined;
    position = keyEnd + 2;
    values[key] =
      key === KEY_AMOUNT_MINOR || key === KEY_AT_MS
        ? readWholeNumber(text, end)
        : key === KEY_SEGMENTS
          ? readStringList(text, end)
          : readString(text, end, (INTERNED_KEYS & (1 << key)) !== 0);
    if (position < 0) return undefined;
    const next = text.charCodeAt(position);
    if (next === COMMA) {
      position += 1;
      continue;
    }
    // The closing brace must be the line's last character.
    if (next !== CLOSE_BRACE || position !== end - 1) return undefined;
    return paymentOf(values);
  }
}

const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

function fnv1a(text: string): number {
  let hash = FNV_OFFSET_BASIS;
  for (let index = 0; index < text.length; index += 1)
    hash = Math.imul(hash ^ text.charCodeAt(index), FNV_PRIME);
  return hash;
}

/** currency, scenario, payeeKind, merchantCategory, region, channel, paymentMethod (and segments). */
const INTERNED_KEYS = (1 << 3) | (1 << 4) | (1 << 5) | (1 << 7) | (1 << 8) | (1 << 9) | (1 << 10);
/** Strings kept for interning: the vocabularies and up to this many more (merchant categories). */
const INTERNED_MAX = 20_000;
const interned = new Map<number, string>();
for (const value of [
  ...CURRENCIES,
  ...SCENARIOS,
  ...PAYEE_KINDS,
  ...REGIONS,
  ...CHANNELS,
  ...PAYMENT_METHODS,
  ...SEGMENTS,
]) {
  // A collision would only cost the second value its interning; first come, first kept.
  if (!interned.has(fnv1a(value))) interned.set(fnv1a(value), value);
}

/** Values by key index for the line being parsed; read out before the next line. */
const valuesScratch: unknown[] = new Array(15).fill(undefined);

const KEYS = [
  "paymentId",
  "userId",
  "amountMinor",
  "currency",
  "scenario",
  "payeeKind",
  "merchantId",
  "merchantCategory",
  "region",
  "channel",
  "paymentMethod",
  "atMs",
  "deviceId",
  "cardFingerprint",
  "segments",
] as const;
const KEY_AMOUNT_MINOR = 2;
const KEY_AT_MS = 11;
const KEY_SEGMENTS = 14;

/**
 * One object literal with every key, absent ones undefined: every payment then has the same hidden
 * class, so the evaluator's reads stay monomorphic. The payment schema treats an undefined
 * optional field as absent, and JSON.stringify leaves it out.
 */
function paymentOf(values: unknown[]): Record<string, unknown> {
  const payment = {
    paymentId: values[0],
    userId: values[1],
    amountMinor: values[2],
    currency: values[3],
    scenario: values[4],
    payeeKind: values[5],
    merchantId: values[6],
    merchantCategory: values[7],
    region: values[8],
    channel: values[9],
    paymentMethod: values[10],
    atMs: values[11],
    deviceId: values[12],
    cardFingerprint: values[13],
    segments: values[14],
  };
  return payment;
}

const KEYS_BY_LENGTH: readonly (readonly number[])[] = (() => {
  const table: number[][] = Array.from({ length: 17 }, () => []);
  KEYS.forEach((key, index) => {
    table[key.length]!.push(index);
  });
  return table;
})();

function keyIndex(text: string, at: number, length: number): number {
  const candidates = KEYS_BY_LENGTH[length];
  if (candidates === undefined) return -1;
  for (let index = 0; index < candidates.length; index += 1) {
    const candidate = candidates[index]!;
    if (text.startsWith(KEYS[candidate]!, at)) return candidate;
  }
  return -1;
}

/**
 * Reads a string value. With `intern`, a value seen before is returned as the same string: the
 * closed vocabularies' own constants, and merchant categories as they come. Fewer strings for the
 * garbage collector, and the evaluator's vocabulary lookups get strings V8 has already hashed.
 */
function readString(text: string, end: number, intern = false): string | undefined {
  if (text.charCodeAt(position) !== QUOTE) {
    position = -1;
    return undefined;
  }
  const from = position + 1;
  let at = from;
  let hash = FNV_OFFSET_BASIS;
  for (; at < end; at += 1) {
    const code = text.charCodeAt(at);
    if (code === QUOTE) break;
    // Escapes and raw control characters are JSON.parse's to judge.
    if (code === BACKSLASH || code <= CONTROL_MAX) {
      position = -1;
      return undefined;
    }
    hash = Math.imul(hash ^ code, FNV_PRIME);
  }
  if (at >= end) {
    position = -1;
    return undefined;
  }
  position = at + 1;
  if (!intern) return text.slice(from, at);
  const known = interned.get(hash);
  // The hash only finds a candidate; equal characters decide.
  if (known !== undefined && known.length === at - from && text.startsWith(known, from))
    return known;
  const value = text.slice(from, at);
  if (known === undefined && interned.size < INTERNED_MAX) interned.set(hash, value);
  return value;
}

function readWholeNumber(text: string, end: number): number | undefined {
  const from = position;
  let at = from;
  // A leading minus, a leading zero before digits, fractions and exponents go to JSON.parse.
  if (text.charCodeAt(at) === MINUS) {
    position = -1;
    return undefined;
  }
  let value = 0;
  for (; at < end; at += 1) {
    const code = text.charCodeAt(at);
    if (code < DIGIT_0 || code > DIGIT_9) break;
    value = value * 10 + (code - DIGIT_0);
  }
  const digits = at - from;
  const next = text.charCodeAt(at);
  if (
    digits === 0 ||
    digits > DIGITS_MAX ||
    (digits > 1 && text.charCodeAt(from) === DIGIT_0) ||
    (next !== COMMA && next !== CLOSE_BRACE)
  ) {
    position = -1;
    return undefined;
  }
  position = at;
  return value;
}

function readStringList(text: string, end: number): string[] | undefined {
  if (text.charCodeAt(position) !== OPEN_BRACKET) {
    position = -1;
    return undefined;
  }
  position += 1;
  const list: string[] = [];
  if (text.charCodeAt(position) === CLOSE_BRACKET) {
    position += 1;
    return list;
  }
  for (;;) {
    const item = readString(text, end, true);
    if (position < 0 || item === undefined) return undefined;
    list.push(item);
    const next = text.charCodeAt(position);
    position += 1;
    if (next === CLOSE_BRACKET) return list;
    if (next !== COMMA) {
      position = -1;
      return undefined;
    }
  }
}
