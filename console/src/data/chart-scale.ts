/**
 * The arithmetic of the console's charts, apart from drawing: linear scales, round tick values,
 * an SVG path through points, bars. Pure, so the charts' shapes are tested without a browser.
 */

export interface Extent {
  readonly min: number;
  readonly max: number;
}

/** The smallest and largest value; [0, 1] for none, and a flat series gets room around it. */
export function extentOf(values: readonly number[], includeZero = true): Extent {
  let min = includeZero ? 0 : Number.POSITIVE_INFINITY;
  let max = includeZero ? 0 : Number.NEGATIVE_INFINITY;
  for (const value of values) {
    if (!Number.isFinite(value)) continue;
    if (value < min) min = value;
    if (value > max) max = value;
  }
  if (min === Number.POSITIVE_INFINITY) return { min: 0, max: 1 };
  // A flat series (one point, one value) gets a unit either side: a share of the value would
  // stretch a single timestamp over hours.
  if (min === max) return min === 0 ? { min: 0, max: 1 } : { min: min - 1, max: max + 1 };
  return { min, max };
}

/** A step of 1, 2 or 5 times a power of ten giving about `count` ticks over the extent. */
export function niceStep(span: number, count: number): number {
  if (!(span > 0) || count < 1) return 1;
  const raw = span / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / power;
  // Rounded to the nearest of 1, 2, 5, 10 (geometrically), so the count stays near the ask.
  const nice = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10;
  return nice * power;
}

/** Tick values covering the extent on round numbers, at most `count + 2` of them. */
export function ticksFor(
  extent: Extent,
  count = 4,
): { readonly ticks: number[]; readonly extent: Extent } {
  const step = niceStep(extent.max - extent.min, count);
  const min = Math.floor(extent.min / step) * step;
  const max = Math.ceil(extent.max / step) * step;
  const ticks: number[] = [];
  for (let value = min; value <= max + step / 2 && ticks.length < count + 3; value += step) {
    // Rounded so that 0.1 + 0.2 shows as 0.3.
    ticks.push(Number(value.toPrecision(12)));
  }
  return { ticks, extent: { min, max } };
}

/** Maps [domain.min, domain.max] onto [rangeFrom, rangeTo]; a point domain maps to its middle. */
export function linearScale(
  domain: Extent,
  rangeFrom: number,
  rangeTo: number,
): (value: number) => number {
  const span = domain.max - domain.min;
  if (span === 0) return () => (rangeFrom + rangeTo) / 2;
  return (value) => rangeFrom + ((value - domain.min) / span) * (rangeTo - rangeFrom);
}

export interface Point {
  readonly x: number;
  readonly y: number;
}

/** An SVG path (`M x y L x y …`) through the points, rounded to tenths of a pixel. */
export function linePath(points: readonly Point[]): string {
  return points
    .map((point, index) => `${index === 0 ? "M" : "L"}${round(point.x)} ${round(point.y)}`)
    .join(" ");
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

export interface LineLayout {
  readonly path: string;
  readonly points: readonly Point[];
  readonly yTicks: readonly { readonly value: number; readonly y: number }[];
  readonly xDomain: Extent;
}

export interface PlotArea {
  readonly width: number;
  readonly height: number;
  readonly left: number;
  readonly right: number;
  readonly top: number;
  readonly bottom: number;
}

/** A line chart's geometry: points scaled into the plot area, y ticks on round values. */
export function layoutLine(
  data: readonly { readonly x: number; readonly y: number }[],
  area: PlotArea,
  tickCount = 4,
): LineLayout {
  const xDomain = extentOf(
    data.map((point) => point.x),
    false,
  );
  const { ticks, extent } = ticksFor(extentOf(data.map((point) => point.y)), tickCount);
  const x = linearScale(xDomain, area.left, area.width - area.right);
  const y = linearScale(extent, area.height - area.bottom, area.top);
  const points = data.map((point) => ({ x: x(point.x), y: y(point.y) }));
  return {
    path: linePath(points),
    points,
    yTicks: ticks.map((value) => ({ value, y: y(value) })),
    xDomain,
  };
}

export interface Bar {
  readonly label: string;
  readonly value: number;
  /** Length in pixels along the value axis. */
  readonly length: number;
  /** Offset in pixels along the category axis. */
  readonly offset: number;
  readonly thickness: number;
}

/** Horizontal bars for labelled values, the largest filling `length`; negatives count as 0. */
export function layoutBars(
  data: readonly { readonly label: string; readonly value: number }[],
  length: number,
  rowHeight: number,
  gap = 4,
): Bar[] {
  const max = data.reduce((largest, item) => Math.max(largest, item.value), 0);
  return data.map((item, index) => ({
    label: item.label,
    value: item.value,
    length: max > 0 ? (Math.max(item.value, 0) / max) * length : 0,
    offset: index * rowHeight,
    thickness: Math.max(rowHeight - gap, 1),
  }));
}

export interface PairedBar {
  readonly label: string;
  readonly current: number;
  readonly proposed: number;
  /** Lengths in pixels, on one scale for both. */
  readonly currentLength: number;
  readonly proposedLength: number;
  readonly offset: number;
  /** Each bar's thickness: the two share a row. */
  readonly thickness: number;
}

/**
 * Two bars per label (current above proposed) on one scale, the largest of either filling
 * `length`: how much a change moves each row is read off the pair.
 */
export function layoutPairedBars(
  data: readonly { readonly label: string; readonly current: number; readonly proposed: number }[],
  length: number,
  rowHeight: number,
  gap = 6,
): PairedBar[] {
  const max = data.reduce((largest, item) => Math.max(largest, item.current, item.proposed), 0);
  const scale = (value: number) => (max > 0 ? (Math.max(value, 0) / max) * length : 0);
  const thickness = Math.max((rowHeight - gap) / 2, 1);
  return data.map((item, index) => ({
    label: item.label,
    current: item.current,
    proposed: item.proposed,
    currentLength: scale(item.current),
    proposedLength: scale(item.proposed),
    offset: index * rowHeight,
    thickness,
  }));
}
