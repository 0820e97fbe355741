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
 *
 * `parsePaymentLineInto` is the same parser writing straight into a simulation's reused
 * `SimulatedPayment`: no payment object, no strings for closed vocabularies or identities. It
 * answers only for a line in the format whose payment `fastPaymentCheck` would accept, and then
 * with the same checked fields (a differential test checks this); every other line, valid or
 * not, is left to the object path, which counts and explains it as before.
 */

import { PAYMENT_AT_MS_MAX } from "../core/evaluator/fast-payment-check.ts";
import { MODEL_LIMITS } from "../core/model/fields.ts";
import { CHANNELS, PAYEE_KINDS, PAYMENT_METHODS, SEGMENTS } from "../core/model/payment.ts";
import { AMOUNT_MINOR_MAX, CURRENCIES } from "../core/money.ts";
import { REGIONS } from "../core/region.ts";
import { SCENARIOS } from "../core/scenario.ts";
import type { SimulatedPayment } from "../core/simulation/simulated-payment.ts";

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

/** Key bits `parsePaymentLineInto` needs: every field `fastPaymentCheck` requires. */
const REQUIRED_KEYS = [0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11].reduce(
  (bits, key) => bits | (1 << key),
  0,
);
const KEY_PAYMENT_ID = 0;
const KEY_USER_ID = 1;
const KEY_CURRENCY = 3;
const KEY_SCENARIO = 4;
const KEY_PAYEE_KIND = 5;
const KEY_MERCHANT_ID = 6;
const KEY_MERCHANT_CATEGORY = 7;
const KEY_REGION = 8;
const KEY_CHANNEL = 9;
const KEY_PAYMENT_METHOD = 10;
const KEY_DEVICE_ID = 12;
const KEY_CARD_FINGERPRINT = 13;
const ID_LENGTH_MAX = MODEL_LIMITS.idLengthMax;
const INDIVIDUAL_PAYEE_ID = PAYEE_KINDS.indexOf("individual");

/**
 * Characters of `externalId` (`/^[A-Za-z0-9_.:-]+$/`, as fast-payment-check.ts), by UTF-16 code
 * unit: a table of every code unit (64 KiB, of which an id's scan touches one or two cache lines)
 * so that a character costs one load and one compare, with no range check first.
 */
const ID_CHARACTERS = (() => {
  const table = new Uint8Array(65_536);
  const allowed = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-";
  for (let index = 0; index < allowed.length; index += 1) table[allowed.charCodeAt(index)] = 1;
  return table;
})();

/**
 * A closed vocabulary by the FNV-1a hash of each value: `idsBySlot[hash & mask]` is the id + 1 of
 * the one value whose hash has those low bits (0: none), the value's characters confirming it. A
 * typed array indexed by bits rather than a Map: no hashing of the number key, no call.
 */
interface VocabularyTable {
  readonly idsBySlot: Uint8Array;
  readonly mask: number;
  readonly values: readonly string[];
}

/** The largest slot table tried: vocabularies are small, collisions in low bits rare. */
const VOCABULARY_SLOTS_MAX = 1 << 16;

function vocabularyTable(values: readonly string[]): VocabularyTable {
  if (values.length > 254) throw new Error("a vocabulary's ids + 1 must fit a byte");
  // The smallest power of two whose low bits tell every value's hash apart.
  for (let slots = 16; slots <= VOCABULARY_SLOTS_MAX; slots *= 2) {
    const idsBySlot = new Uint8Array(slots);
    const mask = slots - 1;
    const distinct = values.every((value, id) => {
      const slot = fnv1a(value) & mask;
      if (idsBySlot[slot] !== 0) return false;
      idsBySlot[slot] = id + 1;
      return true;
    });
    if (distinct) return { idsBySlot, mask, values };
  }
  throw new Error("a vocabulary's values share their hashes' low 16 bits");
}

const VOCABULARY_TABLES: readonly (VocabularyTable | undefined)[] = (() => {
  const tables: (VocabularyTable | undefined)[] = new Array(KEYS.length).fill(undefined);
  tables[KEY_CURRENCY] = vocabularyTable(CURRENCIES);
  tables[KEY_SCENARIO] = vocabularyTable(SCENARIOS);
  tables[KEY_PAYEE_KIND] = vocabularyTable(PAYEE_KINDS);
  tables[KEY_REGION] = vocabularyTable(REGIONS);
  tables[KEY_CHANNEL] = vocabularyTable(CHANNELS);
  tables[KEY_PAYMENT_METHOD] = vocabularyTable(PAYMENT_METHODS);
  return tables;
})();
const SEGMENT_TABLE = vocabularyTable(SEGMENTS);

/** Merchant categories (four digits) by their number: one string per category, made once. */
const CATEGORIES: (string | undefined)[] = new Array(10_000).fill(undefined);

/** Where the last `readIdRange` found its value: [idStart, idEnd). */
let idStart = 0;
let idEnd = 0;

/**
 * Parses `text[start, end)` into `into` when the line is in the format and its payment passes
 * `fastPaymentCheck`; false leaves the line to the object path (`parsePaymentJsonFast`, then
 * `JSON.parse`), `into` then holding nothing of use.
 */
export function parsePaymentLineInto(
  text: string,
  start: number,
  end: number,
  into: SimulatedPayment,
): boolean {
  if (end - start < 2 || text.charCodeAt(start) !== OPEN_BRACE) return false;
  if (text.charCodeAt(end - 1) !== CLOSE_BRACE) return false;
  const checked = into.checked;
  let seen = 0;
  into.deviceStart = into.deviceEnd = -1;
  into.cardStart = into.cardEnd = -1;
  checked.merchantCategory = undefined;
  checked.segmentBits = 0;
  let payeeKindId = 0;
  position = start + 1;
  if (position === end - 1) return false;
  for (;;) {
    if (text.charCodeAt(position) !== QUOTE) return false;
    const keyStart = position + 1;
    const keyEnd = text.indexOf('"', keyStart);
    if (keyEnd === -1 || keyEnd >= end) return false;
    const key = keyIndex(text, keyStart, keyEnd - keyStart);
    if (key < 0 || (seen & (1 << key)) !== 0) return false;
    seen |= 1 << key;
    if (text.charCodeAt(keyEnd + 1) !== COLON) return false;
    position = keyEnd + 2;
    switch (key) {
      case KEY_AMOUNT_MINOR: {
        const amountMinor = readWholeNumber(text, end);
        if (amountMinor === undefined || amountMinor < 1 || amountMinor > AMOUNT_MINOR_MAX)
          return false;
        checked.amountMinor = amountMinor;
        break;
      }
      case KEY_AT_MS: {
        const atMs = readWholeNumber(text, end);
        if (atMs === undefined || atMs > PAYMENT_AT_MS_MAX) return false;
        checked.atMs = atMs;
        break;
      }
      case KEY_SEGMENTS: {
        const bits = readSegmentBits(text, end);
        if (bits < 0) return false;
        checked.segmentBits = bits;
        break;
      }
      case KEY_MERCHANT_CATEGORY: {
        const category = readCategory(text, end);
        if (category === undefined) return false;
        checked.merchantCategory = category;
        break;
      }
      case KEY_PAYMENT_ID:
        if (!readIdRange(text, end)) return false;
        checked.paymentId = text.slice(idStart, idEnd);
        break;
      case KEY_MERCHANT_ID:
        if (!readIdRange(text, end)) return false;
        checked.merchantId = text.slice(idStart, idEnd);
        break;
      case KEY_USER_ID:
        if (!readIdRange(text, end)) return false;
        into.userText = text;
        into.userStart = idStart;
        into.userEnd = idEnd;
        break;
      case KEY_DEVICE_ID:
        if (!readIdRange(text, end)) return false;
        into.deviceText = text;
        into.deviceStart = idStart;
        into.deviceEnd = idEnd;
        break;
      case KEY_CARD_FINGERPRINT:
        if (!readIdRange(text, end)) return false;
        into.cardText = text;
        into.cardStart = idStart;
        into.cardEnd = idEnd;
        break;
      default: {
        const id = readVocabularyId(text, end, VOCABULARY_TABLES[key]!);
        if (id < 0) return false;
        if (key === KEY_CURRENCY) {
          checked.currencyId = id;
          checked.currency = CURRENCIES[id]!;
        } else if (key === KEY_SCENARIO) checked.scenarioId = id;
        else if (key === KEY_PAYEE_KIND) payeeKindId = id;
        else if (key === KEY_REGION) {
          checked.regionId = id;
          checked.region = REGIONS[id]!;
        } else if (key === KEY_CHANNEL) checked.channelId = id;
        else checked.paymentMethodId = id;
      }
    }
    const next = text.charCodeAt(position);
    if (next === COMMA) {
      position += 1;
      continue;
    }
    if (next !== CLOSE_BRACE || position !== end - 1) return false;
    if ((seen & REQUIRED_KEYS) !== REQUIRED_KEYS) return false;
    checked.individualPayee = payeeKindId === INDIVIDUAL_PAYEE_ID;
    return true;
  }
}

/**
 * Reads a string value that is an external id into [idStart, idEnd); false for anything else
 * (another string, an escape, a non-string), which the object path then judges.
 */
function readIdRange(text: string, end: number): boolean {
  if (text.charCodeAt(position) !== QUOTE) return false;
  const from = position + 1;
  let at = from;
  // Id characters, then the closing quote: anything else (an escape, a control character, a
  // character outside the pattern) leaves the line to the object path.
  while (at < end && ID_CHARACTERS[text.charCodeAt(at)] === 1) at += 1;
  const length = at - from;
  if (at >= end || text.charCodeAt(at) !== QUOTE || length === 0 || length > ID_LENGTH_MAX)
    return false;
  idStart = from;
  idEnd = at;
  position = at + 1;
  return true;
}

/** Reads a string value of a closed vocabulary: its id, or -1 (then the object path judges). */
function readVocabularyId(text: string, end: number, table: VocabularyTable): number {
  if (text.charCodeAt(position) !== QUOTE) return -1;
  const from = position + 1;
  let at = from;
  let hash = FNV_OFFSET_BASIS;
  for (; at < end; at += 1) {
    const code = text.charCodeAt(at);
    if (code === QUOTE) break;
    hash = Math.imul(hash ^ code, FNV_PRIME);
  }
  if (at >= end) return -1;
  const id = table.idsBySlot[hash & table.mask]! - 1;
  if (id < 0) return -1;
  // The hash only finds a candidate; equal characters decide.
  const value = table.values[id]!;
  const length = value.length;
  if (length !== at - from) return -1;
  for (let index = 0; index < length; index += 1)
    if (value.charCodeAt(index) !== text.charCodeAt(from + index)) return -1;
  position = at + 1;
  return id;
}

/** Reads a merchant category (`/^\d{4}$/`) as its one string, or undefined. */
function readCategory(text: string, end: number): string | undefined {
  const from = position + 1;
  if (text.charCodeAt(position) !== QUOTE || from + 5 > end || text.charCodeAt(from + 4) !== QUOTE)
    return undefined;
  let number = 0;
  for (let at = from; at < from + 4; at += 1) {
    const code = text.charCodeAt(at);
    if (code < DIGIT_0 || code > DIGIT_9) return undefined;
    number = number * 10 + (code - DIGIT_0);
  }
  let category = CATEGORIES[number];
  if (category === undefined) {
    category = text.slice(from, from + 4);
    CATEGORIES[number] = category;
  }
  position = from + 5;
  return category;
}

/** Reads a list of segments as bits (`SEGMENT_IDS`), or -1. */
function readSegmentBits(text: string, end: number): number {
  if (text.charCodeAt(position) !== OPEN_BRACKET) return -1;
  position += 1;
  if (text.charCodeAt(position) === CLOSE_BRACKET) {
    position += 1;
    return 0;
  }
  let bits = 0;
  // The payment check allows at most as many items as there are segments (repeats included).
  for (let items = 1; items <= SEGMENTS.length; items += 1) {
    const id = readVocabularyId(text, end, SEGMENT_TABLE);
    if (id < 0) return -1;
    bits |= 1 << id;
    const next = text.charCodeAt(position);
    position += 1;
    if (next === CLOSE_BRACKET) return bits;
    if (next !== COMMA) return -1;
  }
  return -1;
}
