import { Badge, Loading, QueryError } from "../components/ui";
import { formatDateTime, formatValue, relativeTime } from "../lib/format";
import { Link } from "../lib/router";
import { sitePath, useSite } from "../lib/site";
import { shownMetrics, usePlantStatus, type PlantStatus } from "../status/plant-status";
import { PlantCharts } from "./plant/Charts";
import { CareFigures } from "./plant/CareFigures";
import { PumpPanel } from "./plant/Pump";
import { SafetyPanel } from "./plant/Safety";
import { PlantSettings } from "./plant/Settings";
import { TasksPanel } from "./plant/Tasks";
import { ThresholdsEditor } from "./plant/Thresholds";
import { WateringPanel } from "./plant/Watering";

const SOURCE_LABEL = { plant: "this plant", species: "species", none: "no range" } as const;

export function PlantPage({ plantId }: { plantId: string }) {
  const site = useSite();
  const { data: status, detail, error } = usePlantStatus(site.id, plantId);
  if (error) return <QueryError error={error} />;
  // The charts need only the plant: they start loading while the latest values still come.
  if (!detail) return <Loading />;
  return (
    <div className="plant-page" data-testid="plant-page">
      <p className="crumbs">
        <Link to={sitePath(site.id)}>Plants</Link> ›
      </p>
      <div className="page-head">
        <div>
          <h1>{detail.name}</h1>
          <p className="sub">
            {[detail.species ? `${detail.species.commonNames[0] ?? ""} (${detail.species.scientificName})` : "no species", detail.location, detail.indoor ? "indoors" : "outdoors"]
              .filter(Boolean)
              .join(" · ")}
            {detail.species?.toxicToPets ? <Badge tone="warn">toxic to pets</Badge> : null}
            {detail.archivedAt ? <Badge tone="muted">archived</Badge> : null}
          </p>
        </div>
        {status ? (
          <Badge tone={status.state === "ok" ? "ok" : status.state === "attention" ? "warn" : status.state === "offline" ? "bad" : "muted"}>
            {status.state === "ok" ? "OK" : status.state === "attention" ? "Needs attention" : status.state === "offline" ? "Offline" : "No data yet"}
          </Badge>
        ) : null}
      </div>

      {!status ? <Loading label="Loading the latest values…" /> : null}
      {status && (status.problems.length > 0 || status.offline.length > 0 || status.wateringPaused) ? (
        <ul className="problems wide" data-testid="problems">
          {status.problems.map((p) => (
            <li key={p.sensorId}>
              {p.message} <small>(range from {SOURCE_LABEL[p.source]})</small>
            </li>
          ))}
          {status.offline.map((o) => (
            <li key={o.sensorId}>
              {shownMetrics(status).find((m) => m.sensorId === o.sensorId)?.name ?? o.label} is silent: last reading {relativeTime(o.lastSeenAt)}
            </li>
          ))}
          {status.wateringPaused ? <li>Automatic watering paused since {formatDateTime(status.wateringPaused.since, site.timezone)}: {status.wateringPaused.reason}</li> : null}
        </ul>
      ) : null}

      {status ? <Tiles status={status} /> : null}

      <PlantCharts plant={detail} />
      <div className="columns">
        <CareFigures plant={detail} />
        <WateringPanel plant={detail} />
      </div>
      <div className="columns">
        <PumpPanel plant={detail} />
        <TasksPanel plant={detail} />
      </div>
      <ThresholdsEditor plant={detail} />
      <div className="columns">
        <SafetyPanel plant={detail} />
        <PlantSettings plant={detail} />
      </div>
    </div>
  );
}

/** The latest value of each metric against its range in force, and the lowest battery. */
function Tiles({ status }: { status: PlantStatus }) {
  return (
    <div className="tiles">
      {shownMetrics(status).map((m) => (
        <div key={m.sensorId} className={`tile ${m.stale ? "stale" : ""}`}>
          <span className="tile-label" title={`sensor ${m.label}`}>
            {m.name}
          </span>
          <strong data-testid="tile-value" data-metric={m.metric}>
            {formatValue(m.value, m.unit)}
          </strong>
          <small>
            {m.min.value !== null || m.max.value !== null ? `range ${m.min.value ?? "…"}–${m.max.value ?? "…"} ${m.unit} · ` : ""}
            {m.at ? relativeTime(m.at) : "never reported"}
          </small>
        </div>
      ))}
      {status.battery ? (
        <div className="tile">
          <span className="tile-label">Battery</span>
          <strong>{Math.round(status.battery.percent)} %</strong>
          <small>lowest of the plant's devices</small>
        </div>
      ) : null}
      {status.metrics.length === 0 ? <p className="muted">No sensor measures this plant yet: assign one under Devices.</p> : null}
    </div>
  );
}
