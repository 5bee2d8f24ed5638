import { and, eq, gt, inArray, isNotNull, lte, ne, sql, sum } from "drizzle-orm";
import type { Db } from "../../db/client";
import { wateringSafety, waterings } from "../../db/schema";
import { fromWallClock, toWallClock } from "../../shared/zoned-time";
import { badInput } from "../platform";
import { requirePlant } from "../sites";
import { writeLog } from "../rules";

/**
 * Safe watering per plant: the limits every automatic (rule) or scheduled pump command must pass —
 * not paused, past the cooldown since the last watering, within the daily volume cap — and the
 * settings of the moisture-rise check and of detected waterings. The pump's own maximum run
 * time travels with every command (commands.ts), so the device stops even if the network dies.
 *
 * Automatic watering is paused by the engine (moisture did not rise after a watering: until a
 * person resumes it) or by a person (with a reason, and optionally until when: a pause whose end
 * has passed no longer holds, and the engine's tick lifts it and logs that).
 */

export type SafetyRow = typeof wateringSafety.$inferSelect;

export const SAFETY_DEFAULTS = {
  cooldownMinutes: 240,
  dailyVolumeCapMl: 1000 as number | null,
  riseWindowMinutes: 30,
  minRise: 2,
  detectJump: 8,
};

/** Whether a row's pause holds at `now` (one with an end that has passed does not). */
export function pauseHolds(row: Pick<SafetyRow, "autoWateringPaused" | "pausedUntil"> | undefined, now: Date | undefined): boolean {
  if (!row?.autoWateringPaused) return false;
  return !(now && row.pausedUntil && row.pausedUntil <= now);
}

/** A plant's settings; with `now`, a pause whose end has passed shows as lifted. */
export function safetyView(plantId: string, row: SafetyRow | undefined, now?: Date) {
  const paused = row ? (now ? pauseHolds(row, now) : row.autoWateringPaused) : false;
  return {
    plantId,
    cooldownMinutes: row?.cooldownMinutes ?? SAFETY_DEFAULTS.cooldownMinutes,
    dailyVolumeCapMl: row ? row.dailyVolumeCapMl : SAFETY_DEFAULTS.dailyVolumeCapMl,
    riseWindowMinutes: row?.riseWindowMinutes ?? SAFETY_DEFAULTS.riseWindowMinutes,
    minRise: row?.minRise ?? SAFETY_DEFAULTS.minRise,
    detectJump: row?.detectJump ?? SAFETY_DEFAULTS.detectJump,
    autoWateringPaused: paused,
    pausedReason: paused ? (row?.pausedReason ?? null) : null,
    pausedAt: paused ? (row?.pausedAt ?? null) : null,
    /** Who paused it: a person, or the engine (pauses from before this was recorded were the engine's). */
    pausedBy: paused ? (row?.pausedBy ?? "engine") : null,
    pausedByUserId: paused ? (row?.pausedByUser ?? null) : null,
    /** When a person's pause lifts by itself; null: until resumed. */
    pausedUntil: paused ? (row?.pausedUntil ?? null) : null,
  };
}
export type SafetySettings = ReturnType<typeof safetyView>;

/** The plant's row, created with the defaults if it has none. */
export async function ensureSafetyRow(db: Db, siteId: string, plantId: string, now: Date): Promise<void> {
  await db
    .insert(wateringSafety)
    .values({
      plantId,
      siteId,
      cooldownMinutes: SAFETY_DEFAULTS.cooldownMinutes,
      dailyVolumeCapMl: SAFETY_DEFAULTS.dailyVolumeCapMl,
      riseWindowMinutes: SAFETY_DEFAULTS.riseWindowMinutes,
      minRise: SAFETY_DEFAULTS.minRise,
      detectJump: SAFETY_DEFAULTS.detectJump,
      updatedAt: now,
    })
    .onConflictDoNothing();
}

async function rowOf(db: Db, plantId: string, forUpdate = false): Promise<SafetyRow | undefined> {
  const query = db.select().from(wateringSafety).where(eq(wateringSafety.plantId, plantId));
  const [row] = forUpdate ? await query.for("update") : await query;
  return row;
}

/** A plant's settings (the defaults where it has none), for callers that checked the plant's site already. */
export async function safetyOf(db: Db, plantId: string): Promise<SafetySettings> {
  return safetyView(plantId, await rowOf(db, plantId));
}

export async function getSafety(db: Db, siteId: string, plantId: string, now?: Date): Promise<SafetySettings> {
  await requirePlant(db, siteId, plantId);
  return safetyView(plantId, await rowOf(db, plantId), now);
}

/** The safety rows of these plants (plants without one have the defaults and are not paused). */
export async function safetyRowsOf(db: Db, plantIds: string[]): Promise<Map<string, SafetyRow>> {
  if (plantIds.length === 0) return new Map();
  const rows = await db.select().from(wateringSafety).where(inArray(wateringSafety.plantId, plantIds));
  return new Map(rows.map((r) => [r.plantId, r]));
}

export async function updateSafety(
  db: Db,
  siteId: string,
  input: { plantId: string; cooldownMinutes?: number | undefined; dailyVolumeCapMl?: number | null | undefined; riseWindowMinutes?: number | undefined; minRise?: number | undefined; detectJump?: number | undefined },
  now: Date,
): Promise<SafetySettings> {
  await requirePlant(db, siteId, input.plantId);
  const { plantId, ...fields } = input;
  const changes = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
  await ensureSafetyRow(db, siteId, plantId, now);
  await db
    .update(wateringSafety)
    .set({ ...changes, updatedAt: now })
    .where(eq(wateringSafety.plantId, plantId));
  return getSafety(db, siteId, plantId, now);
}

/** A person looked at the plant (refilled the reservoir, moved the sensor): automatic watering may run again. */
export async function resumeWatering(db: Db, siteId: string, plantId: string, actor: { userId: string; now: Date }): Promise<SafetySettings> {
  await requirePlant(db, siteId, plantId);
  const [row] = await db
    .update(wateringSafety)
    .set({ ...NOT_PAUSED, updatedAt: actor.now })
    .where(and(eq(wateringSafety.plantId, plantId), eq(wateringSafety.autoWateringPaused, true)))
    .returning();
  if (row) await writeLog(db, { siteId, plantId, event: "resumed", message: "automatic watering resumed", details: { by: actor.userId } }, actor.now);
  return getSafety(db, siteId, plantId, actor.now);
}

const NOT_PAUSED = { autoWateringPaused: false, pausedReason: null, pausedAt: null, pausedBy: null, pausedByUser: null, pausedUntil: null } as const;

/** The engine's pause (watering did not raise soil moisture): it holds until a person resumes. */
export async function pauseWatering(db: Db, siteId: string, plantId: string, reason: string, now: Date): Promise<void> {
  await ensureSafetyRow(db, siteId, plantId, now);
  await db
    .update(wateringSafety)
    .set({ autoWateringPaused: true, pausedReason: reason, pausedAt: now, pausedBy: "engine", pausedByUser: null, pausedUntil: null, updatedAt: now })
    .where(eq(wateringSafety.plantId, plantId));
}

/**
 * A person pauses automatic watering of a plant (holiday, repotting, a leaking pot): why, and
 * optionally until when. It replaces any pause in force, the engine's included: the person decided.
 */
export async function pauseWateringByUser(
  db: Db,
  siteId: string,
  input: { plantId: string; reason: string; until?: Date | undefined },
  actor: { userId: string; now: Date },
): Promise<SafetySettings> {
  await requirePlant(db, siteId, input.plantId, { active: true });
  if (input.until && input.until <= actor.now) throw badInput("until", "must be in the future");
  await ensureSafetyRow(db, siteId, input.plantId, actor.now);
  await db
    .update(wateringSafety)
    .set({
      autoWateringPaused: true,
      pausedReason: input.reason,
      pausedAt: actor.now,
      pausedBy: "user",
      pausedByUser: actor.userId,
      pausedUntil: input.until ?? null,
      updatedAt: actor.now,
    })
    .where(eq(wateringSafety.plantId, input.plantId));
  await writeLog(
    db,
    {
      siteId,
      plantId: input.plantId,
      event: "paused",
      message: `automatic watering paused by a person: ${input.reason}${input.until ? ` (until ${input.until.toISOString()})` : ""}`,
      details: { by: actor.userId, until: input.until?.toISOString() ?? null },
    },
    actor.now,
  );
  return getSafety(db, siteId, input.plantId, actor.now);
}

/** Pauses whose end has passed are lifted (once, whichever server's tick gets there first) and logged. */
export async function expirePauses(db: Db, now: Date): Promise<number> {
  const lifted = await db
    .update(wateringSafety)
    .set({ ...NOT_PAUSED, updatedAt: now })
    .where(and(eq(wateringSafety.autoWateringPaused, true), isNotNull(wateringSafety.pausedUntil), lte(wateringSafety.pausedUntil, now)))
    .returning({ plantId: wateringSafety.plantId, siteId: wateringSafety.siteId });
  for (const { plantId, siteId } of lifted) {
    await writeLog(db, { siteId, plantId, event: "resumed", message: "automatic watering resumed: the pause ran out", details: { by: null } }, now);
  }
  return lifted.length;
}

/** Midnight of the site's calendar day containing `now`, as an instant. */
export function startOfLocalDay(now: Date, timeZone: string): Date {
  const wall = toWallClock(now, timeZone);
  const midnight = new Date(Date.UTC(wall.getUTCFullYear(), wall.getUTCMonth(), wall.getUTCDate()));
  return fromWallClock(midnight, timeZone);
}

/**
 * Whether an automatic watering of `volumeMl` may start now; call inside the transaction that
 * queues it: the plant's safety row is locked, so concurrent evaluations (on any server) decide
 * one after the other and see each other's waterings.
 */
export async function wateringAllowed(
  tx: Db,
  siteId: string,
  plantId: string,
  volumeMl: number | null,
  now: Date,
  timeZone: string,
): Promise<{ ok: true; settings: SafetySettings } | { ok: false; reason: string; settings: SafetySettings }> {
  await ensureSafetyRow(tx, siteId, plantId, now);
  const settings = safetyView(plantId, await rowOf(tx, plantId, true), now);
  if (settings.autoWateringPaused) return { ok: false, reason: `automatic watering is paused: ${settings.pausedReason ?? "paused"}`, settings };
  const live = and(eq(waterings.plantId, plantId), ne(waterings.status, "failed"));
  if (settings.cooldownMinutes > 0) {
    const since = new Date(now.getTime() - settings.cooldownMinutes * 60_000);
    const [recent] = await tx
      .select({ startedAt: waterings.startedAt })
      .from(waterings)
      .where(and(live, gt(waterings.startedAt, since)))
      .limit(1);
    if (recent) return { ok: false, reason: `cooldown: watered at ${recent.startedAt.toISOString()}, within ${settings.cooldownMinutes} min`, settings };
  }
  if (settings.dailyVolumeCapMl !== null) {
    if (volumeMl === null) return { ok: false, reason: "the volume is unknown (pump without flow rate) and the plant has a daily cap", settings };
    const dayStart = startOfLocalDay(now, timeZone);
    const [row] = await tx
      .select({ total: sum(waterings.volumeMl) })
      .from(waterings)
      .where(and(live, inArray(waterings.source, ["automatic", "scheduled"]), sql`${waterings.startedAt} >= ${dayStart.toISOString()}::timestamptz`));
    const used = Number(row?.total ?? 0);
    if (used + volumeMl > settings.dailyVolumeCapMl) {
      return { ok: false, reason: `daily cap: ${used} ml of ${settings.dailyVolumeCapMl} ml used today, ${volumeMl} ml more would exceed it`, settings };
    }
  }
  return { ok: true, settings };
}
