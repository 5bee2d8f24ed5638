import { and, eq, gt, inArray, ne, sql, sum } from "drizzle-orm";
import type { Db } from "../../db/client";
import { wateringSafety, waterings } from "../../db/schema";
import { fromWallClock, toWallClock } from "../../shared/zoned-time";
import { requirePlant } from "../sites";
import { writeLog } from "../rules";

/**
 * Safe watering per plant: the limits every automatic (rule) or scheduled pump command must pass —
 * not paused, past the cooldown since the last watering, within the daily volume cap — and the
 * settings of the moisture-rise check and of detected waterings. The pump's own maximum run
 * time travels with every command (commands.ts), so the device stops even if the network dies.
 */

export type SafetyRow = typeof wateringSafety.$inferSelect;

export const SAFETY_DEFAULTS = {
  cooldownMinutes: 240,
  dailyVolumeCapMl: 1000 as number | null,
  riseWindowMinutes: 30,
  minRise: 2,
  detectJump: 8,
};

export function safetyView(plantId: string, row: SafetyRow | undefined) {
  return {
    plantId,
    cooldownMinutes: row?.cooldownMinutes ?? SAFETY_DEFAULTS.cooldownMinutes,
    dailyVolumeCapMl: row ? row.dailyVolumeCapMl : SAFETY_DEFAULTS.dailyVolumeCapMl,
    riseWindowMinutes: row?.riseWindowMinutes ?? SAFETY_DEFAULTS.riseWindowMinutes,
    minRise: row?.minRise ?? SAFETY_DEFAULTS.minRise,
    detectJump: row?.detectJump ?? SAFETY_DEFAULTS.detectJump,
    autoWateringPaused: row?.autoWateringPaused ?? false,
    pausedReason: row?.pausedReason ?? null,
    pausedAt: row?.pausedAt ?? null,
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

export async function getSafety(db: Db, siteId: string, plantId: string): Promise<SafetySettings> {
  await requirePlant(db, siteId, plantId);
  return safetyView(plantId, await rowOf(db, plantId));
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
  return getSafety(db, siteId, plantId);
}

/** A person looked at the plant (refilled the reservoir, moved the sensor): automatic watering may run again. */
export async function resumeWatering(db: Db, siteId: string, plantId: string, actor: { userId: string; now: Date }): Promise<SafetySettings> {
  await requirePlant(db, siteId, plantId);
  const [row] = await db
    .update(wateringSafety)
    .set({ autoWateringPaused: false, pausedReason: null, pausedAt: null, updatedAt: actor.now })
    .where(and(eq(wateringSafety.plantId, plantId), eq(wateringSafety.autoWateringPaused, true)))
    .returning();
  if (row) await writeLog(db, { siteId, plantId, event: "resumed", message: "automatic watering resumed", details: { by: actor.userId } }, actor.now);
  return getSafety(db, siteId, plantId);
}

export async function pauseWatering(db: Db, siteId: string, plantId: string, reason: string, now: Date): Promise<void> {
  await ensureSafetyRow(db, siteId, plantId, now);
  await db
    .update(wateringSafety)
    .set({ autoWateringPaused: true, pausedReason: reason, pausedAt: now, updatedAt: now })
    .where(eq(wateringSafety.plantId, plantId));
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
  const settings = safetyView(plantId, await rowOf(tx, plantId, true));
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
