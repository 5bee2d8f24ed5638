/**
 * Analytics over a site's readings: series and charts (source picked by range), latest values,
 * plant-care figures (DLI, VPD, drying rate), device health, the fleet overview, fleet-wide
 * series and threshold crossings of every sensor of a metric, and the export;
 * the daily light integral of whole local days also for the daily light rules and plant status.
 * Scoped through the site directory; the SQL lives in clickhouse/analytics.
 */
export { type AnalyticsDeps } from "./deps";
export { dailyLightIntegrals, lastWholeDays, type LightDay, MIN_LIGHT_COVERAGE, startOfLocalDay } from "./daily-light";
export { staleAfterMs } from "./freshness";
export { crossingOf } from "./crossing";
export { deviceHealthOf } from "./device-health";
export { fleetOverviewOf } from "./fleet";
export { fleetSeriesOf } from "./fleet-series";
export { latestOf } from "./latest";
export { plantMetricsOf } from "./plant-care";
export { chartOf, seriesOf } from "./series";
export { exportChunks, exportSensors } from "./export";
