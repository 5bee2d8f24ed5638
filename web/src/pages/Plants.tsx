import { useQuery } from "@tanstack/react-query";
import { useEffect, useState, type FormEvent } from "react";
import { RangeBar } from "../components/RangeBar";
import { Badge, Dialog, Empty, Field, FormError, Loading, QueryError, fieldError } from "../components/ui";
import { api, useApiMutation, type Outputs } from "../lib/api";
import { formatValue, relativeTime } from "../lib/format";
import { Link, navigate } from "../lib/router";
import { sitePath, useSite } from "../lib/site";
import { usePlantsList } from "../lib/queries";
import { shownMetrics, usePlantStatuses, type PlantStatus } from "../status/plant-status";

type PlantRow = Outputs["plants"]["list"]["items"][number];

const STATE_BADGE: Record<PlantStatus["state"], { tone: "ok" | "warn" | "bad" | "muted"; label: string }> = {
  ok: { tone: "ok", label: "OK" },
  attention: { tone: "warn", label: "Needs attention" },
  offline: { tone: "bad", label: "Offline" },
  no_data: { tone: "muted", label: "No data yet" },
};

export function PlantsPage() {
  const site = useSite();
  const plants = usePlantsList(site.id);
  const statuses = usePlantStatuses(site.id);
  const [adding, setAdding] = useState(false);
  const rows = new Map((plants.data ?? []).map((p) => [p.id, p]));
  return (
    <>
      <div className="page-head">
        <h1>Plants</h1>
        {site.canEdit ? (
          <button type="button" className="primary" onClick={() => setAdding(true)}>
            Add plant
          </button>
        ) : null}
      </div>
      {statuses.error ? <QueryError error={statuses.error} /> : null}
      {statuses.isPending ? <Loading /> : null}
      {statuses.data && statuses.data.items.length === 0 ? (
        <Empty>
          No plants in {site.name} yet.{site.canEdit ? " Add one from the species catalog: its care ranges come with it." : ""}
        </Empty>
      ) : null}
      <div className="grid">
        {statuses.data?.items.map((status) => <PlantCard key={status.plantId} status={status} plant={rows.get(status.plantId)} />)}
      </div>
      <Dialog open={adding} onClose={() => setAdding(false)} title="Add a plant">
        <AddPlantForm onDone={(plantId) => (setAdding(false), plantId && navigate(sitePath(site.id, `plants/${plantId}`)))} />
      </Dialog>
    </>
  );
}

function PlantCard({ status, plant }: { status: PlantStatus; plant: PlantRow | undefined }) {
  const site = useSite();
  const badge = STATE_BADGE[status.state];
  const now = Date.now();
  const metrics = shownMetrics(status);
  const nameOf = new Map(metrics.map((m) => [m.sensorId, m.name]));
  return (
    <article className={`card plant-card state-${status.state}`} data-testid="plant-card" data-plant-id={status.plantId} data-state={status.state}>
      <header>
        <h3>
          <Link to={sitePath(site.id, `plants/${status.plantId}`)}>{status.name}</Link>
        </h3>
        <Badge tone={badge.tone}>{badge.label}</Badge>
      </header>
      {plant ? (
        <p className="sub">
          {[plant.location, plant.speciesName].filter(Boolean).join(" · ") || "\u00a0"}
        </p>
      ) : null}
      {status.metrics.length === 0 ? <p className="muted small">No sensor assigned: assign one under Devices.</p> : null}
      <ul className="metrics">
        {metrics.map((m) => (
          <li key={m.sensorId} className={m.stale ? "stale" : undefined}>
            <span className="metric-name" title={`sensor ${m.label}`}>
              {m.name}
            </span>
            <RangeBar metric={m.metric} value={m.value} min={m.min.value} max={m.max.value} stale={m.stale} unit={m.unit} />
            <span className="metric-value" data-testid="metric-value" data-metric={m.metric} data-sensor-id={m.sensorId} title={m.at ? `measured ${m.at.toLocaleString()}` : "never reported"}>
              {formatValue(m.value, m.unit)}
            </span>
          </li>
        ))}
      </ul>
      {status.problems.length > 0 ? (
        <ul className="problems" data-testid="problems">
          {status.problems.map((p) => (
            <li key={p.sensorId}>{p.message}</li>
          ))}
        </ul>
      ) : null}
      {status.offline.length > 0 ? (
        <p className="offline-note">
          Offline: {status.offline.map((o) => `${nameOf.get(o.sensorId) ?? o.label} (last seen ${relativeTime(o.lastSeenAt, now)})`).join(", ")}
        </p>
      ) : null}
      {status.wateringPaused ? <p className="paused-note">Automatic watering paused: {status.wateringPaused.reason}</p> : null}
      <footer>
        <span title={status.lastWateredAt?.toLocaleString()}>Watered {relativeTime(status.lastWateredAt, now)}</span>
        {status.nextWateringDue ? (
          <span className={status.nextWateringDue.getTime() <= now ? "due" : undefined}>
            {status.nextWateringDue.getTime() <= now ? "due" : "next"} {relativeTime(status.nextWateringDue, now)}
          </span>
        ) : null}
        {status.battery ? (
          <span className={status.battery.percent <= 15 ? "due" : undefined} title="Lowest battery among this plant's devices">
            Battery {Math.round(status.battery.percent)} %
          </span>
        ) : null}
      </footer>
    </article>
  );
}

type Species = Outputs["species"]["search"]["items"][number];

function AddPlantForm({ onDone }: { onDone: (plantId?: string) => void }) {
  const site = useSite();
  const [name, setName] = useState("");
  const [query, setQuery] = useState("");
  const [debounced, setDebounced] = useState("");
  const [species, setSpecies] = useState<Species | null>(null);
  const [location, setLocation] = useState("");
  const [indoor, setIndoor] = useState(true);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(query), 200);
    return () => clearTimeout(timer);
  }, [query]);
  const results = useQuery({
    queryKey: ["species", "search", debounced],
    queryFn: () => api.species.search.query({ query: debounced, limit: 12 }),
    staleTime: 300_000,
  });
  const create = useApiMutation(
    () => api.plants.create.mutate({ siteId: site.id, name, speciesId: species?.id ?? null, location: location || null, indoor }),
    { invalidate: [["plants"], ["analytics"]], onSuccess: (plant) => onDone(plant.id) },
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate();
  };
  const pick = (s: Species) => {
    setSpecies(s);
    if (!name) setName(s.commonNames[0] ?? s.scientificName);
  };
  return (
    <form onSubmit={submit} className="stack" aria-label="Add a plant">
      <Field label="Species (from the catalog)" error={fieldError(create.error, "speciesId")} hint="Its care ranges and watering interval become the plant's defaults.">
        <input type="search" placeholder="Search: basil, monstera, Ficus…" value={query} onChange={(e) => setQuery(e.target.value)} aria-label="Search species" />
      </Field>
      <ul className="species-list" role="listbox" aria-label="Species">
        {results.data?.items.map((s) => (
          <li key={s.id}>
            <button type="button" role="option" aria-selected={species?.id === s.id} className={species?.id === s.id ? "selected" : undefined} onClick={() => pick(s)}>
              <strong>{s.commonNames[0] ?? s.scientificName}</strong> <em>{s.scientificName}</em>
              <small>
                soil {s.care.soilMoisture.min}–{s.care.soilMoisture.max} %, {s.care.temperature.min}–{s.care.temperature.max} °C, water every {s.care.wateringIntervalDays} d
                {s.toxicToPets ? " · toxic to pets" : ""}
              </small>
            </button>
          </li>
        ))}
        {results.data && results.data.items.length === 0 ? <li className="muted">No species match “{debounced}”.</li> : null}
      </ul>
      <Field label="Name" error={fieldError(create.error, "name")}>
        <input value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. Basil by the window" />
      </Field>
      <Field label="Where it stands" error={fieldError(create.error, "location")}>
        <input value={location} onChange={(e) => setLocation(e.target.value)} placeholder="e.g. Kitchen window" />
      </Field>
      <label className="check">
        <input type="checkbox" checked={indoor} onChange={(e) => setIndoor(e.target.checked)} /> Indoors
      </label>
      <FormError error={create.error} fields={["name", "speciesId", "location"]} />
      <div className="actions">
        <button type="button" onClick={() => onDone()}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={create.isPending}>
          {create.isPending ? "Adding…" : "Add plant"}
        </button>
      </div>
    </form>
  );
}
