import { and, desc, eq, isNull } from "drizzle-orm";
import type { Db } from "../../db/client";
import { plants, sensorAssignments, sensorMetricPeriods, sensors } from "../../db/schema";

/**
 * A sensor's history: which plant it measured when (`sensor_assignments`, the open row being the
 * current assignment) and what it measured before its current metric (`sensor_metric_periods`).
 * The writes here run inside the transaction that changes the sensor row, so the history and
 * `sensors.plant_id` / `sensors.metric` never disagree. Analytics read a sensor's readings only
 * inside these intervals (server/analytics/windows.ts).
 */

type Tx = Db;
type SensorRow = typeof sensors.$inferSelect;

/**
 * Ends the sensor's current assignment at `now` and, with a plant, opens the next one from `now`.
 * An interval never ends before it started (a clock set back would otherwise break it): it then
 * ends where it began, holding no readings.
 */
export async function moveAssignment(tx: Tx, sensor: Pick<SensorRow, "id" | "siteId">, plantId: string | null, actor: { userId: string | null; now: Date }) {
  const [open] = await tx
    .select()
    .from(sensorAssignments)
    .where(and(eq(sensorAssignments.sensorId, sensor.id), isNull(sensorAssignments.endedAt)))
    .for("update");
  if (open) {
    const endedAt = open.startedAt > actor.now ? open.startedAt : actor.now;
    await tx.update(sensorAssignments).set({ endedAt, endedBy: actor.userId }).where(eq(sensorAssignments.id, open.id));
  }
  if (plantId) {
    await tx.insert(sensorAssignments).values({ siteId: sensor.siteId, sensorId: sensor.id, plantId, startedAt: actor.now, assignedBy: actor.userId });
  }
}

/**
 * Closes the sensor's current (metric, unit) as a period ending at `now`, before the sensor row
 * takes the new ones: readings taken until now keep the metric they were taken under.
 */
export async function closeMetricPeriod(tx: Tx, sensor: SensorRow, actor: { userId: string | null; now: Date }) {
  const [last] = await tx
    .select({ endedAt: sensorMetricPeriods.endedAt })
    .from(sensorMetricPeriods)
    .where(eq(sensorMetricPeriods.sensorId, sensor.id))
    .orderBy(desc(sensorMetricPeriods.endedAt))
    .limit(1);
  const startedAt = last?.endedAt ?? sensor.createdAt;
  const endedAt = startedAt > actor.now ? startedAt : actor.now;
  await tx.insert(sensorMetricPeriods).values({ siteId: sensor.siteId, sensorId: sensor.id, metric: sensor.metric, unit: sensor.unit, startedAt, endedAt, changedBy: actor.userId });
}

/** Every assignment of a sensor, newest first, with the plant's name. */
export async function assignmentsOfSensor(db: Db, sensorId: string) {
  const rows = await db
    .select({ assignment: sensorAssignments, plantName: plants.name })
    .from(sensorAssignments)
    .innerJoin(plants, eq(plants.id, sensorAssignments.plantId))
    .where(eq(sensorAssignments.sensorId, sensorId))
    .orderBy(desc(sensorAssignments.startedAt), desc(sensorAssignments.id));
  return rows.map(({ assignment: a, plantName }) => ({
    id: a.id,
    plantId: a.plantId,
    plantName,
    from: a.startedAt,
    to: a.endedAt,
    current: a.endedAt === null,
    assignedBy: a.assignedBy,
    endedBy: a.endedBy,
  }));
}

/** What the sensor measured over time, newest first: its current metric, then the earlier ones. */
export async function metricsOfSensor(db: Db, sensor: SensorRow) {
  const past = await db
    .select()
    .from(sensorMetricPeriods)
    .where(eq(sensorMetricPeriods.sensorId, sensor.id))
    .orderBy(desc(sensorMetricPeriods.endedAt), desc(sensorMetricPeriods.id));
  // A period row records who ended it, i.e. who set the metric that followed.
  return [
    { metric: sensor.metric, unit: sensor.unit, from: past[0]?.endedAt ?? sensor.createdAt, to: null as Date | null, current: true, setBy: past[0]?.changedBy ?? null },
    ...past.map((p, i) => ({ metric: p.metric, unit: p.unit, from: p.startedAt, to: p.endedAt as Date | null, current: false, setBy: past[i + 1]?.changedBy ?? null })),
  ];
}
