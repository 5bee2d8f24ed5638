import { and, eq, gte, inArray, lte, max, type SQL } from "drizzle-orm";
import type { Db } from "../../db/client";
import { plants, species, waterings } from "../../db/schema";
import type { WateringStatus } from "../../shared/schemas/care";
import type { CommandStatus } from "../../shared/schemas/commands";
import { afterCursor, AppError, badInput, keysetOf, orderBy, pageOf } from "../platform";
import { requirePlant } from "../sites";

/**
 * The watering ledger: one history of waterings per plant, whatever did the watering (a person,
 * a schedule, the automation, or a moisture jump the sensors detected). "Last watered" is the
 * latest completed entry; "next due" adds the plant's (or its species') interval to it.
 */

export type Watering = typeof waterings.$inferSelect;
type Source = Watering["source"];

const FINAL: WateringStatus[] = ["completed", "failed"];
const NEXT: Record<WateringStatus, WateringStatus[]> = {
  pending: ["in_progress", "completed", "failed"],
  in_progress: ["completed", "failed"],
  completed: [],
  failed: [],
};
/** Devices' clocks and people's entries may run a little ahead; more than this is a mistake. */
const FUTURE_TOLERANCE_MS = 5 * 60_000;

export interface RecordWatering {
  plantId: string;
  source: Source;
  status: WateringStatus;
  startedAt?: Date | undefined;
  volumeMl?: number | null | undefined;
  durationSeconds?: number | null | undefined;
  moistureBefore?: number | null | undefined;
  moistureAfter?: number | null | undefined;
  notes?: string | null | undefined;
  commandId?: string | undefined;
  careTaskId?: string | undefined;
}

export async function recordWatering(db: Db, siteId: string, input: RecordWatering, actor: { userId: string | null; now: Date }): Promise<Watering> {
  await requirePlant(db, siteId, input.plantId, { active: true });
  const startedAt = input.startedAt ?? actor.now;
  if (startedAt.getTime() > actor.now.getTime() + FUTURE_TOLERANCE_MS) throw badInput("startedAt", "must not be in the future");
  const finishedAt = FINAL.includes(input.status)
    ? input.durationSeconds
      ? new Date(startedAt.getTime() + input.durationSeconds * 1000)
      : startedAt
    : null;
  const [row] = await db
    .insert(waterings)
    .values({
      siteId,
      plantId: input.plantId,
      source: input.source,
      status: input.status,
      startedAt,
      finishedAt,
      volumeMl: input.volumeMl ?? null,
      durationSeconds: input.durationSeconds ?? null,
      moistureBefore: input.moistureBefore ?? null,
      moistureAfter: input.moistureAfter ?? null,
      notes: input.notes ?? null,
      commandId: input.commandId ?? null,
      careTaskId: input.careTaskId ?? null,
      createdBy: actor.userId,
      createdAt: actor.now,
    })
    .returning();
  return row!;
}

export async function updateWatering(
  db: Db,
  siteId: string,
  input: { wateringId: string; status?: WateringStatus | undefined } & Partial<Record<"volumeMl" | "durationSeconds" | "moistureBefore" | "moistureAfter", number | null>> & {
      notes?: string | null | undefined;
    },
  now: Date,
): Promise<Watering> {
  const [current] = await db
    .select()
    .from(waterings)
    .where(and(eq(waterings.id, input.wateringId), eq(waterings.siteId, siteId)));
  if (!current) throw new AppError("NOT_FOUND", "watering not found", { path: "wateringId" });
  const { wateringId: _, status, ...fields } = input;
  const changes: Partial<Watering> = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
  if (status && status !== current.status) {
    if (!NEXT[current.status].includes(status)) {
      throw new AppError("CONFLICT", `a ${current.status} watering cannot become ${status}`, { path: "status" });
    }
    changes.status = status;
    if (FINAL.includes(status)) changes.finishedAt = now;
  }
  if (Object.keys(changes).length === 0) return current;
  const [row] = await db.update(waterings).set(changes).where(eq(waterings.id, current.id)).returning();
  return row!;
}

export async function listWaterings(db: Db, siteId: string, input: { plantId?: string | undefined; cursor?: string | undefined; limit: number }) {
  if (input.plantId) await requirePlant(db, siteId, input.plantId);
  const keys = keysetOf(waterings.startedAt, waterings.id);
  const conditions: (SQL | undefined)[] = [eq(waterings.siteId, siteId), afterCursor(keys, input.cursor, "desc")];
  if (input.plantId) conditions.push(eq(waterings.plantId, input.plantId));
  const rows = await db
    .select()
    .from(waterings)
    .where(and(...conditions))
    .orderBy(...orderBy(keys, "desc"))
    .limit(input.limit + 1);
  return pageOf(rows, input.limit, (r) => ({ at: r.startedAt, id: r.id }));
}

/**
 * What counts as a watering, in one place: a completed entry of the ledger (manual, scheduled,
 * automatic or detected), or — between two soil readings where the ledger has none yet — a rise of
 * at least the plant's detection jump (watering safety's `detectJump`), the same rule by which the
 * automation records detected waterings.
 */
export function risesAsWatering(before: number, after: number, detectJump: number): boolean {
  return after - before >= detectJump;
}

/** When the plant was last watered (a completed ledger entry) in [from, to], or null. */
export async function lastWateredBetween(db: Db, plantId: string, from: Date, to: Date): Promise<Date | null> {
  const [row] = await db
    .select({ at: max(waterings.startedAt) })
    .from(waterings)
    .where(and(eq(waterings.plantId, plantId), eq(waterings.status, "completed"), gte(waterings.startedAt, from), lte(waterings.startedAt, to)));
  return row?.at ?? null;
}

export interface WateringSummary {
  lastWateredAt: Date | null;
  intervalDays: number | null;
  intervalSource: "plant" | "species" | "none";
  nextDueAt: Date | null;
}

/** "Last watered" and "next due" for several plants of a site in one query. */
export async function wateringSummaries(db: Db, siteId: string, plantIds: string[]): Promise<Map<string, WateringSummary>> {
  const result = new Map<string, WateringSummary>();
  if (plantIds.length === 0) return result;
  const intervals = await db
    .select({ id: plants.id, plantInterval: plants.wateringIntervalDays, speciesInterval: species.wateringIntervalDays })
    .from(plants)
    .leftJoin(species, eq(species.id, plants.speciesId))
    .where(and(eq(plants.siteId, siteId), inArray(plants.id, plantIds)));
  const last = await db
    .select({ plantId: waterings.plantId, at: max(waterings.startedAt) })
    .from(waterings)
    .where(and(eq(waterings.siteId, siteId), inArray(waterings.plantId, plantIds), eq(waterings.status, "completed")))
    .groupBy(waterings.plantId);
  const lastByPlant = new Map(last.map((r) => [r.plantId, r.at ? new Date(r.at) : null]));
  for (const p of intervals) {
    const intervalDays = p.plantInterval ?? p.speciesInterval ?? null;
    const lastWateredAt = lastByPlant.get(p.id) ?? null;
    result.set(p.id, {
      lastWateredAt,
      intervalDays,
      intervalSource: p.plantInterval !== null ? "plant" : p.speciesInterval !== null ? "species" : "none",
      nextDueAt: lastWateredAt && intervalDays ? new Date(lastWateredAt.getTime() + intervalDays * 86_400_000) : null,
    });
  }
  return result;
}

export async function wateringSummary(db: Db, siteId: string, plantId: string, now: Date) {
  await requirePlant(db, siteId, plantId);
  const summary = (await wateringSummaries(db, siteId, [plantId])).get(plantId)!;
  return { plantId, ...summary, overdue: summary.nextDueAt !== null && summary.nextDueAt <= now };
}

/** Keeps a pump command's ledger entry in step with the command (runs in the command's transaction). */
export async function followCommand(db: Db, commandId: string, status: CommandStatus, now: Date, detail?: string): Promise<void> {
  const next: WateringStatus | undefined =
    status === "acknowledged" ? "in_progress" : status === "succeeded" ? "completed" : ["failed", "expired", "cancelled"].includes(status) ? "failed" : undefined;
  if (!next) return;
  const [entry] = await db.select().from(waterings).where(eq(waterings.commandId, commandId));
  if (!entry || entry.status === next || !NEXT[entry.status].includes(next)) return;
  await db
    .update(waterings)
    .set({
      status: next,
      ...(FINAL.includes(next) ? { finishedAt: now } : {}),
      ...(next === "failed" ? { notes: [entry.notes, `command ${status}${detail ? `: ${detail}` : ""}`].filter(Boolean).join("; ") } : {}),
    })
    .where(eq(waterings.id, entry.id));
}
