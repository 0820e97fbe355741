/**
 * Local minute of day and ISO weekday of an instant in a time zone, without calling `Intl` per
 * payment. Reading a zone through `Intl` costs about a microsecond; the fast evaluator reads the
 * zone of every candidate with a daily window or weekdays, so it caches the UTC offset.
 *
 * Assumption: a zone's offset changes at most once within any 15-minute bucket of UTC time. In
 * the tz database offsets change on quarter hours of UTC almost always (a few historical ones,
 * such as Monrovia's in 1972, do not) and never twice within 15 minutes. The offset is read at
 * both ends of a bucket; when they agree it holds for the whole bucket, and when they differ —
 * a change inside the bucket — that bucket is read exactly through `zonedParts` for every
 * payment. So the answer always equals `zonedParts`; the cache only decides how often `Intl`
 * runs. A zone that changed twice within one bucket would break this; none does.
 *
 * Traffic arrives in time order, so nearly every payment falls in a bucket already cached; a
 * small direct-mapped table per zone also serves replays that jump around a little.
 */
import { offsetMsAt, zonedParts } from "../time-zone.ts";

const BUCKET_MS = 15 * 60_000;
const MS_PER_DAY = 86_400_000;
const MS_PER_MINUTE = 60_000;
/** Slots per zone; a power of two so a bucket's slot is `bucket & (SLOTS - 1)`. */
const SLOTS_PER_ZONE = 64;
/** 1970-01-01 was a Thursday (ISO weekday 4); `+ 10` keeps the remainder non-negative. */
const EPOCH_WEEKDAY_SHIFT = 10;

export class FastZoneClock {
  private readonly zones: readonly string[];
  /** Bucket number held by each slot (NaN: empty). */
  private readonly slotBuckets: Float64Array;
  /** Offset of the slot's bucket in ms; NaN when the offset changes inside that bucket. */
  private readonly slotOffsetsMs: Float64Array;
  /** Results of the last `read`. */
  minuteOfDay = 0;
  weekday = 0;
  /** How many buckets were read through `Intl` (for tests and benchmarks). */
  bucketReads = 0;

  constructor(zones: readonly string[]) {
    this.zones = zones;
    this.slotBuckets = new Float64Array(zones.length * SLOTS_PER_ZONE).fill(Number.NaN);
    this.slotOffsetsMs = new Float64Array(zones.length * SLOTS_PER_ZONE);
  }

  /** Sets `minuteOfDay` and `weekday` for `atMs` in zone number `zoneId`. */
  read(zoneId: number, atMs: number): void {
    const bucket = Math.floor(atMs / BUCKET_MS);
    const slot = zoneId * SLOTS_PER_ZONE + (bucket & (SLOTS_PER_ZONE - 1));
    if (this.slotBuckets[slot] !== bucket) this.fill(slot, zoneId, bucket);
    const offsetMs = this.slotOffsetsMs[slot]!;
    if (Number.isNaN(offsetMs)) {
      const local = zonedParts(atMs, this.zones[zoneId]!);
      this.minuteOfDay = local.hour * 60 + local.minute;
      this.weekday = local.weekday;
      return;
    }
    const localMs = atMs + offsetMs;
    const day = Math.floor(localMs / MS_PER_DAY);
    this.minuteOfDay = Math.floor((localMs - day * MS_PER_DAY) / MS_PER_MINUTE);
    this.weekday = (((day % 7) + EPOCH_WEEKDAY_SHIFT) % 7) + 1;
  }

  private fill(slot: number, zoneId: number, bucket: number): void {
    const zone = this.zones[zoneId]!;
    const startMs = bucket * BUCKET_MS;
    const startOffsetMs = offsetMsAt(startMs, zone);
    // offsetMsAt reads whole seconds and transitions fall on whole seconds, so the bucket's last
    // whole second stands for its end.
    const endOffsetMs = offsetMsAt(startMs + BUCKET_MS - 1, zone);
    this.slotBuckets[slot] = bucket;
    this.slotOffsetsMs[slot] = startOffsetMs === endOffsetMs ? startOffsetMs : Number.NaN;
    this.bucketReads += 1;
  }
}
