import { and, asc, eq, inArray, lte, type SQL } from "drizzle-orm";
import type { Db } from "../../db/client";
import { actuators, commands, plants } from "../../db/schema";
import type { CommandRequest, CommandStatus } from "../../shared/schemas/commands";
import type { DeviceCommand } from "../../shared/schemas/device";
import { afterCursor, announceCommand, AppError, keysetOf, orderBy, pageOf } from "../platform";
import { DEFAULT_PUMP_MAX_RUN_SECONDS, requireActuator, type Actuator } from "../devices";
import { followCommand, recordWatering } from "../watering";
import { requireSiteFilters } from "../sites";

/**
 * Commands to actuators. A person (or, later, the automation) queues one; the actuator's device
 * fetches it over HTTP and reports back:
 *
 *   pending → sent (fetched) → acknowledged → succeeded | failed
 *   pending | sent, past expiresAt → expired        pending | sent → cancelled (by a person)
 *
 * Expiry is applied when commands are read, so no timer has to run for it. Every change is
 * announced (Postgres NOTIFY, delivered on commit) so waiting devices and live views on any server
 * learn of it at once.
 */

export type Command = typeof commands.$inferSelect;
type AckStatus = "acknowledged" | "succeeded" | "failed";

/** Announces a command's new state; call inside the transaction that changed it. */
const announce = (db: Db, row: Command, now: Date) =>
  announceCommand(db, {
    siteId: row.siteId,
    deviceId: row.deviceId,
    actuatorId: row.actuatorId,
    commandId: row.id,
    status: row.status,
    detail: row.detail,
    at: now.getTime(),
  });

const OPEN: CommandStatus[] = ["pending", "sent"];
const ACK_FROM: Record<AckStatus, CommandStatus[]> = {
  acknowledged: ["pending", "sent"],
  succeeded: ["pending", "sent", "acknowledged"],
  failed: ["pending", "sent", "acknowledged"],
};

/** Marks open commands past their expiry as expired (within `scope`), and fails their ledger entries. */
export async function expireDue(db: Db, now: Date, scope: SQL): Promise<void> {
  await db.transaction(async (tx) => {
    const expired = await tx
      .update(commands)
      .set({ status: "expired", finishedAt: now })
      .where(and(scope, inArray(commands.status, OPEN), lte(commands.expiresAt, now)))
      .returning();
    for (const row of expired) {
      await followCommand(tx as unknown as Db, row.id, "expired", now);
      await announce(tx as unknown as Db, row, now);
    }
  });
}

/** What the command means for this actuator, or a BAD_REQUEST on the field that does not fit. */
function planFor(actuator: Actuator, command: CommandRequest) {
  if (command.action === "pump") {
    if (actuator.kind !== "pump") throw new AppError("BAD_REQUEST", `a ${actuator.kind} cannot pump: use action "switch"`, { path: "command.action" });
    const maxRunSeconds = actuator.maxRunSeconds ?? DEFAULT_PUMP_MAX_RUN_SECONDS;
    let seconds = command.seconds;
    if (command.ml !== undefined) {
      if (!actuator.flowRateMlPerSecond) {
        throw new AppError("BAD_REQUEST", "this pump has no flow rate: set flowRateMlPerSecond to pump by volume", { path: "command.ml" });
      }
      seconds = Math.round((command.ml / actuator.flowRateMlPerSecond) * 1000) / 1000;
    }
    if (seconds! > maxRunSeconds) {
      throw new AppError("BAD_REQUEST", `${seconds} s is longer than the pump's maximum run of ${maxRunSeconds} s`, {
        path: command.ml !== undefined ? "command.ml" : "command.seconds",
      });
    }
    const volumeMl = command.ml ?? (actuator.flowRateMlPerSecond ? seconds! * actuator.flowRateMlPerSecond : null);
    return { action: "pump" as const, state: null, durationSeconds: seconds!, volumeMl, requestedMl: command.ml ?? null, maxRunSeconds };
  }
  if (actuator.kind === "pump") throw new AppError("BAD_REQUEST", 'a pump takes action "pump"', { path: "command.action" });
  return {
    action: "switch" as const,
    state: command.state,
    durationSeconds: command.minutes !== undefined ? command.minutes * 60 : null,
    volumeMl: null,
    requestedMl: null,
    maxRunSeconds: null,
  };
}

const sameRequest = (a: Command, b: { actuatorId: string; action: string; state: string | null; durationSeconds: number | null; requestedMl: number | null }) =>
  a.actuatorId === b.actuatorId && a.action === b.action && a.state === b.state && a.durationSeconds === b.durationSeconds && a.volumeMl === b.requestedMl;

/**
 * Queues a command. The same idempotency key again returns the first command (`created: false`)
 * instead of queueing another; the same key with a different request is a CONFLICT. A pump
 * command for a pump assigned to a plant opens a watering ledger entry that follows the command.
 */
export async function queueCommand(
  db: Db,
  siteId: string,
  input: { actuatorId: string; command: CommandRequest; idempotencyKey: string; expiresInSeconds: number },
  actor: { userId: string | null; now: Date; wateringSource?: "manual" | "scheduled" | "automatic" },
): Promise<{ command: Command; created: boolean }> {
  const actuator = await requireActuator(db, siteId, input.actuatorId);
  const plan = planFor(actuator, input.command);
  return db.transaction(async (tx) => {
    const existing = async () => {
      const [row] = await tx
        .select()
        .from(commands)
        .where(and(eq(commands.siteId, siteId), eq(commands.idempotencyKey, input.idempotencyKey)));
      return row;
    };
    const replay = (row: Command) => {
      if (!sameRequest(row, { actuatorId: actuator.id, ...plan })) {
        throw new AppError("CONFLICT", "this idempotency key was already used for a different command", { path: "idempotencyKey" });
      }
      return { command: row, created: false };
    };
    const before = await existing();
    if (before) return replay(before);
    const [row] = await tx
      .insert(commands)
      .values({
        siteId,
        deviceId: actuator.deviceId,
        actuatorId: actuator.id,
        idempotencyKey: input.idempotencyKey,
        action: plan.action,
        state: plan.state,
        durationSeconds: plan.durationSeconds,
        volumeMl: plan.requestedMl,
        maxRunSeconds: plan.maxRunSeconds,
        expiresAt: new Date(actor.now.getTime() + input.expiresInSeconds * 1000),
        createdBy: actor.userId,
        createdAt: actor.now,
      })
      .onConflictDoNothing()
      .returning();
    // A concurrent request with the same key won the insert: answer with its command.
    if (!row) return replay((await existing())!);
    await announce(tx as unknown as Db, row, actor.now);
    if (plan.action === "pump" && actuator.plantId) {
      const [plant] = await tx.select({ archivedAt: plants.archivedAt }).from(plants).where(eq(plants.id, actuator.plantId));
      if (plant && !plant.archivedAt) {
        await recordWatering(
          tx as unknown as Db,
          siteId,
          { plantId: actuator.plantId, source: actor.wateringSource ?? "manual", status: "pending", volumeMl: plan.volumeMl, durationSeconds: plan.durationSeconds, commandId: row.id },
          { userId: actor.userId, now: actor.now },
        );
      }
    }
    return { command: row, created: true };
  });
}

async function requireCommand(db: Db, siteId: string, commandId: string): Promise<Command> {
  const [row] = await db
    .select()
    .from(commands)
    .where(and(eq(commands.id, commandId), eq(commands.siteId, siteId)));
  if (!row) throw new AppError("NOT_FOUND", "command not found", { path: "commandId" });
  return row;
}

export async function getCommand(db: Db, siteId: string, commandId: string, now: Date): Promise<Command> {
  await expireDue(db, now, and(eq(commands.siteId, siteId), eq(commands.id, commandId))!);
  return requireCommand(db, siteId, commandId);
}

export async function listCommands(
  db: Db,
  siteId: string,
  input: { actuatorId?: string | undefined; deviceId?: string | undefined; status?: CommandStatus | undefined; cursor?: string | undefined; limit: number },
  now: Date,
) {
  await requireSiteFilters(db, siteId, input);
  await expireDue(db, now, eq(commands.siteId, siteId));
  const keys = keysetOf(commands.createdAt, commands.id);
  const conditions: (SQL | undefined)[] = [eq(commands.siteId, siteId), afterCursor(keys, input.cursor, "desc")];
  if (input.actuatorId) conditions.push(eq(commands.actuatorId, input.actuatorId));
  if (input.deviceId) conditions.push(eq(commands.deviceId, input.deviceId));
  if (input.status) conditions.push(eq(commands.status, input.status));
  const rows = await db
    .select()
    .from(commands)
    .where(and(...conditions))
    .orderBy(...orderBy(keys, "desc"))
    .limit(input.limit + 1);
  return pageOf(rows, input.limit, (r) => ({ at: r.createdAt, id: r.id }));
}

/** A command not yet acknowledged by its device can be cancelled; the device will not get it again. */
export async function cancelCommand(db: Db, siteId: string, commandId: string, now: Date): Promise<Command> {
  const current = await getCommand(db, siteId, commandId, now);
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(commands)
      .set({ status: "cancelled", finishedAt: now })
      .where(and(eq(commands.id, current.id), inArray(commands.status, OPEN)))
      .returning();
    if (!row) throw new AppError("CONFLICT", `a ${current.status} command can no longer be cancelled`, { path: "commandId" });
    await followCommand(tx as unknown as Db, row.id, "cancelled", now);
    await announce(tx as unknown as Db, row, now);
    return row;
  });
}

/** What a device receives (the wire contract's DeviceCommand): everything it needs to act, with times as epoch milliseconds. */
export function deviceCommandView(command: Command, actuator: { key: string; kind: string }): DeviceCommand {
  return {
    id: command.id,
    actuatorId: command.actuatorId,
    actuatorKey: actuator.key,
    actuatorKind: actuator.kind,
    action: command.action,
    ...(command.action === "pump"
      ? { seconds: command.durationSeconds, ml: command.volumeMl, maxRunSeconds: command.maxRunSeconds }
      : { state: command.state, seconds: command.durationSeconds }),
    status: command.status,
    expiresAt: command.expiresAt.getTime(),
    createdAt: command.createdAt.getTime(),
  } as DeviceCommand;
}

/**
 * The device's open commands, oldest first; pending ones become sent. Sent commands are delivered
 * again until the device acknowledges them, so a device that crashed after fetching still gets
 * them: devices act on a command id once.
 */
export async function fetchDeviceCommands(db: Db, deviceId: string, now: Date, limit = 50): Promise<DeviceCommand[]> {
  await expireDue(db, now, eq(commands.deviceId, deviceId));
  const rows = await db
    .select({ command: commands, key: actuators.key, kind: actuators.kind })
    .from(commands)
    .innerJoin(actuators, eq(actuators.id, commands.actuatorId))
    .where(and(eq(commands.deviceId, deviceId), inArray(commands.status, OPEN)))
    .orderBy(asc(commands.createdAt), asc(commands.id))
    .limit(limit);
  const pending = rows.filter((r) => r.command.status === "pending").map((r) => r.command.id);
  if (pending.length) {
    await db.transaction(async (tx) => {
      const sent = await tx
        .update(commands)
        .set({ status: "sent", sentAt: now })
        .where(and(inArray(commands.id, pending), eq(commands.status, "pending")))
        .returning();
      for (const row of sent) await announce(tx as unknown as Db, row, now);
    });
  }
  return rows.map((r) => deviceCommandView({ ...r.command, status: r.command.status === "pending" ? "sent" : r.command.status }, r));
}

/**
 * A device reports on one of its commands. The same status again changes nothing (retries are
 * safe); a status the command cannot move to is a CONFLICT, as is any report on an expired one.
 */
export async function acknowledgeCommand(
  db: Db,
  deviceId: string,
  commandId: string,
  report: { status: AckStatus; detail?: string | undefined },
  now: Date,
): Promise<{ command: Command; changed: boolean }> {
  await expireDue(db, now, and(eq(commands.deviceId, deviceId), eq(commands.id, commandId))!);
  return db.transaction(async (tx) => {
    const [current] = await tx
      .select()
      .from(commands)
      .where(and(eq(commands.id, commandId), eq(commands.deviceId, deviceId)))
      .for("update");
    if (!current) throw new AppError("NOT_FOUND", "command not found for this device", { path: "id" });
    if (current.status === report.status) return { command: current, changed: false };
    if (!ACK_FROM[report.status].includes(current.status)) {
      throw new AppError("CONFLICT", `a ${current.status} command cannot become ${report.status}`, { path: "status" });
    }
    const [row] = await tx
      .update(commands)
      .set({
        status: report.status,
        detail: report.detail ?? current.detail,
        ...(report.status === "acknowledged" ? { acknowledgedAt: now } : { finishedAt: now }),
      })
      .where(eq(commands.id, current.id))
      .returning();
    await followCommand(tx as unknown as Db, row!.id, report.status, now, report.detail);
    await announce(tx as unknown as Db, row!, now);
    return { command: row!, changed: true };
  });
}

/**
 * For a bridge that delivers commands itself (MQTT): the device's pending commands become sent,
 * oldest first, with their actuators. Only the commands this call moved are returned, so of two
 * bridges racing, each command is delivered by one.
 */
export async function claimPendingCommands(db: Db, deviceId: string, now: Date): Promise<{ command: Command; actuator: Actuator }[]> {
  await expireDue(db, now, eq(commands.deviceId, deviceId));
  const sent = await db.transaction(async (tx) => {
    const rows = await tx
      .update(commands)
      .set({ status: "sent", sentAt: now })
      .where(and(eq(commands.deviceId, deviceId), eq(commands.status, "pending")))
      .returning();
    for (const row of rows) await announce(tx as unknown as Db, row, now);
    return rows;
  });
  if (sent.length === 0) return [];
  const outputs = await db.select().from(actuators).where(inArray(actuators.id, [...new Set(sent.map((c) => c.actuatorId))]));
  const byId = new Map(outputs.map((a) => [a.id, a]));
  return sent
    .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id))
    .map((command) => ({ command, actuator: byId.get(command.actuatorId)! }));
}

/** The device's commands still waiting for the outcome (sent or acknowledged), oldest first, with their actuators. */
export async function openCommandsOf(db: Db, deviceId: string): Promise<{ command: Command; actuator: Actuator }[]> {
  return db
    .select({ command: commands, actuator: actuators })
    .from(commands)
    .innerJoin(actuators, eq(actuators.id, commands.actuatorId))
    .where(and(eq(commands.deviceId, deviceId), inArray(commands.status, ["sent", "acknowledged"])))
    .orderBy(asc(commands.createdAt), asc(commands.id));
}
