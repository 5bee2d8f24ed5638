import { useEffect, useRef } from "react";
import uPlot, { type AlignedData, type Options } from "uplot";
import { cssVar } from "../lib/css";
import { formatDateTime, formatNumber } from "../lib/format";

/**
 * A time series chart on uPlot (a year of points draws in milliseconds): one line per sensor,
 * the plant's range in force as a band behind them, waterings as marks on the time axis, and
 * drag-to-zoom: the selected span is handed to `onZoom`, and the page asks the server again for
 * that span at a finer resolution (uPlot itself only ever shows the points it was given).
 */

export interface ChartLine {
  label: string;
  t: number[];
  v: number[];
}

export interface TimeChartProps {
  lines: ChartLine[];
  unit: string;
  /** The plant's range in force for this metric. */
  band: { min: number | null; max: number | null } | null;
  /** Epoch ms of waterings in view. */
  waterings: number[];
  from: number;
  to: number;
  timezone: string;
  onZoom?: (from: number, to: number) => void;
  height?: number;
}

const COLORS = ["#2f7d3b", "#1f6fb2", "#b25d1f", "#7a3fb2", "#b21f5a"];
const BAND_FILL = "rgba(76, 175, 80, 0.13)";
const BAND_EDGE = "rgba(56, 142, 60, 0.55)";
const WATER = "#1e88e5";

function alignedData(lines: ChartLine[]): AlignedData {
  if (lines.length === 0) return [[]];
  if (lines.length === 1) return [lines[0]!.t, lines[0]!.v];
  // Each sensor's points come at their own times (chosen per sensor): uPlot wants one x axis.
  return uPlot.join(lines.map((l) => [l.t, l.v] as AlignedData));
}

export function TimeChart(props: TimeChartProps) {
  const container = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  // The hooks below read the latest props through this ref: the chart is made once per line set.
  const latest = useRef(props);
  latest.current = props;

  const lineKey = props.lines.map((l) => l.label).join("|");
  useEffect(() => {
    const element = container.current!;
    const p = latest.current;
    const muted = cssVar("--muted", "#6b7280");
    const options: Options = {
      width: Math.max(element.clientWidth, 200),
      height: p.height ?? 220,
      ms: 1,
      tzDate: (ts) => uPlot.tzDate(new Date(ts), latest.current.timezone),
      scales: {
        x: { time: true, range: (_u, min, max) => [Math.min(latest.current.from, min ?? Infinity), Math.max(latest.current.to, max ?? -Infinity)] },
        y: {
          range: (_u, min, max) => {
            const band = latest.current.band;
            const values = [min, max, band?.min, band?.max].filter((x): x is number => typeof x === "number" && Number.isFinite(x));
            if (values.length === 0) return [0, 1];
            const lo = Math.min(...values);
            const hi = Math.max(...values);
            const pad = Math.max((hi - lo) * 0.08, Math.abs(hi) * 0.02, 0.5);
            return [lo - pad, hi + pad];
          },
        },
      },
      series: [
        { value: (_u, v) => (v === null ? "–" : formatDateTime(v, latest.current.timezone)) },
        ...p.lines.map((line, i) => ({
          label: line.label,
          stroke: COLORS[i % COLORS.length],
          width: 1.6,
          spanGaps: true,
          points: { show: false },
          value: (_u: uPlot, v: number | null) => (v === null ? "–" : `${formatNumber(v)} ${latest.current.unit}`),
        })),
      ],
      axes: [
        { stroke: muted, grid: { stroke: "rgba(128,128,128,0.15)" }, ticks: { stroke: "rgba(128,128,128,0.3)" } },
        {
          stroke: muted,
          size: 52,
          grid: { stroke: "rgba(128,128,128,0.15)" },
          ticks: { stroke: "rgba(128,128,128,0.3)" },
          values: (_u, ticks) => ticks.map((t) => formatNumber(t)),
        },
      ],
      cursor: { drag: { x: true, y: false, setScale: false } },
      legend: { live: true },
      hooks: {
        drawClear: [
          (u) => {
            const band = latest.current.band;
            if (!band || (band.min === null && band.max === null)) return;
            const { ctx, bbox } = u;
            const top = band.max === null ? bbox.top : u.valToPos(band.max, "y", true);
            const bottom = band.min === null ? bbox.top + bbox.height : u.valToPos(band.min, "y", true);
            ctx.save();
            ctx.fillStyle = BAND_FILL;
            ctx.fillRect(bbox.left, Math.max(bbox.top, top), bbox.width, Math.min(bbox.top + bbox.height, bottom) - Math.max(bbox.top, top));
            ctx.strokeStyle = BAND_EDGE;
            ctx.setLineDash([5 * devicePixelRatio, 4 * devicePixelRatio]);
            ctx.lineWidth = devicePixelRatio;
            for (const [value, y] of [[band.max, top], [band.min, bottom]] as const) {
              if (value === null || y < bbox.top || y > bbox.top + bbox.height) continue;
              ctx.beginPath();
              ctx.moveTo(bbox.left, y);
              ctx.lineTo(bbox.left + bbox.width, y);
              ctx.stroke();
            }
            ctx.restore();
          },
        ],
        draw: [
          (u) => {
            const { ctx, bbox } = u;
            const min = u.scales.x!.min ?? 0;
            const max = u.scales.x!.max ?? 0;
            ctx.save();
            ctx.strokeStyle = WATER;
            ctx.fillStyle = WATER;
            ctx.lineWidth = 1.5 * devicePixelRatio;
            for (const at of latest.current.waterings) {
              if (at < min || at > max) continue;
              const x = u.valToPos(at, "x", true);
              ctx.globalAlpha = 0.35;
              ctx.beginPath();
              ctx.moveTo(x, bbox.top);
              ctx.lineTo(x, bbox.top + bbox.height);
              ctx.stroke();
              // A drop on the time axis.
              ctx.globalAlpha = 1;
              const r = 4 * devicePixelRatio;
              const y = bbox.top + bbox.height - r;
              ctx.beginPath();
              ctx.moveTo(x, y - 1.8 * r);
              ctx.quadraticCurveTo(x + r * 1.2, y, x, y + r);
              ctx.quadraticCurveTo(x - r * 1.2, y, x, y - 1.8 * r);
              ctx.fill();
            }
            ctx.restore();
          },
        ],
        setSelect: [
          (u) => {
            const onZoom = latest.current.onZoom;
            if (!onZoom || u.select.width < 5) return;
            const from = u.posToVal(u.select.left, "x");
            const to = u.posToVal(u.select.left + u.select.width, "x");
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            if (to - from >= 60_000) onZoom(Math.round(from), Math.round(to));
          },
        ],
      },
    };
    const instance = new uPlot(options, alignedData(p.lines), element);
    chart.current = instance;
    const resize = new ResizeObserver(() => instance.setSize({ width: Math.max(element.clientWidth, 200), height: latest.current.height ?? 220 }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      instance.destroy();
      chart.current = null;
    };
  }, [lineKey]);

  // New points (another range, a zoom, a live reading) go into the same chart.
  useEffect(() => {
    const instance = chart.current;
    if (!instance) return;
    instance.setData(alignedData(props.lines), true);
  }, [props.lines, props.from, props.to, props.band, props.waterings]);

  const points = props.lines.reduce((n, l) => n + l.t.length, 0);
  return <div ref={container} className="chart" data-testid="chart" data-points={points} data-from={props.from} data-to={props.to} />;
}
