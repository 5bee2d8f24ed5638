import { anyDeviceBatchStored, landedReadings, recentBatches, recordedBatches } from "../../../clickhouse/insert";
import type { EventHub, IngestLimits, Logger, Stores } from "../../platform";
import type { SiteDirectory } from "../../sites";
import { BatchLedger, type LedgerKey } from "./batch-ledger";
import { DeviceActivity } from "./device-activity";
import { Flusher } from "./flusher";
import { IngestPipeline, type DurableConsumer } from "./pipeline";
import { SensorKeys } from "./sensor-keys";
import { WriteAheadLog } from "./wal";

/**
 * The ingest pipeline: device batches (validated by ./parse.ts, or made from line protocol by
 * ./line-protocol) → sensors (./sensor-keys.ts) → RowBinary rows → the write-ahead log
 * (./wal.ts) → acknowledgement; then the flusher copies them to ClickHouse in large INSERTs
 * (./flusher.ts), the automation judges them and live streams hear of them. ./batch-ledger.ts
 * recognises retries. See docs/devices.md for what an acknowledgement guarantees.
 * Device activity (last seen, battery) is also where the device endpoints record heartbeats
 * (`activity.heartbeat`).
 */
export function createIngest(stores: Stores, directory: SiteDirectory, limits: IngestLimits, log: Logger, events?: EventHub) {
  const opened = WriteAheadLog.open(limits.walDir);
  const { wal } = opened;
  const sensors = new SensorKeys(() => stores.db, directory, limits.sensorLimit);
  // The pipeline hands each range to the automation once it is in ClickHouse.
  const flusher = new Flusher(
    () => stores.clickhouse,
    wal,
    { ...limits, rawRetentionDays: stores.retention.rawDays },
    log.child({ component: "ingest" }),
    (records) => pipeline.flushed(records),
  );
  const activity = new DeviceActivity(() => stores.db, log.child({ component: "device-activity" }), undefined, events);
  const ledger = new BatchLedger({
    capacity: limits.dedupBatches,
    maxClockSkewMs: limits.maxClockSkewMs,
    historySince: wal.checkpoint.since,
    // Readiness is checked before any batch is looked up, so the store is there.
    shared: () => stores.clickhouse.kind === "server",
    lookup: (keys) => lookupBatches(stores, keys, wal.checkpoint.since),
  });
  // Acknowledged before a restart and not in ClickHouse yet: they go again (the log keeps their order).
  const unflushed = opened.records.filter((r) => r.seq > opened.checkpoint.flushed);
  const unjudged = opened.records.filter((r) => r.seq > opened.checkpoint.judged);
  for (const r of opened.records) ledger.remember(r.deviceId, r.batchHash, r.rows, r.receivedAt);

  let started: Promise<void> | undefined;
  /** Once the stores are up: the window of recent batches from ClickHouse, and the flush of what the log still holds. */
  const start = () =>
    (started ??= (async () => {
      await stores.start();
      // A new log on stores that never took a device's batch (a new installation, a reset): no
      // batch can be a retry of one acknowledged before the log, so none is looked up for that.
      if (opened.created && wal.checkpoint.since !== 0 && !(await anyDeviceBatchStored(stores.clickhouse))) {
        wal.coverAllHistory();
        ledger.historyFrom(0);
      }
      const recent = await recentBatches(stores.clickhouse, limits.dedupBatches);
      ledger.load(recent);
      for (const r of unflushed) flusher.add(r, false);
      if (unflushed.length > 0) log.info({ batches: unflushed.length, rows: unflushed.reduce((n, r) => n + r.rows, 0) }, "ingest: flushing what the write-ahead log held at start");
    })().catch((error) => {
      started = undefined;
      throw error;
    }));
  activity.start();
  const pipeline: IngestPipeline = new IngestPipeline(sensors, ledger, wal, flusher, activity, start, (siteId) => directory.loaded(siteId)?.sensors, log.child({ component: "ingest" }), events);
  const saveTimer = setInterval(() => pipeline.saveJudged(), 1_000);
  saveTimer.unref?.();

  return {
    pipeline,
    flusher,
    ledger,
    wal,
    activity,
    /** Hands durable batches to the automation, first those acknowledged but not judged before a restart. */
    attach: (consumer: DurableConsumer) => start().then(() => pipeline.attach(consumer, unjudged)),
    /** Whether everything acknowledged so far has been judged (tests, shutdown). */
    judged: () => pipeline.judged(),
    /** Resolves once everything acknowledged so far is in ClickHouse (queries see it). */
    visible: () => flusher.visible(),
    /** Why ingest is not well, for readiness: the last flush failed. */
    degraded: () => flusher.degraded,
    /** Flushes what is queued, waits for the automation to judge what it was given, saves the checkpoint, closes the log. */
    async stop() {
      clearInterval(saveTimer);
      await flusher.drain();
      flusher.stop();
      await pipeline.judged();
      pipeline.saveJudged();
      await wal.close();
      await activity.stop();
    },
  };
}

/**
 * Which of these batches ClickHouse already has: the batches table by device and batch hash, and
 * for timestamped batches older than the log (stored before the batches table), the readings
 * themselves by sensors, time span and hash.
 */
async function lookupBatches(stores: Stores, keys: LedgerKey[], logSince: number): Promise<Map<LedgerKey, number>> {
  const ch = stores.clickhouse;
  const found = new Map<LedgerKey, number>();
  const recorded = await recordedBatches(ch, keys);
  for (const k of keys) {
    const rows = recorded.get(`${k.deviceId}/${k.batchHash}`);
    if (rows !== undefined) found.set(k, rows);
  }
  const legacy = keys.filter((k) => !found.has(k) && k.timestamped && k.minTs < logSince);
  if (legacy.length > 0) {
    const deviceOfSensor = new Map<string, string>();
    for (const k of legacy) for (const id of k.sensorIds) deviceOfSensor.set(id, k.deviceId);
    const byHash = new Map(legacy.map((k) => [`${k.deviceId}/${k.batchHash}`, k]));
    for (const r of await landedReadings(ch, legacy)) {
      const key = byHash.get(`${deviceOfSensor.get(r.sensorId)}/${r.batchHash}`);
      if (key) found.set(key, (found.get(key) ?? 0) + r.readings);
    }
  }
  return found;
}

export type Ingest = ReturnType<typeof createIngest>;
export { lineProtocolBatch, precisionOf, type LineProtocolBatch } from "./line-protocol";
export { parseBatch, type ParsedBatch } from "./parse";
export { IngestSaturatedError, IngestUnavailableError, type DurableConsumer, type IngestPipeline, type Receipt } from "./pipeline";
export { SensorLimitError } from "./sensor-keys";
export type { DeviceActivity } from "./device-activity";
export type { WalRecord } from "./wal";
