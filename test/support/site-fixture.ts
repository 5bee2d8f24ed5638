import { eq, isNull } from "drizzle-orm";
import { actuators, automationRules, automationSchedules, careTasks, commands, devices, mqttBindings, mqttDiscovered, plants, sensors, siteMembers, sites, species, users, waterings, webhookEndpoints } from "../../db/schema";
import { raiseAlert } from "../../server/alerts";
import { hashPassword } from "../../server/accounts/passwords";
import { createSession } from "../../server/accounts/sessions";
import { generateDeviceToken, hashToken, tokenHint } from "../../server/platform/tokens";
import type { TestServer } from "./server";

/**
 * A site with one of everything (device with a sensor and a pump, plant, task, watering, alert,
 * command, webhook, rule, schedule, a species of its own, MQTT binding and a topic that arrived unbound) owned by a fresh user with a session: what a test needs to
 * call any procedure with valid ids. Written straight to the database, as fixtures are.
 */

export const FIXTURE_PASSWORD = "correct horse battery";

export interface SiteFixture {
  siteId: string;
  ownerId: string;
  email: string;
  token: string;
  deviceId: string;
  deviceToken: string;
  plantId: string;
  speciesId: string;
  siteSpeciesId: string;
  sensorId: string;
  actuatorId: string;
  taskId: string;
  wateringId: string;
  alertId: string;
  commandId: string;
  webhookId: string;
  ruleId: string;
  scheduleId: string;
  bindingId: string;
  discoveredId: string;
  unique: string;
}

let counter = 0;
let passwordHash: Promise<string> | undefined;

export async function siteFixture(server: TestServer, now = new Date()): Promise<SiteFixture> {
  const db = server.stores.db;
  const unique = `${++counter}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const email = `owner-${unique}@fixture.example`;
  passwordHash ??= hashPassword(FIXTURE_PASSWORD);
  const [owner] = await db.insert(users).values({ email, displayName: "Owner", passwordHash: await passwordHash }).returning();
  const [site] = await db.insert(sites).values({ name: `Site ${unique}` }).returning();
  const siteId = site!.id;
  await db.insert(siteMembers).values({ siteId, userId: owner!.id, role: "owner" });
  const deviceToken = generateDeviceToken();
  const [device] = await db.insert(devices).values({ siteId, name: "hub", tokenHash: hashToken(deviceToken), tokenHint: tokenHint(deviceToken) }).returning();
  const [aSpecies] = await db.select().from(species).where(isNull(species.siteId)).limit(1);
  const { id: _catalogId, ...catalogFields } = aSpecies!;
  // The site's own species (a copy of a catalog entry), which the site may change and delete.
  const [ownSpecies] = await db
    .insert(species)
    .values({ ...catalogFields, siteId, slug: `own-${unique}`, scientificName: `Own species ${unique}` })
    .returning({ id: species.id });
  const [plant] = await db.insert(plants).values({ siteId, name: "Monstera", speciesId: aSpecies!.id }).returning();
  const [sensor] = await db.insert(sensors).values({ siteId, deviceId: device!.id, key: "soil1", metric: "soil_moisture", unit: "%" }).returning();
  const [pump] = await db
    .insert(actuators)
    .values({ siteId, deviceId: device!.id, key: "pump1", kind: "pump", flowRateMlPerSecond: 10, maxRunSeconds: 60, plantId: plant!.id })
    .returning();
  const [task] = await db
    .insert(careTasks)
    .values({ siteId, plantId: plant!.id, kind: "water", title: "Water", startsAt: now, rrule: "FREQ=WEEKLY", occurrenceAt: now, dueAt: now, createdAt: now })
    .returning();
  const [watering] = await db
    .insert(waterings)
    .values({ siteId, plantId: plant!.id, source: "manual", status: "pending", startedAt: now, createdAt: now })
    .returning();
  const { alert } = await raiseAlert(db, { siteId, rule: "soil_moisture.low", subject: plant!.id, severity: "warning", title: "Dry", plantId: plant!.id }, now);
  const [command] = await db
    .insert(commands)
    .values({
      siteId,
      deviceId: device!.id,
      actuatorId: pump!.id,
      idempotencyKey: "fixture",
      action: "pump",
      durationSeconds: 5,
      maxRunSeconds: 60,
      expiresAt: new Date(now.getTime() + 3_600_000),
      createdAt: now,
    })
    .returning();
  const [webhook] = await db
    .insert(webhookEndpoints)
    .values({ siteId, name: "hook", url: "https://hooks.example.com/x", secret: "whsec_fixture", secretHint: "whsec_fixt…", events: ["alert.raised"], createdAt: now, updatedAt: now })
    .returning();
  const [rule] = await db
    .insert(automationRules)
    .values({
      siteId,
      name: "Dry soil",
      kind: "threshold",
      sensorId: sensor!.id,
      metric: "soil_moisture",
      comparison: "below",
      thresholdFrom: "value",
      threshold: 20,
      actions: [{ type: "alert", severity: "warning", title: "dry" }],
      createdAt: now,
      updatedAt: now,
    })
    .returning();
  const [schedule] = await db
    .insert(automationSchedules)
    .values({
      siteId,
      name: "Lamp",
      plantId: plant!.id,
      startsAt: now,
      rrule: "FREQ=DAILY",
      actions: [{ type: "notify", severity: "info", title: "lamp" }],
      nextRunAt: new Date(now.getTime() + 86_400_000),
      createdAt: now,
      updatedAt: now,
    })
    .returning();
  const [binding] = await db.insert(mqttBindings).values({ siteId, deviceId: device!.id, preset: "zigbee2mqtt", prefix: "zigbee2mqtt", base: `Fixture ${unique}` }).returning();
  const [discovered] = await db
    .insert(mqttDiscovered)
    .values({ siteId, preset: "esphome", prefix: "", base: `node-${unique}`, topic: `node-${unique}/sensor/soil/state`, sample: "42", messages: 1, firstSeenAt: now, lastSeenAt: now })
    .returning();
  const { token } = await createSession(db, owner!.id, now);
  return {
    siteId,
    ownerId: owner!.id,
    email,
    token,
    deviceId: device!.id,
    deviceToken,
    plantId: plant!.id,
    speciesId: aSpecies!.id,
    siteSpeciesId: ownSpecies!.id,
    sensorId: sensor!.id,
    actuatorId: pump!.id,
    taskId: task!.id,
    wateringId: watering!.id,
    alertId: alert.id,
    commandId: command!.id,
    webhookId: webhook!.id,
    ruleId: rule!.id,
    scheduleId: schedule!.id,
    bindingId: binding!.id,
    discoveredId: discovered!.id,
    unique,
  };
}

/** Whether the fixture's owner still exists (a fuzzed sites.delete or the like may have removed more than expected). */
export async function ownerExists(server: TestServer, fx: SiteFixture): Promise<boolean> {
  return (await server.stores.db.select({ id: users.id }).from(users).where(eq(users.id, fx.ownerId))).length === 1;
}
