import { keepPreviousData, useInfiniteQuery } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { Badge, Empty, FormError, Loading, QueryError } from "../components/ui";
import { api, useApiMutation, type Outputs } from "../lib/api";
import { formatDateTime, relativeTime } from "../lib/format";
import { Link, setSearchParam, useLocation } from "../lib/router";
import { sitePath, useSite } from "../lib/site";
import { usePlantsList } from "../lib/queries";

type Alert = Outputs["alerts"]["list"]["items"][number];
type Status = Alert["status"];
type Severity = Alert["severity"];

const STATUSES: Status[] = ["active", "acknowledged", "resolved"];
const SEVERITIES: Severity[] = ["critical", "warning", "info"];
const SEVERITY_TONE = { critical: "bad", warning: "warn", info: "info" } as const;

/** The inbox: filter by status and severity, acknowledge and resolve one alert or a selection. */
export function AlertsPage() {
  const site = useSite();
  const { search } = useLocation();
  const status = (STATUSES.find((s) => s === search.get("status")) ?? (search.get("status") === "all" ? undefined : "active")) as Status | undefined;
  const severity = SEVERITIES.find((s) => s === search.get("severity"));
  const plants = usePlantsList(site.id);
  const plantName = useMemo(() => new Map(plants.data?.map((p) => [p.id, p.name])), [plants.data]);
  const alerts = useInfiniteQuery({
    queryKey: ["alerts", "list", site.id, status ?? "all", severity ?? "all"],
    queryFn: ({ pageParam }) => api.alerts.list.query({ siteId: site.id, status, severity, limit: 50, cursor: pageParam }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page) => page.nextCursor ?? undefined,
    placeholderData: keepPreviousData,
  });
  const items = alerts.data?.pages.flatMap((p) => p.items) ?? [];
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const chosen = items.filter((a) => selected.has(a.id));
  const done = () => setSelected(new Set());
  const acknowledge = useApiMutation((alertIds: string[]) => api.alerts.acknowledgeMany.mutate({ siteId: site.id, alertIds }), { invalidate: [["alerts"]], onSuccess: done });
  const resolve = useApiMutation((alertIds: string[]) => api.alerts.resolveMany.mutate({ siteId: site.id, alertIds }), { invalidate: [["alerts"]], onSuccess: done });
  const toggle = (id: string) => {
    const next = new Set(selected);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setSelected(next);
  };
  const allSelected = items.length > 0 && items.every((a) => selected.has(a.id));

  return (
    <>
      <div className="page-head">
        <h1>Alerts</h1>
      </div>
      <div className="filters" role="group" aria-label="Filters">
        <div className="segmented" role="group" aria-label="Status">
          {[...STATUSES, "all" as const].map((s) => (
            <button
              key={s}
              type="button"
              className={(status ?? "all") === s ? "active" : undefined}
              aria-pressed={(status ?? "all") === s}
              onClick={() => (done(), setSearchParam("status", s === "active" ? null : s))}
            >
              {s}
            </button>
          ))}
        </div>
        <label>
          <span className="sr-only">Severity</span>
          <select aria-label="Severity" value={severity ?? ""} onChange={(e) => (done(), setSearchParam("severity", e.target.value || null))}>
            <option value="">any severity</option>
            {SEVERITIES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
      </div>
      {site.canEdit && items.length > 0 ? (
        <div className="bulk" aria-label="Selection">
          <label className="check">
            <input type="checkbox" checked={allSelected} onChange={() => setSelected(allSelected ? new Set() : new Set(items.slice(0, 100).map((a) => a.id)))} aria-label="Select all" />
            {chosen.length > 0 ? `${chosen.length} selected` : "Select all"}
          </label>
          <button type="button" className="small" disabled={chosen.length === 0 || acknowledge.isPending} onClick={() => acknowledge.mutate(chosen.map((a) => a.id))}>
            Acknowledge selected
          </button>
          <button type="button" className="small" disabled={chosen.length === 0 || resolve.isPending} onClick={() => resolve.mutate(chosen.map((a) => a.id))}>
            Resolve selected
          </button>
          <FormError error={acknowledge.error ?? resolve.error} />
        </div>
      ) : null}
      {alerts.isPending ? <Loading /> : null}
      {alerts.error ? <QueryError error={alerts.error} /> : null}
      {alerts.data && items.length === 0 ? <Empty>{status === "active" ? "Nothing needs you right now." : "No alerts match."}</Empty> : null}
      <ul className="alerts" data-testid="alerts">
        {items.map((alert) => (
          <AlertRow key={alert.id} alert={alert} plantName={alert.plantId ? plantName.get(alert.plantId) : undefined} selected={selected.has(alert.id)} onToggle={() => toggle(alert.id)} />
        ))}
      </ul>
      {alerts.hasNextPage ? (
        <button type="button" onClick={() => alerts.fetchNextPage()} disabled={alerts.isFetchingNextPage}>
          Load more
        </button>
      ) : null}
    </>
  );
}

function AlertRow({ alert, plantName, selected, onToggle }: { alert: Alert; plantName: string | undefined; selected: boolean; onToggle: () => void }) {
  const site = useSite();
  const acknowledge = useApiMutation(() => api.alerts.acknowledge.mutate({ siteId: site.id, alertId: alert.id }), { invalidate: [["alerts"]] });
  const resolve = useApiMutation(() => api.alerts.resolve.mutate({ siteId: site.id, alertId: alert.id }), { invalidate: [["alerts"]] });
  return (
    <li className={`alert alert-${alert.status}`} data-testid="alert" data-status={alert.status} data-severity={alert.severity}>
      {site.canEdit ? <input type="checkbox" checked={selected} onChange={onToggle} aria-label={`Select ${alert.title}`} /> : null}
      <div className="alert-body">
        <div>
          <Badge tone={SEVERITY_TONE[alert.severity]}>{alert.severity}</Badge> <strong>{alert.title}</strong>
          {alert.occurrences > 1 ? <small className="muted"> ×{alert.occurrences}</small> : null}
        </div>
        {alert.message ? <p>{alert.message}</p> : null}
        <small className="muted">
          {plantName && alert.plantId ? (
            <>
              <Link to={sitePath(site.id, `plants/${alert.plantId}`)}>{plantName}</Link> ·{" "}
            </>
          ) : null}
          first {relativeTime(alert.firstSeenAt)} ({formatDateTime(alert.firstSeenAt, site.timezone)}), last {relativeTime(alert.lastSeenAt)} · {alert.status}
          {alert.acknowledgedAt ? ` ${relativeTime(alert.acknowledgedAt)}` : ""}
        </small>
        <FormError error={acknowledge.error ?? resolve.error} />
      </div>
      {site.canEdit && alert.status !== "resolved" ? (
        <div className="row-actions">
          {alert.status === "active" ? (
            <button type="button" className="small" onClick={() => acknowledge.mutate()} disabled={acknowledge.isPending}>
              Acknowledge
            </button>
          ) : null}
          <button type="button" className="small" onClick={() => resolve.mutate()} disabled={resolve.isPending}>
            Resolve
          </button>
        </div>
      ) : null}
    </li>
  );
}
