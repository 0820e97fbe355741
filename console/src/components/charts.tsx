/**
 * Small hand-written SVG charts. The geometry comes from data/chart-scale.ts (pure, tested);
 * these only draw it. Each chart has a title and a description for screen readers, and the
 * pages show the same figures in a table beside it.
 */
import {
  type Bar,
  layoutBars,
  layoutLine,
  layoutPairedBars,
  type PlotArea,
} from "../data/chart-scale.ts";

const LINE_AREA: PlotArea = { width: 560, height: 180, left: 56, right: 12, top: 12, bottom: 24 };

export function LineChart(props: {
  title: string;
  points: readonly { x: number; y: number }[];
  formatY: (value: number) => string;
  formatX: (value: number) => string;
  testId?: string;
}) {
  const layout = layoutLine(props.points, LINE_AREA);
  const area = LINE_AREA;
  const last = props.points[props.points.length - 1];
  const description =
    last === undefined
      ? "No data yet."
      : `${props.points.length} points; the latest ${props.formatY(last.y)} at ${props.formatX(last.x)}.`;
  return (
    <figure class="chart" data-testid={props.testId}>
      <svg
        viewBox={`0 0 ${area.width} ${area.height}`}
        role="img"
        aria-label={`${props.title}. ${description}`}
      >
        {layout.yTicks.map((tick) => (
          <g key={tick.value}>
            <line
              class="grid"
              x1={area.left}
              x2={area.width - area.right}
              y1={tick.y}
              y2={tick.y}
            />
            <text class="tick" x={area.left - 6} y={tick.y + 4} text-anchor="end">
              {props.formatY(tick.value)}
            </text>
          </g>
        ))}
        {props.points.length > 0 ? (
          <>
            <text class="tick" x={area.left} y={area.height - 6}>
              {props.formatX(layout.xDomain.min)}
            </text>
            <text class="tick" x={area.width - area.right} y={area.height - 6} text-anchor="end">
              {props.formatX(layout.xDomain.max)}
            </text>
          </>
        ) : null}
        {props.points.length > 1 ? <path class="line" d={layout.path} /> : null}
        {props.points.length === 1 && layout.points[0] !== undefined ? (
          <circle class="dot" cx={layout.points[0].x} cy={layout.points[0].y} r={3} />
        ) : null}
      </svg>
      <figcaption>{props.title}</figcaption>
    </figure>
  );
}

const BAR_ROW_PX = 24;
const BAR_LABEL_PX = 200;
const BAR_VALUE_PX = 110;
const BAR_WIDTH_PX = 560;

export function BarChart(props: {
  title: string;
  bars: readonly { label: string; value: number }[];
  formatValue: (value: number) => string;
  testId?: string;
}) {
  const length = BAR_WIDTH_PX - BAR_LABEL_PX - BAR_VALUE_PX;
  const bars: Bar[] = layoutBars(props.bars, length, BAR_ROW_PX);
  const height = Math.max(bars.length * BAR_ROW_PX, BAR_ROW_PX);
  return (
    <figure class="chart" data-testid={props.testId}>
      <svg
        viewBox={`0 0 ${BAR_WIDTH_PX} ${height}`}
        role="img"
        aria-label={`${props.title}: ${props.bars.map((bar) => `${bar.label} ${props.formatValue(bar.value)}`).join("; ") || "no data"}`}
      >
        {bars.map((bar) => (
          <g key={bar.label}>
            <text
              class="bar-label"
              x={BAR_LABEL_PX - 8}
              y={bar.offset + bar.thickness / 2 + 4}
              text-anchor="end"
            >
              {bar.label.length > 28 ? `${bar.label.slice(0, 27)}…` : bar.label}
            </text>
            <rect
              class="bar"
              x={BAR_LABEL_PX}
              y={bar.offset}
              width={Math.max(bar.length, 1)}
              height={bar.thickness}
            />
            <text
              class="bar-value"
              x={BAR_LABEL_PX + bar.length + 6}
              y={bar.offset + bar.thickness / 2 + 4}
            >
              {props.formatValue(bar.value)}
            </text>
          </g>
        ))}
      </svg>
      <figcaption>{props.title}</figcaption>
    </figure>
  );
}

const PAIR_ROW_PX = 34;

/** Current against proposed per label: grey above, blue below, one scale, a legend. */
export function PairedBarChart(props: {
  title: string;
  rows: readonly { label: string; current: number; proposed: number }[];
  formatValue: (value: number) => string;
  testId?: string;
}) {
  const length = BAR_WIDTH_PX - BAR_LABEL_PX - BAR_VALUE_PX;
  const bars = layoutPairedBars(props.rows, length, PAIR_ROW_PX);
  const legendPx = 20;
  const height = Math.max(bars.length * PAIR_ROW_PX, PAIR_ROW_PX) + legendPx;
  const described = props.rows
    .map(
      (row) =>
        `${row.label}: ${props.formatValue(row.current)} now, ${props.formatValue(row.proposed)} proposed`,
    )
    .join("; ");
  return (
    <figure class="chart" data-testid={props.testId}>
      <svg
        viewBox={`0 0 ${BAR_WIDTH_PX} ${height}`}
        role="img"
        aria-label={`${props.title}: ${described || "no data"}`}
      >
        <rect class="bar-current" x={BAR_LABEL_PX} y={2} width={10} height={10} />
        <text class="tick" x={BAR_LABEL_PX + 14} y={11}>
          current
        </text>
        <rect class="bar" x={BAR_LABEL_PX + 80} y={2} width={10} height={10} />
        <text class="tick" x={BAR_LABEL_PX + 94} y={11}>
          proposed
        </text>
        {bars.map((bar) => {
          const top = bar.offset + legendPx;
          return (
            <g key={bar.label}>
              <text
                class="bar-label"
                x={BAR_LABEL_PX - 8}
                y={top + bar.thickness + 4}
                text-anchor="end"
              >
                {bar.label.length > 28 ? `${bar.label.slice(0, 27)}…` : bar.label}
              </text>
              <rect
                class="bar-current"
                x={BAR_LABEL_PX}
                y={top}
                width={Math.max(bar.currentLength, 1)}
                height={bar.thickness}
              />
              <text
                class="bar-value"
                x={BAR_LABEL_PX + bar.currentLength + 6}
                y={top + bar.thickness - 2}
              >
                {props.formatValue(bar.current)}
              </text>
              <rect
                class="bar"
                x={BAR_LABEL_PX}
                y={top + bar.thickness}
                width={Math.max(bar.proposedLength, 1)}
                height={bar.thickness}
              />
              <text
                class="bar-value"
                x={BAR_LABEL_PX + bar.proposedLength + 6}
                y={top + bar.thickness * 2 - 2}
              >
                {props.formatValue(bar.proposed)}
              </text>
            </g>
          );
        })}
      </svg>
      <figcaption>{props.title}</figcaption>
    </figure>
  );
}
