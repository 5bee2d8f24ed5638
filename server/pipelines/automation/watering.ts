import { and, eq, gte, isNotNull, isNull, lte, ne } from "drizzle-orm";
import type { Clickhouse } from "../../../clickhouse/client";
import type { Db } from "../../../db/client";
import { commands, plants, sensors, wateringChecks, wateringSafety, waterings } from "../../../db/schema";
import type { CommandRequest } from "../../../shared/schemas/commands";
import { raiseAlert } from "../../alerts";
import { queueCommand, type Command } from "../../commands";
import type { Actuator } from "../../devices";
import { ensureSafetyRow, pauseWatering, recordWatering, risesAsWatering, safetyView, wateringAllowed } from "../../watering";
import { writeLog } from "../../rules";
import { latestOf, maxBetween, seriesOf } from "../../../clickhouse/automation";

/**
 * Automatic watering inside the safety envelope, the check that it worked, and waterings nobody
 * commanded. Every step is claimed in Postgres (row locks, conditional updates), so several
 * servers ticking together act once.
 */

/** How long a device may take to pick up an automatic command. */
export const AUTOMATIC_COMMAND_EXPIRY_SECONDS = 300;
export const NO_RISE_ALERT_RULE = "watering.no_rise";

export async function soilSensorsOf(db: Db, plantId: string): Promise<string[]> {
  const rows = await db
    .select({ id: sensors.id })
    .from(sensors)
    .where(and(eq(sensors.plantId, plantId), eq(sensors.metric, "soil_moisture")));
  return rows.map((r) => r.id);
}

export type WaterOutcome = { queued: true; command: Command; created: boolean; moistureBefore: number | null } | { queued: false; reason: string };

/**
 * Queues a pump command for a plant's pump if the plant's limits allow it, with a deterministic
 * idempotency key (a second evaluation of the same firing gets the same command back, never a
 * second watering). Records moisture before in the ledger entry and arms the rise check.
 */
export async function waterSafely(
  db: Db,
  ch: Clickhouse,
  input: {
    siteId: string;
    actuator: Actuator;
    /** The plant's soil sensors: whose moisture is recorded before and checked after. */
    soilSensorIds: string[];
    command: CommandRequest & { action: "pump" };
    idempotencyKey: string;
    source: "automatic" | "scheduled";
    timeZone: string;
  },
  now: Date,
): Promise<WaterOutcome> {
  const { actuator, command } = input;
  const plantId = actuator.plantId;
  if (!plantId) return { queued: false, reason: "the pump is not assigned to a plant, so no watering limits can apply: assign it first" };
  const volumeMl = command.ml ?? (actuator.flowRateMlPerSecond ? command.seconds! * actuator.flowRateMlPerSecond : null);
  const before = await latestOf(ch, input.soilSensorIds);
  return db.transaction(async (txRaw) => {
    const tx = txRaw as unknown as Db;
    // A replay of a firing already handled answers with its command before any limit is judged.
    const [existing] = await tx
      .select()
      .from(commands)
      .where(and(eq(commands.siteId, input.siteId), eq(commands.idempotencyKey, input.idempotencyKey)));
    if (existing) return { queued: true, command: existing, created: false, moistureBefore: null };
    const allowed = await wateringAllowed(tx, input.siteId, plantId, volumeMl, now, input.timeZone);
    if (!allowed.ok) return { queued: false, reason: allowed.reason };
    const queued = await queueCommand(
      tx,
      input.siteId,
      { actuatorId: actuator.id, command, idempotencyKey: input.idempotencyKey, expiresInSeconds: AUTOMATIC_COMMAND_EXPIRY_SECONDS },
      { userId: null, now, wateringSource: input.source },
    );
    if (queued.created) {
      const [entry] = await tx.select({ id: waterings.id }).from(waterings).where(eq(waterings.commandId, queued.command.id));
      if (entry) {
        await tx.update(waterings).set({ moistureBefore: before?.value ?? null }).where(eq(waterings.id, entry.id));
        // Without a reading before, a rise cannot be judged: the check is armed only with one.
        if (before) {
          await tx.insert(wateringChecks).values({
            wateringId: entry.id,
            siteId: input.siteId,
            plantId,
            commandId: queued.command.id,
            moistureBefore: before.value,
            createdAt: now,
          });
        }
      }
    }
    return { queued: true, command: queued.command, created: queued.created, moistureBefore: before?.value ?? null };
  });
}

/**
 * Did soil moisture rise after each automatic watering? A check becomes due when the pump has
 * run (the command succeeded, or was acknowledged and its run time elapsed) plus the plant's
 * window; a rise of at least `minRise` points at any time before settles it early. No rise:
 * automatic watering of the plant is paused and a critical alert raised (dry pump, empty
 * reservoir, misplaced sensor). A command that failed, expired or was cancelled watered nothing.
 */
export async function checkRises(db: Db, ch: Clickhouse, now: Date): Promise<number> {
  const waiting = await db
    .select({ check: wateringChecks, command: commands, safety: wateringSafety, plantName: plants.name })
    .from(wateringChecks)
    .innerJoin(commands, eq(commands.id, wateringChecks.commandId))
    .innerJoin(plants, eq(plants.id, wateringChecks.plantId))
    .leftJoin(wateringSafety, eq(wateringSafety.plantId, wateringChecks.plantId))
    .where(eq(wateringChecks.status, "waiting"));
  let settled = 0;
  for (const { check, command, safety, plantName } of waiting) {
    const settings = safetyView(check.plantId, safety ?? undefined);
    const claim = async (status: "rose" | "did_not_rise" | "command_failed") => {
      const [row] = await db
        .update(wateringChecks)
        .set({ status, checkedAt: now })
        .where(and(eq(wateringChecks.wateringId, check.wateringId), eq(wateringChecks.status, "waiting")))
        .returning();
      if (row) settled++;
      return Boolean(row);
    };
    const base = { siteId: check.siteId, plantId: check.plantId, subject: check.plantId };
    if (["failed", "expired", "cancelled"].includes(command.status)) {
      if (await claim("command_failed")) {
        await writeLog(db, { ...base, event: "failed", message: `watering command ${command.status}: nothing to check`, details: { commandId: command.id } }, now);
      }
      continue;
    }
    const ranAt =
      command.status === "succeeded"
        ? command.finishedAt!.getTime()
        : command.status === "acknowledged" && command.acknowledgedAt
          ? command.acknowledgedAt.getTime() + (command.durationSeconds ?? 0) * 1000
          : null;
    const soil = await soilSensorsOf(db, check.plantId);
    const after = await maxBetween(ch, soil, command.createdAt.getTime(), now.getTime());
    const before = check.moistureBefore ?? 0;
    const rose = after !== null && after - before >= settings.minRise;
    const due = ranAt !== null && now.getTime() >= ranAt + settings.riseWindowMinutes * 60_000;
    if (!rose && !due) continue;
    if (rose) {
      if (await claim("rose")) {
        await db.update(waterings).set({ moistureAfter: after }).where(eq(waterings.id, check.wateringId));
        await writeLog(db, { ...base, event: "action", message: `soil moisture rose from ${before} to ${after} after watering`, details: { commandId: command.id, before, after } }, now);
      }
      continue;
    }
    if (!(await claim("did_not_rise"))) continue;
    const reason = `soil moisture did not rise by ${settings.minRise} within ${settings.riseWindowMinutes} min of watering (before ${before}, highest after ${after ?? "no reading"})`;
    await db.update(waterings).set({ moistureAfter: after }).where(eq(waterings.id, check.wateringId));
    await pauseWatering(db, check.siteId, check.plantId, reason, now);
    await raiseAlert(
      db,
      {
        siteId: check.siteId,
        rule: NO_RISE_ALERT_RULE,
        subject: check.plantId,
        severity: "critical",
        title: `${plantName}: watering did not raise soil moisture; automatic watering paused`,
        message: `${reason}. Check for a dry pump, an empty reservoir or a misplaced sensor, then resume automatic watering.`,
        plantId: check.plantId,
      },
      now,
    );
    await writeLog(db, { ...base, event: "paused", message: `automatic watering paused: ${reason}`, details: { commandId: command.id, before, after } }, now);
  }
  return settled;
}

/** Readings this far apart are not treated as one jump (a sensor back after a long gap). */
const MAX_JUMP_GAP_MS = 60 * 60_000;
/** A watering of ours (or a person's entry) this close to a jump explains it. */
const EXPLAINED_BEFORE_MS = 60 * 60_000;
const EXPLAINED_AFTER_MS = 10 * 60_000;
/** The first scan of a plant looks back this far, not into all its history. */
const FIRST_SCAN_MS = 60 * 60_000;

/**
 * Waterings not commanded by us: a rise of at least `detectJump` points between two consecutive
 * soil readings of a plant, with no watering in the ledger around it, is recorded as source
 * "detected" (moisture before and after). Each plant's scan watermark is advanced with a
 * conditional update, so one server scans each stretch of readings.
 */
export async function detectWaterings(db: Db, ch: Clickhouse, siteId: string, now: Date): Promise<number> {
  const plantRows = await db
    .selectDistinct({ plantId: sensors.plantId })
    .from(sensors)
    .innerJoin(plants, eq(plants.id, sensors.plantId))
    .where(and(eq(sensors.siteId, siteId), eq(sensors.metric, "soil_moisture"), isNotNull(sensors.plantId), isNull(plants.archivedAt)));
  let detected = 0;
  for (const { plantId } of plantRows) {
    await ensureSafetyRow(db, siteId, plantId!, now);
    const [row] = await db.select().from(wateringSafety).where(eq(wateringSafety.plantId, plantId!));
    const from = row!.detectionScannedUntil ?? new Date(now.getTime() - FIRST_SCAN_MS);
    if (from >= now) continue;
    const [claimed] = await db
      .update(wateringSafety)
      .set({ detectionScannedUntil: now })
      .where(
        and(
          eq(wateringSafety.plantId, plantId!),
          row!.detectionScannedUntil ? eq(wateringSafety.detectionScannedUntil, row!.detectionScannedUntil) : isNull(wateringSafety.detectionScannedUntil),
        ),
      )
      .returning();
    if (!claimed) continue;
    for (const sensorId of await soilSensorsOf(db, plantId!)) {
      // One reading before the stretch, so a jump across its start is seen.
      const series = await seriesOf(ch, sensorId, from.getTime() - MAX_JUMP_GAP_MS, now.getTime());
      for (let i = 1; i < series.length; i++) {
        const prev = series[i - 1]!;
        const cur = series[i]!;
        if (cur.at <= from.getTime() || cur.at - prev.at > MAX_JUMP_GAP_MS || !risesAsWatering(prev.value, cur.value, row!.detectJump)) continue;
        const [explained] = await db
          .select({ id: waterings.id })
          .from(waterings)
          .where(
            and(
              eq(waterings.plantId, plantId!),
              ne(waterings.status, "failed"),
              gte(waterings.startedAt, new Date(prev.at - EXPLAINED_BEFORE_MS)),
              lte(waterings.startedAt, new Date(cur.at + EXPLAINED_AFTER_MS)),
            ),
          )
          .limit(1);
        if (explained) continue;
        await recordWatering(
          db,
          siteId,
          { plantId: plantId!, source: "detected", status: "completed", startedAt: new Date(cur.at), moistureBefore: prev.value, moistureAfter: cur.value, notes: "detected from a soil moisture jump" },
          { userId: null, now },
        );
        await writeLog(
          db,
          { siteId, plantId, subject: sensorId, event: "detected", message: `watering detected: soil moisture jumped from ${prev.value} to ${cur.value}`, details: { sensorId, at: cur.at } },
          now,
        );
        detected++;
      }
    }
  }
  return detected;
}
