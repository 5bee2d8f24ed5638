import { keepPreviousData, useQuery, useQueryClient, type QueryKey } from "@tanstack/react-query";
import { useCallback, useMemo, useRef, useState } from "react";
import type { Metric } from "../../../../shared/metrics";
import { TimeChart } from "../../charts/TimeChart";
import { Section } from "../../components/ui";
import { api, type Outputs } from "../../lib/api";
import { formatDateTime, metricLabel, metricRank } from "../../lib/format";
import { useLiveReadings, type LiveReading } from "../../lib/live";
import { setSearchParam, useLocation } from "../../lib/router";
import { useSite } from "../../lib/site";

type Plant = Outputs["plants"]["get"];
type Chart = Outputs["analytics"]["chart"];

const HOUR = 3_600_000;
export const PRESETS = [
  { key: "1h", label: "1 h", ms: HOUR },
  { key: "24h", label: "24 h", ms: 24 * HOUR },
  { key: "7d", label: "7 d", ms: 7 * 24 * HOUR },
  { key: "30d", label: "30 d", ms: 30 * 24 * HOUR },
  { key: "1y", label: "1 y", ms: 365 * 24 * HOUR },
] as const;

interface Range {
  from: number;
  to: number;
}

/** Points per sensor: about one per pixel of a wide chart (the server picks them by LTTB). */
const pointsFor = () => Math.max(200, Math.min(2_000, Math.round(window.innerWidth)));

/** Waterings from `from` on (newest first, page by page until older ones). */
async function wateringsSince(siteId: string, plantId: string, from: number): Promise<number[]> {
  const times: number[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 20; page++) {
    const result = await api.waterings.list.query({ siteId, plantId, limit: 100, cursor });
    for (const w of result.items) if (w.status !== "failed") times.push(w.startedAt.getTime());
    const oldest = result.items.at(-1)?.startedAt.getTime();
    if (!result.nextCursor || (oldest !== undefined && oldest < from)) break;
    cursor = result.nextCursor;
  }
  return times.filter((t) => t >= from);
}

export function PlantCharts({ plant }: { plant: Plant }) {
  const site = useSite();
  const { search } = useLocation();
  const preset = PRESETS.find((p) => p.key === search.get("range")) ?? PRESETS[1];
  // A preset's window ends "now" as of when it was chosen; live readings extend it from there.
  const [anchor, setAnchor] = useState(() => Date.now());
  const [zoom, setZoom] = useState<Range | null>(null);
  const range: Range = zoom ?? { from: anchor - preset.ms, to: anchor };
  const [points] = useState(pointsFor);

  const metrics = useMemo(() => [...new Set(plant.sensors.map((s) => s.metric))].sort((a, b) => metricRank(a) - metricRank(b)), [plant.sensors]);
  const waterings = useQuery({
    queryKey: ["waterings", "since", site.id, plant.id, range.from],
    queryFn: () => wateringsSince(site.id, plant.id, range.from),
    placeholderData: keepPreviousData,
  });

  const choose = (key: string) => {
    setZoom(null);
    setAnchor(Date.now());
    setSearchParam("range", key === "24h" ? null : key);
  };
  const onZoom = useCallback((from: number, to: number) => setZoom({ from, to }), []);

  return (
    <Section
      title="History"
      id="history"
      actions={
        <div className="segmented" role="group" aria-label="Time range">
          {PRESETS.map((p) => (
            <button key={p.key} type="button" className={!zoom && p.key === preset.key ? "active" : undefined} aria-pressed={!zoom && p.key === preset.key} onClick={() => choose(p.key)}>
              {p.label}
            </button>
          ))}
          {zoom ? (
            <button type="button" className="active" onClick={() => setZoom(null)} title="Back to the whole range">
              Reset zoom
            </button>
          ) : null}
        </div>
      }
    >
      <p className="hint">
        {formatDateTime(range.from, site.timezone, true)} – {formatDateTime(range.to, site.timezone, true)}. Drag across a chart to zoom in; the
        shaded band is the plant's range in force, drops mark waterings.
      </p>
      {metrics.length === 0 ? <p className="muted">No sensors assigned to this plant.</p> : null}
      {metrics.map((metric) => (
        <MetricChart key={metric} plant={plant} metric={metric} range={range} live={!zoom} points={points} waterings={waterings.data ?? []} onZoom={onZoom} />
      ))}
    </Section>
  );
}

function MetricChart(props: { plant: Plant; metric: string; range: Range; live: boolean; points: number; waterings: number[]; onZoom: (from: number, to: number) => void }) {
  const { plant, metric, range } = props;
  const site = useSite();
  const queryClient = useQueryClient();
  const key: QueryKey = ["analytics", "chart", site.id, plant.id, metric, range.from, range.to, props.points];
  const chart = useQuery({
    queryKey: key,
    queryFn: () => api.analytics.chart.query({ siteId: site.id, plantId: plant.id, metric: metric as Metric, from: new Date(range.from), to: new Date(range.to), points: props.points }),
    placeholderData: keepPreviousData,
    staleTime: 60_000,
  });

  // Live readings of this chart's sensors extend an unzoomed chart as they arrive.
  const live = props.live;
  const keyRef = useRef(key);
  keyRef.current = key;
  const onReadings = useCallback(
    (readings: LiveReading[]) => {
      if (!live) return;
      const mine = readings.filter((r) => r.metric === metric);
      if (mine.length === 0) return;
      queryClient.setQueryData<Chart>(keyRef.current, (current) => {
        if (!current) return current;
        let changed = false;
        const series = current.series.map((s) => {
          const add = mine.filter((r) => r.sensorId === s.sensorId && r.ts > (s.points.t.at(-1) ?? -Infinity));
          if (add.length === 0) return s;
          changed = true;
          return { ...s, points: { t: [...s.points.t, ...add.map((r) => r.ts)], v: [...s.points.v, ...add.map((r) => r.value)] } };
        });
        return changed ? { ...current, series } : current;
      });
    },
    [live, metric, queryClient],
  );
  useLiveReadings(onReadings);

  const thresholds = plant.thresholds[metric as keyof Plant["thresholds"]];
  const band = useMemo(() => (thresholds ? { min: thresholds.min.value, max: thresholds.max.value } : null), [thresholds]);
  const lines = useMemo(
    () => (chart.data?.series ?? []).map((s) => ({ label: s.name ?? (chart.data!.series.length > 1 ? s.key : metricLabel(metric)), t: s.points.t, v: s.points.v })),
    [chart.data, metric],
  );
  const unit = chart.data?.series[0]?.unit ?? plant.sensors.find((s) => s.metric === metric)?.unit ?? "";
  const count = lines.reduce((n, l) => n + l.t.length, 0);
  return (
    <div className="chart-block" data-testid="metric-chart" data-metric={metric}>
      <h3>
        {metricLabel(metric)} <small>{unit}</small>
      </h3>
      {chart.error ? <p className="form-error">{String((chart.error as Error).message)}</p> : null}
      <TimeChart lines={lines} unit={unit} band={band} waterings={props.waterings} from={range.from} to={range.to} timezone={site.timezone} onZoom={props.onZoom} />
      <p className="resolution" data-testid="chart-resolution">
        {chart.data ? (chart.data.source === "raw" ? "readings" : "hourly min/max (older than the raw retention)") : ""} · {count} points
        {chart.isFetching ? " · loading…" : ""}
        {count === 0 && !chart.isFetching ? " · no readings in this range" : ""}
      </p>
    </div>
  );
}
