import { useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Badge, Empty, Field, FormError, Section, fieldError } from "../../components/ui";
import { api, useApiMutation, type Outputs } from "../../lib/api";
import { formatDateTime, formatNumber, numberField, relativeTime } from "../../lib/format";
import { useSite } from "../../lib/site";

type Plant = Outputs["plants"]["get"];

const STATUS_TONE = { pending: "info", in_progress: "info", completed: "ok", failed: "bad" } as const;

/** Last watered, next due, the ledger, and "mark watered" for waterings done by hand. */
export function WateringPanel({ plant }: { plant: Plant }) {
  const site = useSite();
  const log = useQuery({
    queryKey: ["waterings", "list", site.id, plant.id],
    queryFn: () => api.waterings.list.query({ siteId: site.id, plantId: plant.id, limit: 15 }),
  });
  const summary = plant.watering;
  const [volume, setVolume] = useState("");
  const record = useApiMutation(
    (volumeMl: number | undefined) => api.waterings.record.mutate({ siteId: site.id, plantId: plant.id, volumeMl: volumeMl ?? null }),
    { invalidate: [["waterings"], ["plants"], ["analytics", "plantMetrics"]], onSuccess: () => setVolume("") },
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    record.mutate(numberField(volume));
  };
  const now = Date.now();
  return (
    <Section title="Watering" id="watering">
      <p data-testid="watering-summary">
        Last watered <strong>{relativeTime(summary.lastWateredAt, now)}</strong>
        {summary.nextDueAt ? (
          <>
            {" "}
            · next due <strong className={summary.overdue ? "due" : undefined}>{relativeTime(summary.nextDueAt, now)}</strong>
          </>
        ) : null}
        <br />
        <small className="muted">
          {summary.intervalDays ? `every ${summary.intervalDays} days (from ${summary.intervalSource === "plant" ? "this plant" : "its species"})` : "no watering interval"}
        </small>
      </p>
      {site.canEdit && !plant.archivedAt ? (
        <form className="inline" onSubmit={submit} aria-label="Mark watered">
          <Field label="Amount (ml, optional)" error={fieldError(record.error, "volumeMl")}>
            <input inputMode="decimal" value={volume} onChange={(e) => setVolume(e.target.value)} placeholder="e.g. 250" />
          </Field>
          <button type="submit" className="primary" disabled={record.isPending}>
            Mark watered
          </button>
          <FormError error={record.error} fields={["volumeMl"]} />
        </form>
      ) : null}
      {log.data && log.data.items.length === 0 ? <Empty>No waterings recorded yet.</Empty> : null}
      {log.data && log.data.items.length > 0 ? (
        <table className="table compact" data-testid="watering-log">
          <thead>
            <tr>
              <th>When</th>
              <th>How</th>
              <th>Amount</th>
              <th>Status</th>
            </tr>
          </thead>
          <tbody>
            {log.data.items.map((w) => (
              <tr key={w.id}>
                <td>{formatDateTime(w.startedAt, site.timezone)}</td>
                <td>{w.source}</td>
                <td>
                  {w.volumeMl !== null ? `${formatNumber(w.volumeMl)} ml` : ""}
                  {w.durationSeconds !== null ? ` ${formatNumber(w.durationSeconds)} s` : ""}
                </td>
                <td>
                  <Badge tone={STATUS_TONE[w.status]} title={w.notes ?? undefined}>
                    {w.status.replace("_", " ")}
                  </Badge>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </Section>
  );
}
