import { and, desc, eq, isNotNull, isNull, lt, or, type SQL } from "drizzle-orm";
import type { Db } from "../../db/client";
import { careTaskEvents, careTasks, plants } from "../../db/schema";
import { afterCursor, AppError, keysetOf, orderBy, pageOf, parseRecurrence, type Recurrence } from "../platform";
import { requirePlant, siteTimeZone } from "../sites";
import { recordWatering } from "../watering";

/**
 * Care tasks: reminders on a plant's calendar, one-off or recurring by RRULE in the site's time
 * zone. A task has one occurrence waiting at a time (`occurrenceAt`, due at `dueAt`, later while
 * snoozed); completing or skipping it moves the task to the next occurrence after both it and now
 * (missed occurrences collapse into one), or finishes the task when the rule has ended.
 */

export type CareTask = typeof careTasks.$inferSelect;
type Kind = CareTask["kind"];

const DEFAULT_TITLES: Record<Kind, string> = { water: "Water", fertilize: "Fertilize", repot: "Repot", prune: "Prune", custom: "Task" };

function recurrenceOf(task: Pick<CareTask, "rrule" | "startsAt">, timeZone: string): Recurrence | null {
  return task.rrule ? parseRecurrence(task.rrule, task.startsAt, timeZone) : null;
}

/** The first occurrence at or after `from` (the start itself for a one-off). */
function firstOccurrence(recurrence: Recurrence | null, startsAt: Date, from: Date): Date | null {
  if (!recurrence) return startsAt;
  const at = recurrence.after(from > startsAt ? from : startsAt, true);
  return at;
}

async function requireTask(db: Db, siteId: string, taskId: string): Promise<CareTask> {
  const [task] = await db
    .select()
    .from(careTasks)
    .where(and(eq(careTasks.id, taskId), eq(careTasks.siteId, siteId)));
  if (!task) throw new AppError("NOT_FOUND", "care task not found", { path: "taskId" });
  return task;
}

export async function createCareTask(
  db: Db,
  siteId: string,
  input: {
    plantId: string;
    kind: Kind;
    title?: string | undefined;
    notes?: string | null | undefined;
    startsAt: Date;
    rrule?: string | null | undefined;
    /** Made from this line of the plant's care plan (./plan.ts): one task per plant and line. */
    carePlanLine?: string | undefined;
  },
  actor: { userId: string; now: Date },
): Promise<CareTask> {
  await requirePlant(db, siteId, input.plantId, { active: true });
  const recurrence = input.rrule ? parseRecurrence(input.rrule, input.startsAt, await siteTimeZone(db, siteId)) : null;
  const first = firstOccurrence(recurrence, input.startsAt, input.startsAt);
  if (!first) throw new AppError("BAD_REQUEST", "the rule has no occurrence from startsAt on", { path: "rrule" });
  const [task] = await db
    .insert(careTasks)
    .values({
      siteId,
      plantId: input.plantId,
      kind: input.kind,
      title: input.title ?? DEFAULT_TITLES[input.kind],
      notes: input.notes ?? null,
      startsAt: input.startsAt,
      rrule: input.rrule ?? null,
      occurrenceAt: first,
      dueAt: first,
      createdBy: actor.userId,
      createdAt: actor.now,
      carePlanLine: input.carePlanLine ?? null,
    })
    .onConflictDoNothing()
    .returning();
  // Only the care-plan line's unique index can conflict (ids are random).
  if (!task) throw new AppError("CONFLICT", "the plant already has a task for this line of its care plan", { path: "carePlanLine" });
  return task;
}

/** Title and notes change in place; a new start or rule moves the waiting occurrence to the first one from now. */
export async function updateCareTask(
  db: Db,
  siteId: string,
  input: { taskId: string; title?: string | undefined; notes?: string | null | undefined; startsAt?: Date | undefined; rrule?: string | null | undefined },
  now: Date,
): Promise<CareTask> {
  const current = await requireTask(db, siteId, input.taskId);
  const changes: Partial<CareTask> = {};
  if (input.title !== undefined) changes.title = input.title;
  if (input.notes !== undefined) changes.notes = input.notes;
  if (input.startsAt !== undefined || input.rrule !== undefined) {
    const startsAt = input.startsAt ?? current.startsAt;
    const rrule = input.rrule === undefined ? current.rrule : input.rrule;
    const recurrence = recurrenceOf({ startsAt, rrule }, await siteTimeZone(db, siteId));
    const next = recurrence ? firstOccurrence(recurrence, startsAt, now) : startsAt;
    Object.assign(changes, { startsAt, rrule, occurrenceAt: next, dueAt: next, finishedAt: next ? null : now });
  }
  if (Object.keys(changes).length === 0) return current;
  const [task] = await db.update(careTasks).set(changes).where(eq(careTasks.id, current.id)).returning();
  return task!;
}

export async function deleteCareTask(db: Db, siteId: string, taskId: string): Promise<void> {
  const task = await requireTask(db, siteId, taskId);
  await db.delete(careTasks).where(eq(careTasks.id, task.id));
}

export async function getCareTask(db: Db, siteId: string, taskId: string) {
  const task = await requireTask(db, siteId, taskId);
  const history = await db
    .select()
    .from(careTaskEvents)
    .where(eq(careTaskEvents.taskId, task.id))
    .orderBy(desc(careTaskEvents.at), desc(careTaskEvents.occurrenceAt), desc(careTaskEvents.id))
    .limit(100);
  return { ...task, history };
}

export async function listCareTasks(
  db: Db,
  siteId: string,
  input: { plantId?: string | undefined; state: "open" | "done" | "all"; cursor?: string | undefined; limit: number },
) {
  if (input.plantId) await requirePlant(db, siteId, input.plantId);
  const keys = keysetOf(careTasks.createdAt, careTasks.id);
  const conditions: (SQL | undefined)[] = [eq(careTasks.siteId, siteId), afterCursor(keys, input.cursor, "asc")];
  if (input.plantId) conditions.push(eq(careTasks.plantId, input.plantId));
  if (input.state === "open") conditions.push(isNull(careTasks.finishedAt));
  if (input.state === "done") conditions.push(isNotNull(careTasks.finishedAt));
  const rows = await db
    .select()
    .from(careTasks)
    .where(and(...conditions))
    .orderBy(...orderBy(keys, "asc"))
    .limit(input.limit + 1);
  return pageOf(rows, input.limit, (r) => ({ at: r.createdAt, id: r.id }));
}

export interface Occurrence {
  taskId: string;
  plantId: string;
  plantName: string;
  kind: Kind;
  title: string;
  /** When it is due (a snoozed occurrence: when the snooze ends). */
  at: Date;
  /** The occurrence as the schedule has it. */
  occurrenceAt: Date;
  /** The occurrence waiting now (complete, skip and snooze act on it), not a later one. */
  current: boolean;
  snoozed: boolean;
  overdue: boolean;
}

/** The calendar: every occurrence of the site's open tasks due in [from, to), in time order. */
export async function upcomingOccurrences(
  db: Db,
  siteId: string,
  input: { from: Date; to: Date; plantId?: string | undefined; limit: number },
  now: Date,
): Promise<{ items: Occurrence[]; truncated: boolean }> {
  if (input.plantId) await requirePlant(db, siteId, input.plantId);
  const timeZone = await siteTimeZone(db, siteId);
  const conditions: (SQL | undefined)[] = [
    eq(careTasks.siteId, siteId),
    isNull(careTasks.finishedAt),
    isNull(plants.archivedAt),
    // Tasks whose waiting occurrence is due before the range's end, or recurring ones (later occurrences).
    or(lt(careTasks.dueAt, input.to), isNotNull(careTasks.rrule)),
  ];
  if (input.plantId) conditions.push(eq(careTasks.plantId, input.plantId));
  const rows = await db
    .select({ task: careTasks, plantName: plants.name })
    .from(careTasks)
    .innerJoin(plants, eq(plants.id, careTasks.plantId))
    .where(and(...conditions));
  const items: Occurrence[] = [];
  for (const { task, plantName } of rows) {
    const base = { taskId: task.id, plantId: task.plantId, plantName, kind: task.kind, title: task.title };
    const occurrenceAt = task.occurrenceAt!;
    const dueAt = task.dueAt!;
    if (dueAt >= input.from && dueAt < input.to) {
      items.push({ ...base, at: dueAt, occurrenceAt, current: true, snoozed: dueAt.getTime() !== occurrenceAt.getTime(), overdue: dueAt < now });
    }
    const recurrence = recurrenceOf(task, timeZone);
    if (!recurrence) continue;
    for (const at of recurrence.between(input.from, input.to, input.limit + 1)) {
      if (at <= occurrenceAt) continue;
      items.push({ ...base, at, occurrenceAt: at, current: false, snoozed: false, overdue: at < now });
    }
  }
  items.sort((a, b) => a.at.getTime() - b.at.getTime() || a.taskId.localeCompare(b.taskId));
  return { items: items.slice(0, input.limit), truncated: items.length > input.limit };
}

/**
 * Completes or skips the waiting occurrence. Guarded by the occurrence it acted on, so a double
 * tap cannot complete two occurrences. Completing a water task also records the watering.
 */
async function closeOccurrence(
  db: Db,
  siteId: string,
  input: { taskId: string; note?: string | null | undefined; volumeMl?: number | undefined },
  action: "completed" | "skipped",
  actor: { userId: string; now: Date },
) {
  const task = await requireTask(db, siteId, input.taskId);
  if (!task.occurrenceAt || task.finishedAt) throw new AppError("CONFLICT", "the task is already finished", { path: "taskId" });
  const occurrenceAt = task.occurrenceAt;
  const recurrence = recurrenceOf(task, await siteTimeZone(db, siteId));
  const from = occurrenceAt > actor.now ? occurrenceAt : actor.now;
  const next = recurrence ? recurrence.after(from) : null;
  return db.transaction(async (tx) => {
    const [updated] = await tx
      .update(careTasks)
      .set({ occurrenceAt: next, dueAt: next, finishedAt: next ? null : actor.now })
      .where(and(eq(careTasks.id, task.id), eq(careTasks.occurrenceAt, occurrenceAt)))
      .returning();
    if (!updated) throw new AppError("CONFLICT", "this occurrence was already completed or skipped", { path: "taskId" });
    await tx.insert(careTaskEvents).values({ taskId: task.id, action, occurrenceAt, note: input.note ?? null, by: actor.userId, at: actor.now });
    const watering =
      action === "completed" && task.kind === "water"
        ? await recordWatering(
            tx as unknown as Db,
            siteId,
            { plantId: task.plantId, source: "scheduled", status: "completed", volumeMl: input.volumeMl ?? null, notes: input.note ?? null, careTaskId: task.id },
            actor,
          )
        : null;
    return { task: updated, completedOccurrenceAt: occurrenceAt, nextOccurrenceAt: next, wateringId: watering?.id ?? null };
  });
}

export const completeCareTask = (db: Db, siteId: string, input: { taskId: string; note?: string | null | undefined; volumeMl?: number | undefined }, actor: { userId: string; now: Date }) =>
  closeOccurrence(db, siteId, input, "completed", actor);

export const skipCareTask = (db: Db, siteId: string, input: { taskId: string; note?: string | null | undefined }, actor: { userId: string; now: Date }) =>
  closeOccurrence(db, siteId, input, "skipped", actor);

/** Moves the waiting occurrence's due time later; the schedule itself is unchanged. */
export async function snoozeCareTask(db: Db, siteId: string, input: { taskId: string; until: Date }, actor: { userId: string; now: Date }): Promise<CareTask> {
  const task = await requireTask(db, siteId, input.taskId);
  if (!task.occurrenceAt || task.finishedAt) throw new AppError("CONFLICT", "the task is already finished", { path: "taskId" });
  if (input.until <= actor.now) throw new AppError("BAD_REQUEST", "must be in the future", { path: "until" });
  return db.transaction(async (tx) => {
    const [updated] = await tx
      .update(careTasks)
      .set({ dueAt: input.until })
      .where(and(eq(careTasks.id, task.id), eq(careTasks.occurrenceAt, task.occurrenceAt!)))
      .returning();
    if (!updated) throw new AppError("CONFLICT", "this occurrence was already completed or skipped", { path: "taskId" });
    await tx.insert(careTaskEvents).values({ taskId: task.id, action: "snoozed", occurrenceAt: task.occurrenceAt!, snoozedUntil: input.until, by: actor.userId, at: actor.now });
    return updated;
  });
}
