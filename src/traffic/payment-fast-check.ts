/**
 * A fast acceptor for well-formed payments, in front of paymentSchema. Zod's checks run at
 * about 200,000 payments a second here, slower than JSON.parse itself, which would make reading a
 * million recorded payments take five seconds. This plain function accepts the common, valid
 * line in a fraction of that; anything it does not accept goes to paymentSchema, which has the
 * final word and produces the findings. So the fast check may be stricter than the schema, never
 * looser: a differential property test (test/traffic/payment-fast-check.test.ts) holds it to that.
 *
 * Bounds, patterns and value sets are read from the schema and the domain constants, not copied,
 * so a change there reaches this check too. If the schema gains a field or loses its limits
 * the check stands aside (FAST_PAYMENT_CHECK_ACTIVE is false) and a test says so.
 */
import {
  CHANNELS,
  PAYEE_KINDS,
  PAYMENT_METHODS,
  type Payment,
  paymentSchema,
  SEGMENTS,
} from "../core/model/payment.ts";
import { isCurrency } from "../core/money.ts";
import { isRegion } from "../core/region.ts";
import { isScenario } from "../core/scenario.ts";

/** The fields this check understands, in schema order; any other key sends the value to the schema. */
const KNOWN_FIELDS = [
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

interface Introspected {
  readonly idLengthMin: number;
  readonly idLengthMax: number;
  readonly idPattern: RegExp;
  readonly categoryPattern: RegExp;
  readonly amountMinorMin: number;
  readonly amountMinorMax: number;
  readonly atMsMin: number;
  readonly atMsMax: number;
}

interface CheckDef {
  readonly _zod?: { readonly def?: { readonly format?: string; readonly pattern?: RegExp } };
}

function patternOf(schema: unknown): RegExp | undefined {
  const checks =
    (schema as { _zod?: { def?: { checks?: readonly CheckDef[] } } })._zod?.def?.checks ?? [];
  const found = checks.find((check) => check._zod?.def?.format === "regex")?._zod?.def?.pattern;
  return found instanceof RegExp ? found : undefined;
}

function finite(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

function introspect(): Introspected | undefined {
  const shape = paymentSchema.shape;
  const schemaFields = Object.keys(shape);
  if (
    schemaFields.length !== KNOWN_FIELDS.length ||
    KNOWN_FIELDS.some((field) => !schemaFields.includes(field))
  ) {
    return undefined;
  }
  const id = shape.paymentId;
  for (const field of ["userId", "merchantId"] as const) if (shape[field] !== id) return undefined;
  for (const field of ["deviceId", "cardFingerprint"] as const)
    if (shape[field].unwrap() !== id) return undefined;
  const amountMeta = shape.amountMinor.meta() as
    | { minimum?: unknown; maximum?: unknown }
    | undefined;
  const parts = {
    idLengthMin: finite(id.minLength),
    idLengthMax: finite(id.maxLength),
    idPattern: patternOf(id),
    categoryPattern: patternOf(shape.merchantCategory.unwrap()),
    amountMinorMin: finite(amountMeta?.minimum),
    amountMinorMax: finite(amountMeta?.maximum),
    atMsMin: finite(shape.atMs.minValue),
    atMsMax: finite(shape.atMs.maxValue),
  };
  for (const value of Object.values(parts)) if (value === undefined) return undefined;
  return parts as Introspected;
}

const LIMITS = introspect();

/** False when the schema has changed in a way this check does not follow: every value then goes to the schema. */
export const FAST_PAYMENT_CHECK_ACTIVE = LIMITS !== undefined;

const KNOWN_FIELD_SET: ReadonlySet<string> = new Set(KNOWN_FIELDS);
const PAYEE_KIND_SET: ReadonlySet<unknown> = new Set(PAYEE_KINDS);
const CHANNEL_SET: ReadonlySet<unknown> = new Set(CHANNELS);
const PAYMENT_METHOD_SET: ReadonlySet<unknown> = new Set(PAYMENT_METHODS);
const SEGMENT_SET: ReadonlySet<unknown> = new Set(SEGMENTS);

function isId(value: unknown, limits: Introspected): boolean {
  return (
    typeof value === "string" &&
    value.length >= limits.idLengthMin &&
    value.length <= limits.idLengthMax &&
    limits.idPattern.test(value)
  );
}

function isOptionalId(value: unknown, limits: Introspected): boolean {
  return value === undefined || isId(value, limits);
}

function isSegmentList(value: unknown): boolean {
  if (value === undefined) return true;
  if (!Array.isArray(value) || value.length > SEGMENTS.length) return false;
  for (const segment of value) if (!SEGMENT_SET.has(segment)) return false;
  return true;
}

/**
 * True only when paymentSchema would accept `value` and return an equal payment. False means
 * "ask the schema", not "invalid".
 */
export function acceptsPaymentFast(value: object): value is Payment {
  const limits = LIMITS;
  if (limits === undefined) return false;
  for (const key in value) if (!KNOWN_FIELD_SET.has(key)) return false;
  const payment = value as Record<string, unknown>;
  const amountMinor = payment.amountMinor;
  const atMs = payment.atMs;
  const category = payment.merchantCategory;
  return (
    Object.getPrototypeOf(value) === Object.prototype &&
    isId(payment.paymentId, limits) &&
    isId(payment.userId, limits) &&
    typeof amountMinor === "number" &&
    Number.isSafeInteger(amountMinor) &&
    amountMinor >= limits.amountMinorMin &&
    amountMinor <= limits.amountMinorMax &&
    isCurrency(payment.currency) &&
    isScenario(payment.scenario) &&
    PAYEE_KIND_SET.has(payment.payeeKind) &&
    isId(payment.merchantId, limits) &&
    (category === undefined ||
      (typeof category === "string" && limits.categoryPattern.test(category))) &&
    isRegion(payment.region) &&
    CHANNEL_SET.has(payment.channel) &&
    PAYMENT_METHOD_SET.has(payment.paymentMethod) &&
    typeof atMs === "number" &&
    Number.isSafeInteger(atMs) &&
    atMs >= limits.atMsMin &&
    atMs <= limits.atMsMax &&
    isOptionalId(payment.deviceId, limits) &&
    isOptionalId(payment.cardFingerprint, limits) &&
    isSegmentList(payment.segments)
  );
}
