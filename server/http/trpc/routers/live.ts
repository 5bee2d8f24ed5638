import { liveAlertsInput, liveCommandsInput, liveReadingsInput } from "../../../../shared/schemas/live";
import { plantStatusInput } from "../../../../shared/schemas/plant-status";
import { plantStatuses, statusChanges } from "../../../plants";
import type { AlertChanged, CommandChanged } from "../../../platform";
import { coalescedOf, streamOf } from "../live-streams";
import { router, siteProcedure } from "../core";
import { requireSiteFilters, type SiteFilters } from "../../../sites";
import type { Stores } from "../../../platform";

/**
 * Live updates over server-sent events, for one site and any of its members. Alerts and command
 * states come from every server (Postgres NOTIFY, see server/platform/changes.ts); readings come from
 * this server's ingest only. A subscription starts with what happens next: load the current state
 * with the matching queries first.
 *
 * When the server shuts down, app.ts cuts these streams without a tRPC "return": clients see a
 * dropped connection and reconnect (to another server, or this one once it is back), instead of
 * taking it for the end of the subscription.
 */

export interface LiveReading {
  sensorId: string;
  deviceId: string;
  metric: string;
  /** Epoch ms. */
  ts: number;
  value: number;
}

/**
 * The ids a subscription filters by must be the site's: checked before the stream starts, so a
 * foreign or unknown one is NOT_FOUND on its field (an error inside the stream would not be).
 */
async function ownFilters<T>(opts: { ctx: { stores: Stores; siteId: string }; input: SiteFilters; next: () => Promise<T> }): Promise<T> {
  await requireSiteFilters(opts.ctx.stores.db, opts.ctx.siteId, opts.input);
  return opts.next();
}

export const liveRouter = router({
  /** The latest value of each of the site's sensors that reported, at most one message per interval. */
  readings: siteProcedure("viewer")
    .input(liveReadingsInput)
    .use(ownFilters)
    .subscription(async function* ({ ctx, input, signal }) {
      const only = input.sensorIds ? new Set(input.sensorIds) : null;
      const ended = signal ?? new AbortController().signal;
      const latestTs = new Map<string, number>();
      const batches = coalescedOf<LiveReading>(
        (put) =>
          ctx.events.on("readings.committed", (batch) => {
            if (batch.siteId !== ctx.siteId) return;
            for (const r of batch.readings()) {
              if (only && !only.has(r.sensorId)) continue;
              // Late readings of a backfill must not replace a newer current value.
              if ((latestTs.get(r.sensorId) ?? -Infinity) > r.ts) continue;
              latestTs.set(r.sensorId, r.ts);
              put(r.sensorId, { sensorId: r.sensorId, deviceId: batch.deviceId, metric: r.metric, ts: r.ts, value: r.value });
            }
          }),
        ended,
        ctx.liveReadingsIntervalMs,
      );
      for await (const readings of batches) yield { readings };
    }),

  /** Alerts raised (or firing again), acknowledged and resolved. */
  alerts: siteProcedure("viewer")
    .input(liveAlertsInput)
    .use(ownFilters)
    .subscription(async function* ({ ctx, input, signal }) {
      const ended = signal ?? new AbortController().signal;
      yield* streamOf<AlertChanged>(
        (push) =>
          ctx.events.on("alert.changed", (change) => {
            if (change.siteId !== ctx.siteId) return;
            if (input.plantId && change.plantId !== input.plantId) return;
            push(change);
          }),
        ended,
      );
    }),

  /**
   * Plant statuses (one plant, or every living plant of the site): each plant's current status
   * first, then a plant's status whenever it changes (server/plants/status-stream.ts).
   */
  plantStatus: siteProcedure("viewer")
    .input(plantStatusInput)
    // A plant of another site (or none) is NOT_FOUND on plantId before the stream opens.
    .use(ownFilters)
    .subscription(async function* ({ ctx, input, signal }) {
      yield* statusChanges({
        events: ctx.events,
        siteId: ctx.siteId,
        compute: () => plantStatuses({ db: ctx.stores.db, ch: ctx.stores.clickhouse, directory: ctx.directory, now: ctx.now() }, ctx.siteId, input.plantId),
        now: ctx.now,
        intervalMs: ctx.liveReadingsIntervalMs,
        signal: signal ?? new AbortController().signal,
      });
    }),

  /** Every state change of the site's commands: queued, fetched, acknowledged, finished, expired, cancelled. */
  commands: siteProcedure("viewer")
    .input(liveCommandsInput)
    .use(ownFilters)
    .subscription(async function* ({ ctx, input, signal }) {
      const ended = signal ?? new AbortController().signal;
      yield* streamOf<CommandChanged>(
        (push) =>
          ctx.events.on("command.changed", (change) => {
            if (change.siteId !== ctx.siteId) return;
            if (input.deviceId && change.deviceId !== input.deviceId) return;
            if (input.actuatorId && change.actuatorId !== input.actuatorId) return;
            push(change);
          }),
        ended,
      );
    }),
});
