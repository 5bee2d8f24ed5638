import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Loading, QueryError, Section } from "../../components/ui";
import { api, type Outputs } from "../../lib/api";
import { formatDateTime, formatNumber, metricLabel, relativeTime } from "../../lib/format";
import { useSite } from "../../lib/site";

type Plant = Outputs["plants"]["get"];
const DAY = 86_400_000;

/** Daily light integral, vapour pressure deficit, days in range and the soil's drying (analytics.plantMetrics). */
export function CareFigures({ plant }: { plant: Plant }) {
  const site = useSite();
  // Whole days: the last 7 local days up to now; fixed when the page opens.
  const [to] = useState(() => Date.now());
  const figures = useQuery({
    queryKey: ["analytics", "plantMetrics", site.id, plant.id, to],
    queryFn: () => api.analytics.plantMetrics.query({ siteId: site.id, plantId: plant.id, from: new Date(to - 7 * DAY), to: new Date(to) }),
    staleTime: 300_000,
  });
  return (
    <Section title="Care figures" id="figures">
      {figures.isPending ? <Loading /> : null}
      {figures.error ? <QueryError error={figures.error} /> : null}
      {figures.data ? <Figures data={figures.data} /> : null}
    </Section>
  );
}

function Figures({ data }: { data: Outputs["analytics"]["plantMetrics"] }) {
  const site = useSite();
  const days = data.days;
  const today = days.at(-1);
  const withDli = days.filter((d) => d.dli !== null);
  const avgDli = withDli.length ? withDli.reduce((s, d) => s + d.dli!, 0) / withDli.length : null;
  const dliRange = data.ranges.dli;
  const drying = data.drying;
  const now = Date.now();
  return (
    <dl className="figures" data-testid="care-figures">
      <div>
        <dt title="Daily light integral: the light the plant got over a day">DLI</dt>
        <dd>
          {today?.dli != null ? `${formatNumber(today.dli)} mol/m²/d today` : "no light sensor data today"}
          {avgDli !== null ? <small>7-day average {formatNumber(avgDli)}</small> : null}
          {dliRange.min !== null ? (
            <small>
              species wants {dliRange.min}–{dliRange.max}; within on {dliRange.daysWithin} of {dliRange.daysWithData} days
            </small>
          ) : null}
        </dd>
      </div>
      <div>
        <dt title="Vapour pressure deficit: how strongly the air pulls water from leaves">VPD</dt>
        <dd>
          {today?.vpd ? `${formatNumber(today.vpd.avg)} kPa average today` : "needs temperature and humidity sensors"}
          {today?.vpd ? (
            <small>
              {formatNumber(today.vpd.min)}–{formatNumber(today.vpd.max)} kPa; most plants like 0.4–1.6
            </small>
          ) : null}
        </dd>
      </div>
      <div>
        <dt>Drying</dt>
        <dd>
          {drying && drying.ratePerDay !== null
            ? drying.ratePerDay < 0
              ? `losing ${formatNumber(-drying.ratePerDay)} points of moisture a day`
              : `gaining ${formatNumber(drying.ratePerDay)} points a day: not drying`
            : drying
              ? "not enough readings since the last watering"
              : "no soil moisture sensor"}
          {drying?.since ? <small>since {formatDateTime(drying.since, site.timezone)}</small> : null}
        </dd>
      </div>
      <div>
        <dt>Dry by</dt>
        <dd data-testid="dry-by">
          {drying?.dryBy
            ? drying.dryBy <= now
              ? "now: at or below the plant's minimum"
              : `${formatDateTime(drying.dryBy, site.timezone)} (${relativeTime(drying.dryBy, now)})`
            : drying?.threshold === null
              ? "no minimum soil moisture set"
              : "not drying"}
          {drying?.threshold != null ? <small>when soil moisture reaches {drying.threshold} %</small> : null}
        </dd>
      </div>
      <div className="wide">
        <dt>Days in range (last 7)</dt>
        <dd>
          {(["soil_moisture", "temperature", "humidity", "ec"] as const)
            .filter((m) => data.ranges[m].daysWithData > 0)
            .map((m) => {
              const r = data.ranges[m];
              return (
                <small key={m}>
                  {metricLabel(m)}: {r.daysWithin} of {r.daysWithData} days within
                  {r.daysBelow ? `, ${r.daysBelow} below` : ""}
                  {r.daysAbove ? `, ${r.daysAbove} above` : ""}
                </small>
              );
            })}
        </dd>
      </div>
    </dl>
  );
}
