import { keepPreviousData, useInfiniteQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Badge, Empty, Section } from "../../components/ui";
import { api } from "../../lib/api";
import { formatDateTime } from "../../lib/format";
import { useSite } from "../../lib/site";
import { usePlantsList } from "../../lib/queries";

const EVENT_TONE = { fired: "warn", cleared: "ok", action: "info", skipped: "muted", failed: "bad", paused: "warn", resumed: "ok", detected: "info" } as const;

/** What the automation did and why, newest first; per plant or for the whole site. */
export function AutomationLog() {
  const site = useSite();
  const plants = usePlantsList(site.id);
  const [plantId, setPlantId] = useState("");
  const log = useInfiniteQuery({
    queryKey: ["automationLog", "list", site.id, plantId],
    queryFn: ({ pageParam }) => api.automationLog.list.query({ siteId: site.id, plantId: plantId || undefined, limit: 30, cursor: pageParam }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page) => page.nextCursor ?? undefined,
    placeholderData: keepPreviousData,
  });
  const entries = log.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <Section
      title="Automation log"
      id="log"
      actions={
        <select aria-label="Plant" value={plantId} onChange={(e) => setPlantId(e.target.value)}>
          <option value="">all plants</option>
          {plants.data?.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name}
            </option>
          ))}
        </select>
      }
    >
      {log.data && entries.length === 0 ? <Empty>Nothing yet: rules and schedules write here when they fire, act, skip or fail.</Empty> : null}
      <ul className="log" data-testid="automation-log">
        {entries.map((e) => (
          <li key={e.id}>
            <time>{formatDateTime(e.at, site.timezone)}</time> <Badge tone={EVENT_TONE[e.event]}>{e.event}</Badge> {e.message}
          </li>
        ))}
      </ul>
      {log.hasNextPage ? (
        <button type="button" onClick={() => log.fetchNextPage()} disabled={log.isFetchingNextPage}>
          Older
        </button>
      ) : null}
    </Section>
  );
}
