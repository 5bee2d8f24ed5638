import { z } from "zod";
import { METRICS, type Metric } from "../metrics";
import { MAX_ABS_VALUE, MAX_ABS_VALUE_TEXT } from "../values";
import { uuidSchema } from "./accounts";
import { dateInput, urlDateInput } from "./dates";

/**
 * Inputs of the analytics procedures. Ranges are half-open `[from, to)`; every limit here exists
 * to cap the size of an answer, and each error names the field to change.
 */

/** Bucket sizes. Up to `12h` they are fixed lengths aligned to the UTC epoch; `1d`, `1w` (Monday) and `1mo` are calendar buckets in the site's time zone. */
export const BUCKETS = ["10s", "30s", "1m", "5m", "15m", "30m", "1h", "3h", "6h", "12h", "1d", "1w", "1mo"] as const;
export type Bucket = (typeof BUCKETS)[number];
export type CalendarBucket = "1d" | "1w" | "1mo";

/** Seconds of a fixed bucket; calendar buckets have a nominal length for sizing only. */
export const BUCKET_SECONDS: Record<Bucket, number> = {
  "10s": 10,
  "30s": 30,
  "1m": 60,
  "5m": 300,
  "15m": 900,
  "30m": 1800,
  "1h": 3600,
  "3h": 10_800,
  "6h": 21_600,
  "12h": 43_200,
  "1d": 86_400,
  "1w": 604_800,
  "1mo": 2_629_746, // a mean Gregorian month
};

export function isCalendarBucket(bucket: Bucket): bucket is CalendarBucket {
  return bucket === "1d" || bucket === "1w" || bucket === "1mo";
}

export const MAX_SERIES_SENSORS = 50;
/** Buckets per sensor in one series answer. */
export const MAX_BUCKETS = 10_000;
export const MAX_RANGE_DAYS = 5 * 366;

const metricSchema = z.enum(METRICS as [Metric, ...Metric[]], { message: `must be one of ${METRICS.join(", ")}` });

/** Dates within 2000-01-01 … 2100-01-01 (shared/schemas/dates.ts); each field's problem is reported on it. */
const rangeFields = {
  from: dateInput,
  to: dateInput,
};

type Range = { from: Date; to: Date };
function checkRange(input: Range, ctx: z.RefinementCtx, maxDays = MAX_RANGE_DAYS) {
  if (input.to.getTime() <= input.from.getTime()) {
    ctx.addIssue({ code: "custom", path: ["to"], message: "must be after from" });
  } else if (input.to.getTime() - input.from.getTime() > maxDays * 86_400_000) {
    ctx.addIssue({ code: "custom", path: ["to"], message: `the range may span at most ${maxDays} days` });
  }
}

/** Which sensors a series is about: listed ids, or a plant's sensors of one metric. */
const sensorSelection = {
  sensorIds: z
    .array(uuidSchema)
    .min(1, "must name at least one sensor")
    .max(MAX_SERIES_SENSORS, `must name at most ${MAX_SERIES_SENSORS} sensors`)
    .optional(),
  plantId: uuidSchema.optional(),
  metric: metricSchema.optional(),
};
function checkSelection(input: { sensorIds?: string[] | undefined; plantId?: string | undefined; metric?: Metric | undefined }, ctx: z.RefinementCtx) {
  if (input.sensorIds && input.plantId) {
    ctx.addIssue({ code: "custom", path: ["plantId"], message: "give either sensorIds or plantId with metric, not both" });
  } else if (!input.sensorIds && !input.plantId) {
    ctx.addIssue({ code: "custom", path: ["sensorIds"], message: "name the sensors, or a plantId with a metric" });
  } else if (input.plantId && !input.metric) {
    ctx.addIssue({ code: "custom", path: ["metric"], message: "is required with plantId" });
  }
}

export const seriesInput = z
  .object({
    ...sensorSelection,
    ...rangeFields,
    /** `auto` picks the smallest bucket that gives at most `maxPoints` buckets. */
    bucket: z.enum(["auto", ...BUCKETS], { message: `must be auto or one of ${BUCKETS.join(", ")}` }).default("auto"),
    maxPoints: z.number().int("must be a whole number").min(2, "must be at least 2").max(MAX_BUCKETS, `must be at most ${MAX_BUCKETS}`).default(500),
    /** p50 and p90 per bucket: computed from raw readings, so only within the raw retention. */
    percentiles: z.boolean().default(false),
  })
  .superRefine((input, ctx) => {
    checkSelection(input, ctx);
    checkRange(input, ctx);
  });
export type SeriesInput = z.infer<typeof seriesInput>;

export const MAX_CHART_POINTS = 5_000;
export const chartInput = z
  .object({
    ...sensorSelection,
    ...rangeFields,
    /** At most this many points per sensor, chosen by largest-triangle-three-buckets. */
    points: z.number().int("must be a whole number").min(3, "must be at least 3").max(MAX_CHART_POINTS, `must be at most ${MAX_CHART_POINTS}`).default(500),
  })
  .superRefine((input, ctx) => {
    checkSelection(input, ctx);
    checkRange(input, ctx);
  });
export type ChartInput = z.infer<typeof chartInput>;

export const latestInput = z.object({
  /** Only these plants' sensors; all of the site's sensors when absent. */
  plantIds: z.array(uuidSchema).min(1, "must name at least one plant").max(500, "must name at most 500 plants").optional(),
  /** Each item also says what its sensor is (key, name, metric, unit, device, plant). */
  withSensors: z.boolean().default(false),
});
export type LatestInput = z.infer<typeof latestInput>;

export const MAX_PLANT_METRIC_DAYS = 366;
export const DEFAULT_PPFD_PER_LUX = 0.0185;
export const plantMetricsInput = z
  .object({
    plantId: uuidSchema,
    ...rangeFields,
    /** µmol/m²/s per lux: 0.0185 for sunlight; white LEDs are about 0.014–0.016, HPS 0.0122. */
    ppfdPerLux: z.number().gt(0, "must be above 0").max(0.1, "must be at most 0.1").default(DEFAULT_PPFD_PER_LUX),
    /** How far back the drying rate looks (it starts after the last watering inside this window). */
    dryingWindowHours: z.number().int("must be a whole number").min(6, "must be at least 6").max(24 * 14, "must be at most 336").default(72),
  })
  .superRefine((input, ctx) => checkRange(input, ctx, MAX_PLANT_METRIC_DAYS));
export type PlantMetricsInput = z.infer<typeof plantMetricsInput>;

export const deviceHealthInput = z.object({
  /** Battery trend window. */
  batteryDays: z.number().int("must be a whole number").min(1, "must be at least 1").max(90, "must be at most 90").default(14),
  /** A sensor is stuck when its values did not change at all over this many hours. */
  stuckHours: z.number().int("must be a whole number").min(1, "must be at least 1").max(48, "must be at most 48").default(6),
  /** Spikes are judged against this many hours of history (robust z-score of the last hour). */
  spikeBaselineHours: z.number().int("must be a whole number").min(2, "must be at least 2").max(168, "must be at most 168").default(24),
  spikeThreshold: z.number().min(1, "must be at least 1").max(50, "must be at most 50").default(3.5),
});
export type DeviceHealthInput = z.infer<typeof deviceHealthInput>;

export const fleetInput = z.object({
  hours: z.number().int("must be a whole number").min(1, "must be at least 1").max(168, "must be at most 168").default(24),
});

export const EXPORT_FORMATS = ["csv", "ndjson"] as const;
export const MAX_EXPORT_SENSORS = 5_000;
/** Query string of GET /v1/export (strings, as URLs carry them). */
export const exportQuery = z
  .object({
    siteId: uuidSchema,
    from: urlDateInput,
    to: urlDateInput,
    format: z.enum(EXPORT_FORMATS, { message: "must be csv or ndjson" }).default("csv"),
    sensorIds: z
      .string()
      .optional()
      .transform((s) => (s ? s.split(",").map((id) => id.trim()) : undefined))
      .pipe(z.array(uuidSchema).min(1).max(MAX_EXPORT_SENSORS, `must name at most ${MAX_EXPORT_SENSORS} sensors`).optional()),
    plantId: uuidSchema.optional(),
    metric: metricSchema.optional(),
  })
  .superRefine((input, ctx) => checkRange(input, ctx, 10 * 366));
export type ExportQuery = z.infer<typeof exportQuery>;

/**
 * Fleet-wide analytics: every sensor of a site that measures one metric, in one call
 * (server/analytics/fleet-series.ts and crossing.ts; docs/analytics-fleet.md).
 */

/** Values (sensors × buckets) in one fleet series answer: about 12 MB of JSON at most. */
export const MAX_FLEET_CELLS = 500_000;

export const fleetSeriesInput = z
  .object({
    metric: metricSchema,
    ...rangeFields,
    /** As for a series; `auto` also keeps sensors × buckets within MAX_FLEET_CELLS. */
    bucket: z.enum(["auto", ...BUCKETS], { message: `must be auto or one of ${BUCKETS.join(", ")}` }).default("auto"),
    maxPoints: z.number().int("must be a whole number").min(2, "must be at least 2").max(MAX_BUCKETS, `must be at most ${MAX_BUCKETS}`).default(500),
    /** Also say what each sensor is (device, key, name, unit, plant), in the same order. */
    withSensors: z.boolean().default(false),
  })
  .superRefine((input, ctx) => checkRange(input, ctx));
export type FleetSeriesInput = z.infer<typeof fleetSeriesInput>;

export const CROSSING_AGGREGATES = ["avg", "min", "max"] as const;
export type CrossingAggregate = (typeof CROSSING_AGGREGATES)[number];

export const crossingInput = z
  .object({
    metric: metricSchema,
    /** The window is closed, [from, to], as an aggregate rule's is. */
    ...rangeFields,
    aggregate: z.enum(CROSSING_AGGREGATES, { message: "must be avg, min or max" }),
    comparison: z.enum(["below", "above"], { message: "must be below or above" }),
    /** Strictly below or above, as a rule's threshold. */
    // Readings never go beyond ±1e15 (shared/values.ts): a bound past that is refused, not sent on.
    threshold: z
      .number({ message: "must be a finite number" })
      .min(-MAX_ABS_VALUE, `must be within ±${MAX_ABS_VALUE_TEXT}`)
      .max(MAX_ABS_VALUE, `must be within ±${MAX_ABS_VALUE_TEXT}`),
  })
  .superRefine((input, ctx) => checkRange(input, ctx));
export type CrossingInput = z.infer<typeof crossingInput>;
