import { and, eq, type SQL } from "drizzle-orm";
import type { Db } from "../../db/client";
import { actuators } from "../../db/schema";
import type { ActuatorKind } from "../../shared/schemas/hardware";
import { afterCursor, AppError, keysetOf, orderBy, pageOf } from "../platform";
import { requirePlant } from "../sites";
import { requireDevice } from "./devices";

/** Outputs of a device: pumps (flow rate, max run time), lamps and relays. */

export type Actuator = typeof actuators.$inferSelect;

/** Pumps without a configured limit still stop by themselves after this long. */
export const DEFAULT_PUMP_MAX_RUN_SECONDS = 60;

export async function requireActuator(db: Db, siteId: string, actuatorId: string): Promise<Actuator> {
  const [row] = await db
    .select()
    .from(actuators)
    .where(and(eq(actuators.id, actuatorId), eq(actuators.siteId, siteId)));
  if (!row) throw new AppError("NOT_FOUND", "actuator not found", { path: "actuatorId" });
  return row;
}

export async function listActuators(db: Db, siteId: string, input: { deviceId?: string | undefined; plantId?: string | undefined; cursor?: string | undefined; limit: number }) {
  if (input.deviceId) await requireDevice(db, siteId, input.deviceId);
  if (input.plantId) await requirePlant(db, siteId, input.plantId);
  const keys = keysetOf(actuators.createdAt, actuators.id);
  const conditions: (SQL | undefined)[] = [eq(actuators.siteId, siteId), afterCursor(keys, input.cursor, "asc")];
  if (input.deviceId) conditions.push(eq(actuators.deviceId, input.deviceId));
  if (input.plantId) conditions.push(eq(actuators.plantId, input.plantId));
  const rows = await db
    .select()
    .from(actuators)
    .where(and(...conditions))
    .orderBy(...orderBy(keys, "asc"))
    .limit(input.limit + 1);
  return pageOf(rows, input.limit, (r) => ({ at: r.createdAt, id: r.id }));
}

export async function createActuator(
  db: Db,
  siteId: string,
  input: {
    deviceId: string;
    key: string;
    kind: ActuatorKind;
    name?: string | null | undefined;
    plantId?: string | null | undefined;
    flowRateMlPerSecond?: number | null | undefined;
    maxRunSeconds?: number | undefined;
  },
  now: Date,
): Promise<Actuator> {
  await requireDevice(db, siteId, input.deviceId);
  if (input.plantId) await requirePlant(db, siteId, input.plantId, { active: true });
  const isPump = input.kind === "pump";
  if (!isPump && (input.flowRateMlPerSecond != null || input.maxRunSeconds !== undefined)) {
    throw new AppError("BAD_REQUEST", "only pumps have a flow rate and a maximum run time", {
      path: input.flowRateMlPerSecond != null ? "flowRateMlPerSecond" : "maxRunSeconds",
    });
  }
  const [row] = await db
    .insert(actuators)
    .values({
      siteId,
      deviceId: input.deviceId,
      key: input.key,
      kind: input.kind,
      name: input.name ?? null,
      plantId: input.plantId ?? null,
      flowRateMlPerSecond: isPump ? (input.flowRateMlPerSecond ?? null) : null,
      maxRunSeconds: isPump ? (input.maxRunSeconds ?? DEFAULT_PUMP_MAX_RUN_SECONDS) : null,
      createdAt: now,
    })
    .onConflictDoNothing()
    .returning();
  if (!row) throw new AppError("CONFLICT", "this device already has an actuator with this key", { path: "key" });
  return row;
}

export async function updateActuator(
  db: Db,
  siteId: string,
  input: { actuatorId: string; name?: string | null | undefined; flowRateMlPerSecond?: number | null | undefined; maxRunSeconds?: number | undefined },
): Promise<Actuator> {
  const current = await requireActuator(db, siteId, input.actuatorId);
  const changes: Partial<Actuator> = {};
  if (input.name !== undefined) changes.name = input.name;
  for (const field of ["flowRateMlPerSecond", "maxRunSeconds"] as const) {
    if (input[field] === undefined) continue;
    if (current.kind !== "pump") throw new AppError("BAD_REQUEST", "only pumps have a flow rate and a maximum run time", { path: field });
    (changes as Record<string, unknown>)[field] = input[field];
  }
  if (Object.keys(changes).length === 0) return current;
  const [row] = await db.update(actuators).set(changes).where(eq(actuators.id, current.id)).returning();
  return row!;
}

export async function assignActuator(db: Db, siteId: string, actuatorId: string, plantId: string | null): Promise<Actuator> {
  const current = await requireActuator(db, siteId, actuatorId);
  if (plantId) await requirePlant(db, siteId, plantId, { active: true });
  const [row] = await db.update(actuators).set({ plantId }).where(eq(actuators.id, current.id)).returning();
  return row!;
}
