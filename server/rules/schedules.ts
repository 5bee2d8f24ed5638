import { and, asc, eq, isNotNull, lte, type SQL } from "drizzle-orm";
import type { Db } from "../../db/client";
import { automationSchedules } from "../../db/schema";
import type { AutomationAction } from "../../shared/schemas/automation";
import { afterCursor, AppError, keysetOf, orderBy, pageOf, parseRecurrence, type Recurrence } from "../platform";
import { requirePlant, siteTimeZone } from "../sites";
import { checkActions } from "./rules";

/**
 * Schedules: actions at the occurrences of an RRULE from `startsAt`, expanded in the site's time
 * zone (server/care/recurrence.ts), so "every day at 07:00" stays at 07:00 local time across
 * daylight-saving changes. `nextRunAt` is the occurrence waiting to run.
 */

export type ScheduleRow = typeof automationSchedules.$inferSelect;

export function recurrenceOf(schedule: Pick<ScheduleRow, "rrule" | "startsAt">, timeZone: string): Recurrence {
  return parseRecurrence(schedule.rrule, schedule.startsAt, timeZone);
}

/** The first occurrence at or after `from` (never before the start). */
export function firstRunFrom(recurrence: Recurrence, startsAt: Date, from: Date): Date | null {
  return recurrence.after(from > startsAt ? from : startsAt, true);
}

export async function requireSchedule(db: Db, siteId: string, scheduleId: string): Promise<ScheduleRow> {
  const [row] = await db
    .select()
    .from(automationSchedules)
    .where(and(eq(automationSchedules.id, scheduleId), eq(automationSchedules.siteId, siteId)));
  if (!row) throw new AppError("NOT_FOUND", "schedule not found", { path: "scheduleId" });
  return row;
}

interface ScheduleFields {
  name?: string | undefined;
  plantId?: string | null | undefined;
  startsAt?: Date | undefined;
  rrule?: string | undefined;
  missedRunPolicy?: "skip" | "catch_up" | undefined;
  actions?: AutomationAction[] | undefined;
  enabled?: boolean | undefined;
}

export async function createSchedule(
  db: Db,
  siteId: string,
  input: ScheduleFields & { name: string; startsAt: Date; rrule: string; actions: AutomationAction[] },
  actor: { userId: string; now: Date },
): Promise<ScheduleRow> {
  if (input.plantId) await requirePlant(db, siteId, input.plantId, { active: true });
  await checkActions(db, siteId, input.actions);
  const recurrence = recurrenceOf(input, await siteTimeZone(db, siteId));
  const enabled = input.enabled ?? true;
  const next = firstRunFrom(recurrence, input.startsAt, actor.now);
  const [row] = await db
    .insert(automationSchedules)
    .values({
      siteId,
      name: input.name,
      plantId: input.plantId ?? null,
      startsAt: input.startsAt,
      rrule: input.rrule,
      missedRunPolicy: input.missedRunPolicy ?? "skip",
      actions: input.actions,
      enabled,
      nextRunAt: enabled ? next : null,
      createdBy: actor.userId,
      createdAt: actor.now,
      updatedAt: actor.now,
    })
    .returning();
  return row!;
}

/** A new rule or start, or enabling, moves the next run to the first occurrence from now on. */
export async function updateSchedule(db: Db, siteId: string, input: ScheduleFields & { scheduleId: string }, now: Date): Promise<ScheduleRow> {
  const current = await requireSchedule(db, siteId, input.scheduleId);
  if (input.plantId) await requirePlant(db, siteId, input.plantId, { active: true });
  if (input.actions) await checkActions(db, siteId, input.actions);
  const merged = {
    startsAt: input.startsAt ?? current.startsAt,
    rrule: input.rrule ?? current.rrule,
    enabled: input.enabled ?? current.enabled,
  };
  const recurrence = recurrenceOf(merged, await siteTimeZone(db, siteId));
  const timing = input.startsAt !== undefined || input.rrule !== undefined || (merged.enabled && !current.enabled);
  const nextRunAt = !merged.enabled ? null : timing ? firstRunFrom(recurrence, merged.startsAt, now) : current.nextRunAt;
  const { scheduleId: _, ...fields } = input;
  const changes = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
  const [row] = await db
    .update(automationSchedules)
    .set({ ...changes, nextRunAt, updatedAt: now })
    .where(eq(automationSchedules.id, current.id))
    .returning();
  return row!;
}

export async function deleteSchedule(db: Db, siteId: string, scheduleId: string): Promise<void> {
  const current = await requireSchedule(db, siteId, scheduleId);
  await db.delete(automationSchedules).where(eq(automationSchedules.id, current.id));
}

export async function listSchedules(db: Db, siteId: string, input: { plantId?: string | undefined; cursor?: string | undefined; limit: number }) {
  if (input.plantId) await requirePlant(db, siteId, input.plantId);
  const keys = keysetOf(automationSchedules.createdAt, automationSchedules.id);
  const conditions: (SQL | undefined)[] = [eq(automationSchedules.siteId, siteId), afterCursor(keys, input.cursor, "asc")];
  if (input.plantId) conditions.push(eq(automationSchedules.plantId, input.plantId));
  const rows = await db
    .select()
    .from(automationSchedules)
    .where(and(...conditions))
    .orderBy(...orderBy(keys, "asc"))
    .limit(input.limit + 1);
  return pageOf(rows, input.limit, (r) => ({ at: r.createdAt, id: r.id }));
}

/** The next `count` runs from `from`, in the site's time zone: what a calendar shows. */
export async function upcomingRuns(db: Db, siteId: string, input: { scheduleId: string; from: Date; count: number }): Promise<Date[]> {
  const schedule = await requireSchedule(db, siteId, input.scheduleId);
  const recurrence = recurrenceOf(schedule, await siteTimeZone(db, siteId));
  const runs: Date[] = [];
  let at = firstRunFrom(recurrence, schedule.startsAt, input.from);
  while (at && runs.length < input.count) {
    runs.push(at);
    at = recurrence.after(at);
  }
  return runs;
}

/** Enabled schedules with a run due at `now`, oldest first. */
export async function dueSchedules(db: Db, now: Date): Promise<ScheduleRow[]> {
  return db
    .select()
    .from(automationSchedules)
    .where(and(eq(automationSchedules.enabled, true), isNotNull(automationSchedules.nextRunAt), lte(automationSchedules.nextRunAt, now)))
    .orderBy(asc(automationSchedules.nextRunAt))
    .limit(500);
}

/**
 * Claims a due run: moves `nextRunAt` on only if it still holds the value this server read, so of
 * several servers (or overlapping ticks) exactly one gets each run.
 */
export async function claimRun(db: Db, schedule: ScheduleRow, next: Date | null, ranAt: Date | null): Promise<boolean> {
  const [row] = await db
    .update(automationSchedules)
    .set({ nextRunAt: next, ...(ranAt ? { lastRunAt: ranAt } : {}) })
    .where(and(eq(automationSchedules.id, schedule.id), eq(automationSchedules.nextRunAt, schedule.nextRunAt!)))
    .returning({ id: automationSchedules.id });
  return Boolean(row);
}
