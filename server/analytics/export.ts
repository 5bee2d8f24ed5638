import { queryExportWindow, type ExportRow } from "../../clickhouse/analytics/export";
import type { ExportQuery } from "../../shared/schemas/analytics";
import { type AnalyticsDeps, num } from "./deps";
import { selectedSensors, siteScope, type ScopeDeps, type ScopedSensor } from "./scope";
import { spanAt, timelineOf, windowsOfAll, type Span } from "./windows";

/**
 * Raw readings of a range as CSV or NDJSON, produced page by page: the range is walked in time
 * windows of at most PAGE_ROWS readings (a window that overflows is halved, one that comes back
 * small doubles), so memory stays bounded for any range and the output is in time order.
 *
 * Each reading is labelled with the plant and metric of its sensor when it was taken (the sensor's
 * timeline, ./windows.ts), and a plant's or a metric's export holds exactly the readings taken
 * while the sensor was the plant's or measured the metric.
 */

export const PAGE_ROWS = 50_000;
const HOUR = 3_600_000;
const MAX_WINDOW = 31 * 24 * HOUR;

export const CSV_HEADER = "time,sensor_id,device,sensor,metric,unit,plant_id,value,raw_value\n";

function csvField(value: string | null): string {
  if (value === null) return "";
  return /[",\n\r]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/**
 * CSV injection (OWASP): a spreadsheet opening the file runs a cell that starts with = + - @, a
 * tab or a carriage return as a formula, and names are chosen by whoever can name a device or a
 * sensor. A leading ' makes such a cell plain text. Only text cells get it: numbers (negative
 * values too), times and ids are ours and stay as they are; NDJSON is data, not a sheet, and is
 * left alone.
 */
const FORMULA_START = /^[=+\-@\t\r]/;
function csvText(value: string | null): string {
  return csvField(value !== null && FORMULA_START.test(value) ? `'${value}` : value);
}

function csvLine(ts: number, r: ExportRow, s: ScopedSensor, at: Span): string {
  return `${new Date(ts).toISOString()},${s.id},${csvText(s.deviceName)},${csvText(s.key)},${csvText(at.metric)},${csvText(at.unit)},${at.plantId ?? ""},${r.v},${r.raw_v}\n`;
}

function ndjsonLine(ts: number, r: ExportRow, s: ScopedSensor, at: Span): string {
  return `${JSON.stringify({ ts, time: new Date(ts).toISOString(), sensorId: s.id, device: s.deviceName, sensor: s.key, metric: at.metric, unit: at.unit, plantId: at.plantId, value: r.v, rawValue: r.raw_v })}\n`;
}

/**
 * The sensors an export covers: named ones (all must be the site's); else every sensor that was
 * ever the plant's (by `plantId`) or the site's, whose windows with the plant and metric then say
 * which readings go out.
 */
export async function exportSensors(deps: ScopeDeps, siteId: string, query: ExportQuery): Promise<readonly ScopedSensor[]> {
  if (query.sensorIds) return (await selectedSensors(deps, siteId, { sensorIds: query.sensorIds })).sensors;
  if (query.plantId) return (await selectedSensors(deps, siteId, { plantId: query.plantId })).sensors;
  return (await siteScope(deps, siteId)).sensors;
}

/** The export's text, chunk by chunk (one chunk per page). */
export async function* exportChunks(deps: Pick<AnalyticsDeps, "ch">, sensors: readonly ScopedSensor[], query: ExportQuery, pageRows = PAGE_ROWS): AsyncGenerator<string> {
  const line = query.format === "csv" ? csvLine : ndjsonLine;
  if (query.format === "csv") yield CSV_HEADER;
  if (sensors.length === 0) return;
  // By plant or metric: each page reads the sensors' windows with them; named sensors: all their readings.
  const filter = !query.sensorIds && (query.plantId || query.metric) ? { plantId: query.plantId, metric: query.metric } : undefined;
  const byId = new Map(sensors.map((s) => [s.id, s]));
  const sensorIds = sensors.map((s) => s.id);
  const end = query.to.getTime();
  let t = query.from.getTime();
  let window = HOUR;
  while (t < end) {
    const windowEnd = Math.min(t + window, end);
    // A 1 ms window cannot be split further: take it whole, however many readings share it.
    const limit = window <= 1 ? 2 ** 31 : pageRows + 1;
    const windows = filter ? windowsOfAll(sensors, { ...filter, from: t, to: windowEnd }) : undefined;
    const rows = windows?.length === 0 ? [] : await queryExportWindow(deps.ch, { sensorIds, from: new Date(t), to: new Date(windowEnd), limit, windows });
    if (rows.length > pageRows && window > 1) {
      window = Math.max(1, Math.floor(window / 2));
      continue;
    }
    if (rows.length) {
      let chunk = "";
      for (const r of rows) {
        const sensor = byId.get(r.sensor_id)!;
        const ts = num(r.t_ms);
        chunk += line(ts, r, sensor, spanAt(timelineOf(sensor), ts));
      }
      yield chunk;
    }
    t = windowEnd;
    if (rows.length < pageRows / 4) window = Math.min(window * 2, MAX_WINDOW);
  }
}
