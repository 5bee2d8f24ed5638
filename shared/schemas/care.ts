import { z } from "zod";
import { uuidSchema } from "./accounts";
import { optionalText, pageInput } from "./common";
import { dateInput } from "./dates";

export const CARE_TASK_KINDS = ["water", "fertilize", "repot", "prune", "custom"] as const;

/**
 * An RFC 5545 RRULE body such as "FREQ=WEEKLY;BYDAY=MO,TH" (no DTSTART: the task's `startsAt`
 * is the start, in the site's time zone). The server parses it and names errors on `rrule`.
 */
export const rruleSchema = z
  .string()
  .trim()
  .max(500, "must be at most 500 characters")
  .transform((s) => s.replace(/^RRULE:/i, ""))
  .refine((s) => /(^|;)FREQ=/i.test(s), "must be an RRULE such as FREQ=WEEKLY;BYDAY=MO")
  .refine((s) => !/DTSTART|TZID/i.test(s), "must not contain DTSTART or TZID: startsAt and the site's time zone set them");

export const createCareTaskInput = z
  .object({
    plantId: uuidSchema,
    kind: z.enum(CARE_TASK_KINDS),
    /** Required for custom tasks; defaults to the kind ("Water") otherwise. */
    title: z.string().trim().min(1, "must not be empty").max(200, "must be at most 200 characters").optional(),
    notes: optionalText(2000),
    /** The first occurrence; recurrences keep its wall-clock time in the site's time zone. */
    startsAt: dateInput,
    rrule: rruleSchema.nullable().optional(),
  })
  .superRefine((t, ctx) => {
    if (t.kind === "custom" && !t.title) ctx.addIssue({ code: "custom", path: ["title"], message: "a custom task needs a title" });
  });

export const updateCareTaskInput = z.object({
  taskId: uuidSchema,
  title: z.string().trim().min(1, "must not be empty").max(200, "must be at most 200 characters").optional(),
  notes: optionalText(2000),
  /** Changing the schedule moves the pending occurrence to the first one from now on. */
  startsAt: dateInput.optional(),
  rrule: rruleSchema.nullable().optional(),
});

export const careTaskIdInput = z.object({ taskId: uuidSchema });
export const listCareTasksInput = pageInput.extend({
  plantId: uuidSchema.optional(),
  /** open: still has a pending occurrence (default); done: finished one-offs and ended series. */
  state: z.enum(["open", "done", "all"]).default("open"),
});

const MAX_RANGE_DAYS = 366;
export const upcomingInput = z
  .object({ from: dateInput, to: dateInput, plantId: uuidSchema.optional(), limit: z.number().int().min(1).max(1000).default(500) })
  .superRefine((r, ctx) => {
    if (r.to <= r.from) ctx.addIssue({ code: "custom", path: ["to"], message: "must be after from" });
    else if (r.to.getTime() - r.from.getTime() > MAX_RANGE_DAYS * 86_400_000) {
      ctx.addIssue({ code: "custom", path: ["to"], message: `the range may span at most ${MAX_RANGE_DAYS} days` });
    }
  });

export const completeCareTaskInput = z.object({
  taskId: uuidSchema,
  note: optionalText(2000),
  /** Water tasks: recorded in the watering ledger with the completion. */
  volumeMl: z.number().positive("must be above 0").max(1_000_000).optional(),
});
export const snoozeCareTaskInput = z.object({ taskId: uuidSchema, until: dateInput });

export const WATERING_SOURCES = ["manual", "scheduled", "automatic", "detected"] as const;
export const WATERING_STATUSES = ["pending", "in_progress", "completed", "failed"] as const;
export type WateringStatus = (typeof WATERING_STATUSES)[number];

const moisture = z.number().min(0, "must be at least 0").max(100, "must be at most 100").nullable().optional();
export const recordWateringInput = z.object({
  plantId: uuidSchema,
  source: z.enum(WATERING_SOURCES).default("manual"),
  status: z.enum(WATERING_STATUSES).default("completed"),
  /** When the watering started; now by default. */
  startedAt: dateInput.optional(),
  volumeMl: z.number().positive("must be above 0").max(1_000_000, "must be at most 1000000").nullable().optional(),
  durationSeconds: z.number().positive("must be above 0").max(86_400, "must be at most 86400").nullable().optional(),
  moistureBefore: moisture,
  moistureAfter: moisture,
  notes: optionalText(2000),
});
export const updateWateringInput = z.object({
  wateringId: uuidSchema,
  status: z.enum(WATERING_STATUSES).optional(),
  volumeMl: z.number().positive("must be above 0").max(1_000_000, "must be at most 1000000").nullable().optional(),
  durationSeconds: z.number().positive("must be above 0").max(86_400, "must be at most 86400").nullable().optional(),
  moistureBefore: moisture,
  moistureAfter: moisture,
  notes: optionalText(2000),
});
export const listWateringsInput = pageInput.extend({ plantId: uuidSchema.optional() });

/** A plant's care plan; `ppfdPerLux` converts its light sensors' lux to PPFD (default: sunlight). */
export const carePlanInput = z.object({
  plantId: uuidSchema,
  ppfdPerLux: z.number().gt(0, "must be above 0").max(0.1, "must be at most 0.1").optional(),
});
