import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq, sql } from "drizzle-orm";
import { rowsOf } from "../db/client";
import { siteMembers, sites, users } from "../db/schema";
import { createSession } from "../server/accounts/sessions";
import { hashPassword } from "../server/accounts/passwords";
import { appRouter } from "../server/http/trpc/root";
import type { SiteRole } from "../shared/schemas/accounts";
import { startTestServer, type TestServer } from "./support/server";
import { siteFixture, type SiteFixture } from "./support/site-fixture";
import { postgresEngines } from "./support/stores";
import { TRPCClientError } from "@trpc/client";
import { outcomeOf } from "./support/trpc";

/**
 * Every procedure of the router, called as every kind of caller. The table below must name every
 * procedure: a new procedure without a row fails the first test. Each row says who may call it;
 * the expected outcome for each caller follows from that, and a refused call must change nothing.
 */

type Access = "public" | "authed" | SiteRole;
type Actor = "anonymous" | "outsider" | "viewer" | "editor" | "owner";
const ACTORS: Actor[] = ["anonymous", "outsider", "viewer", "editor", "owner"];

/** The shared site fixture, with the actors' ids and emails. */
interface Fixture extends SiteFixture {
  userIds: Record<Exclude<Actor, "anonymous">, string>;
  emails: Record<Exclude<Actor, "anonymous">, string>;
}

interface Case {
  access: Access;
  kind: "query" | "mutation" | "subscription";
  input?: (fx: Fixture) => unknown;
  /** Outcomes that differ from "allowed" for a caller who passes the access check (business rules). */
  allowedOutcome?: Partial<Record<Actor, string>>;
}

const PASSWORD = "correct horse battery";

const cases: Record<string, Case> = {
  health: { access: "public", kind: "query" },
  "auth.installation": { access: "public", kind: "query" },
  "auth.register": {
    access: "public",
    kind: "mutation",
    input: (fx) => ({ email: `new-${fx.unique}@example.com`, password: PASSWORD, displayName: "New", client: "app" }),
  },
  "auth.login": { access: "public", kind: "mutation", input: (fx) => ({ email: fx.emails.owner, password: PASSWORD, client: "app" }) },
  "auth.logout": { access: "authed", kind: "mutation" },
  "auth.logoutEverywhere": { access: "authed", kind: "mutation" },
  "auth.me": { access: "authed", kind: "query" },
  "auth.quietHours": { access: "authed", kind: "query" },
  "auth.setQuietHours": { access: "authed", kind: "mutation", input: () => ({ quietStart: "22:00", quietEnd: "07:00", timezone: "Europe/Berlin" }) },
  "auth.changePassword": {
    access: "authed",
    kind: "mutation",
    input: () => ({ currentPassword: PASSWORD, newPassword: "another long password" }),
  },
  "sites.list": { access: "authed", kind: "query" },
  "sites.create": { access: "authed", kind: "mutation", input: () => ({ name: "New site" }) },
  "sites.get": { access: "viewer", kind: "query", input: (fx) => ({ siteId: fx.siteId }) },
  "sites.update": { access: "owner", kind: "mutation", input: (fx) => ({ siteId: fx.siteId, name: "Renamed" }) },
  "sites.delete": { access: "owner", kind: "mutation", input: (fx) => ({ siteId: fx.siteId }) },
  "sites.members": { access: "viewer", kind: "query", input: (fx) => ({ siteId: fx.siteId }) },
  "sites.invite": {
    access: "owner",
    kind: "mutation",
    input: (fx) => ({ siteId: fx.siteId, email: fx.emails.outsider, role: "viewer" }),
  },
  "sites.changeRole": {
    access: "owner",
    kind: "mutation",
    input: (fx) => ({ siteId: fx.siteId, userId: fx.userIds.viewer, role: "editor" }),
  },
  "sites.removeMember": { access: "owner", kind: "mutation", input: (fx) => ({ siteId: fx.siteId, userId: fx.userIds.viewer }) },
  // The only owner may not leave: authorized, then refused by the one-owner rule.
  "sites.leave": { access: "viewer", kind: "mutation", input: (fx) => ({ siteId: fx.siteId }), allowedOutcome: { owner: "CONFLICT" } },
  "devices.list": { access: "viewer", kind: "query", input: (fx) => ({ siteId: fx.siteId }) },
  "devices.get": { access: "viewer", kind: "query", input: (fx) => ({ siteId: fx.siteId, deviceId: fx.deviceId }) },
  "devices.provision": { access: "editor", kind: "mutation", input: (fx) => ({ siteId: fx.siteId, name: "new device" }) },
  "devices.rotateToken": { access: "editor", kind: "mutation", input: (fx) => ({ siteId: fx.siteId, deviceId: fx.deviceId }) },
  "devices.revoke": { access: "editor", kind: "mutation", input: (fx) => ({ siteId: fx.siteId, deviceId: fx.deviceId }) },
  "devices.update": { access: "editor", kind: "mutation", input: (fx) => ({ siteId: fx.siteId, deviceId: fx.deviceId, firmware: "1.2.0" }) },
  // With a siteId (to see the site's own species too) the caller must be a member of it.
  "species.search": { access: "authed", kind: "query", input: (fx) => ({ siteId: fx.siteId, query: "monstera" }), allowedOutcome: { outsider: "NOT_FOUND" } },
  "species.get": { access: "authed", kind: "query", input: (fx) => ({ speciesId: fx.speciesId }) },
  "species.create": { access: "editor", kind: "mutation", input: (fx) => ({ siteId: fx.siteId, basedOn: fx.speciesId, scientificName: `Monstera ${fx.unique}` }) },
  "species.update": { access: "editor", kind: "mutation", input: (fx) => ({ siteId: fx.siteId, speciesId: fx.siteSpeciesId, careNotes: "Keep it out of the draught." }) },
  "species.delete": { access: "editor", kind: "mutation", input: (fx) => ({ siteId: fx.siteId, speciesId: fx.siteSpeciesId }) },
  "plants.list": { access: "viewer", kind: "query", input: (fx) => ({ siteId: fx.siteId }) },
  "plants.get": { access: "viewer", kind: "query", input: (fx) => ({ siteId: fx.siteId, plantId: fx.plantId }) },
  "plants.status": { access: "viewer", kind: "query", input: (fx) => ({ siteId: fx.siteId }) },
  "plants.create": { access: "editor", kind: "mutation", input: (fx) => ({ siteId: fx.siteId, name: "Fern", speciesId: fx.speciesId }) },
  "plants.update": { access: "editor", kind: "mutation", input: (fx) => ({ siteId: fx.siteId, plantId: fx.plantId, location: "kitchen" }) },
  "plants.archive": { access: "editor", kind: "mutation", input: (fx) => ({ siteId: fx.siteId, plantId: fx.plantId }) },
  "plants.restore": { access: "editor", kind: "mutation", input: (fx) => ({ siteId: fx.siteId, plantId: fx.plantId }) },
  "plants.carePlan": { access: "viewer", kind: "query", input: (fx) => ({ siteId: fx.siteId, plantId: fx.plantId }) },
  "plants.applyCarePlan": { access: "editor", kind: "mutation", input: (fx) => ({ siteId: fx.siteId, plantId: fx.plantId }) },
  "sensors.list": { access: "viewer", kind: "query", input: (fx) => ({ siteId: fx.siteId }) },
  "sensors.get": { access: "viewer", kind: "query", input: (fx) => ({ siteId: fx.siteId, sensorId: fx.sensorId }) },
  "sensors.create": {
    access: "editor",
    kind: "mutation",
    input: (fx) => ({ siteId: fx.siteId, deviceId: fx.deviceId, key: "temp1", metric: "temperature" }),
  },
  "sensors.update": { access: "editor", kind: "mutation", input: (fx) => ({ siteId: fx.siteId, sensorId: fx.sensorId, name: "left pot" }) },
  "sensors.assign": { access: "editor", kind: "mutation", input: (fx) => ({ siteId: fx.siteId, sensorId: fx.sensorId, plantId: fx.plantId }) },
  "sensors.unassign": { access: "editor", kind: "mutation", input: (fx) => ({ siteId: fx.siteId, sensorId: fx.sensorId }) },
  "sensors.setCalibration": {
    access: "editor",
    kind: "mutation",
    input: (fx) => ({ siteId: fx.siteId, sensorId: fx.sensorId, rawLow: 3100, valueLow: 0, rawHigh: 1400, valueHigh: 100 }),
  },
  "sensors.clearCalibration": { access: "editor", kind: "mutation", input: (fx) => ({ siteId: fx.siteId, sensorId: fx.sensorId }) },
  "sensors.calibrationHistory": { access: "viewer", kind: "query", input: (fx) => ({ siteId: fx.siteId, sensorId: fx.sensorId }) },
  "sensors.previewCalibration": { access: "viewer", kind: "query", input: (fx) => ({ siteId: fx.siteId, sensorId: fx.sensorId, raw: 2000 }) },
  "sensors.assignmentHistory": { access: "viewer", kind: "query", input: (fx) => ({ siteId: fx.siteId, sensorId: fx.sensorId }) },
  "sensors.metricHistory": { access: "viewer", kind: "query", input: (fx) => ({ siteId: fx.siteId, sensorId: fx.sensorId }) },
  "actuators.list": { access: "viewer", kind: "query", input: (fx) => ({ siteId: fx.siteId }) },
  "actuators.get": { access: "viewer", kind: "query", input: (fx) => ({ siteId: fx.siteId, actuatorId: fx.actuatorId }) },
  "actuators.create": { access: "editor", kind: "mutation", input: (fx) => ({ siteId: fx.siteId, deviceId: fx.deviceId, key: "lamp1", kind: "lamp" }) },
  "actuators.update": { access: "editor", kind: "mutation", input: (fx) => ({ siteId: fx.siteId, actuatorId: fx.actuatorId, maxRunSeconds: 30 }) },
  "actuators.assign": { access: "editor", kind: "mutation", input: (fx) => ({ siteId: fx.siteId, actuatorId: fx.actuatorId, plantId: fx.plantId }) },
  "actuators.unassign": { access: "editor", kind: "mutation", input: (fx) => ({ siteId: fx.siteId, actuatorId: fx.actuatorId }) },
  "tasks.list": { access: "viewer", kind: "query", input: (fx) => ({ siteId: fx.siteId }) },
  "tasks.get": { access: "viewer", kind: "query", input: (fx) => ({ siteId: fx.siteId, taskId: fx.taskId }) },
  "tasks.upcoming": {
    access: "viewer",
    kind: "query",
    input: (fx) => ({ siteId: fx.siteId, from: new Date(), to: new Date(Date.now() + 30 * 86_400_000) }),
  },
  "tasks.create": {
    access: "editor",
    kind: "mutation",
    input: (fx) => ({ siteId: fx.siteId, plantId: fx.plantId, kind: "fertilize", startsAt: new Date(Date.now() + 3_600_000), rrule: "FREQ=MONTHLY" }),
  },
  "tasks.update": { access: "editor", kind: "mutation", input: (fx) => ({ siteId: fx.siteId, taskId: fx.taskId, notes: "rainwater only" }) },
  "tasks.delete": { access: "editor", kind: "mutation", input: (fx) => ({ siteId: fx.siteId, taskId: fx.taskId }) },
  "tasks.complete": { access: "editor", kind: "mutation", input: (fx) => ({ siteId: fx.siteId, taskId: fx.taskId }) },
  "tasks.skip": { access: "editor", kind: "mutation", input: (fx) => ({ siteId: fx.siteId, taskId: fx.taskId }) },
  "tasks.snooze": {
    access: "editor",
    kind: "mutation",
    input: (fx) => ({ siteId: fx.siteId, taskId: fx.taskId, until: new Date(Date.now() + 2 * 86_400_000) }),
  },
  "waterings.list": { access: "viewer", kind: "query", input: (fx) => ({ siteId: fx.siteId, plantId: fx.plantId }) },
  "waterings.summary": { access: "viewer", kind: "query", input: (fx) => ({ siteId: fx.siteId, plantId: fx.plantId }) },
  "waterings.record": { access: "editor", kind: "mutation", input: (fx) => ({ siteId: fx.siteId, plantId: fx.plantId, volumeMl: 250 }) },
  "waterings.update": {
    access: "editor",
    kind: "mutation",
    input: (fx) => ({ siteId: fx.siteId, wateringId: fx.wateringId, status: "completed", moistureAfter: 48 }),
  },
  "alerts.list": { access: "viewer", kind: "query", input: (fx) => ({ siteId: fx.siteId, status: "active" }) },
  "alerts.get": { access: "viewer", kind: "query", input: (fx) => ({ siteId: fx.siteId, alertId: fx.alertId }) },
  "alerts.acknowledge": { access: "editor", kind: "mutation", input: (fx) => ({ siteId: fx.siteId, alertId: fx.alertId }) },
  "alerts.resolve": { access: "editor", kind: "mutation", input: (fx) => ({ siteId: fx.siteId, alertId: fx.alertId }) },
  "alerts.acknowledgeMany": { access: "editor", kind: "mutation", input: (fx) => ({ siteId: fx.siteId, alertIds: [fx.alertId] }) },
  "alerts.resolveMany": { access: "editor", kind: "mutation", input: (fx) => ({ siteId: fx.siteId, alertIds: [fx.alertId] }) },
  "commands.list": { access: "viewer", kind: "query", input: (fx) => ({ siteId: fx.siteId }) },
  "commands.get": { access: "viewer", kind: "query", input: (fx) => ({ siteId: fx.siteId, commandId: fx.commandId }) },
  "commands.create": {
    access: "editor",
    kind: "mutation",
    input: (fx) => ({ siteId: fx.siteId, actuatorId: fx.actuatorId, command: { action: "pump", seconds: 5 }, idempotencyKey: `k-${fx.unique}` }),
  },
  "commands.cancel": { access: "editor", kind: "mutation", input: (fx) => ({ siteId: fx.siteId, commandId: fx.commandId }) },
  "live.readings": { access: "viewer", kind: "subscription", input: (fx) => ({ siteId: fx.siteId }) },
  "live.alerts": { access: "viewer", kind: "subscription", input: (fx) => ({ siteId: fx.siteId }) },
  "live.commands": { access: "viewer", kind: "subscription", input: (fx) => ({ siteId: fx.siteId, actuatorId: fx.actuatorId }) },
  "live.plantStatus": { access: "viewer", kind: "subscription", input: (fx) => ({ siteId: fx.siteId, plantId: fx.plantId }) },
  "notifications.webhooks": { access: "editor", kind: "query", input: (fx) => ({ siteId: fx.siteId }) },
  "notifications.deliveries": { access: "editor", kind: "query", input: (fx) => ({ siteId: fx.siteId, webhookId: fx.webhookId }) },
  "notifications.createWebhook": {
    access: "owner",
    kind: "mutation",
    input: (fx) => ({ siteId: fx.siteId, name: "Phone", url: "https://hooks.example.com/verdant", minSeverity: "warning" }),
  },
  "notifications.updateWebhook": { access: "owner", kind: "mutation", input: (fx) => ({ siteId: fx.siteId, webhookId: fx.webhookId, enabled: false }) },
  "notifications.deleteWebhook": { access: "owner", kind: "mutation", input: (fx) => ({ siteId: fx.siteId, webhookId: fx.webhookId }) },
  "notifications.rotateSecret": { access: "owner", kind: "mutation", input: (fx) => ({ siteId: fx.siteId, webhookId: fx.webhookId }) },
  "notifications.sendTest": { access: "owner", kind: "mutation", input: (fx) => ({ siteId: fx.siteId, webhookId: fx.webhookId }) },
  "rules.list": { access: "viewer", kind: "query", input: (fx) => ({ siteId: fx.siteId }) },
  "rules.get": { access: "viewer", kind: "query", input: (fx) => ({ siteId: fx.siteId, ruleId: fx.ruleId }) },
  "rules.create": {
    access: "editor",
    kind: "mutation",
    input: (fx) => ({
      siteId: fx.siteId,
      name: "Dry",
      kind: "threshold",
      target: { type: "plant", plantId: fx.plantId },
      metric: "soil_moisture",
      comparison: "below",
      threshold: { plantRange: "min" },
      hysteresis: 5,
      actions: [{ type: "alert", severity: "warning", title: "{plant} is dry" }],
    }),
  },
  "rules.update": { access: "editor", kind: "mutation", input: (fx) => ({ siteId: fx.siteId, ruleId: fx.ruleId, hysteresis: 3 }) },
  "rules.setEnabled": { access: "editor", kind: "mutation", input: (fx) => ({ siteId: fx.siteId, ruleId: fx.ruleId, enabled: false }) },
  "rules.delete": { access: "editor", kind: "mutation", input: (fx) => ({ siteId: fx.siteId, ruleId: fx.ruleId }) },
  "rules.setBuiltIn": { access: "editor", kind: "mutation", input: (fx) => ({ siteId: fx.siteId, enabled: false }) },
  "schedules.list": { access: "viewer", kind: "query", input: (fx) => ({ siteId: fx.siteId }) },
  "schedules.get": { access: "viewer", kind: "query", input: (fx) => ({ siteId: fx.siteId, scheduleId: fx.scheduleId }) },
  "schedules.upcoming": { access: "viewer", kind: "query", input: (fx) => ({ siteId: fx.siteId, scheduleId: fx.scheduleId, from: new Date() }) },
  "schedules.create": {
    access: "editor",
    kind: "mutation",
    input: (fx) => ({
      siteId: fx.siteId,
      name: "Water on Mondays",
      plantId: fx.plantId,
      startsAt: new Date(Date.now() + 3_600_000),
      rrule: "FREQ=WEEKLY;BYDAY=MO",
      actions: [{ type: "command", actuatorId: fx.actuatorId, command: { action: "pump", ml: 100 } }],
    }),
  },
  "schedules.update": { access: "editor", kind: "mutation", input: (fx) => ({ siteId: fx.siteId, scheduleId: fx.scheduleId, missedRunPolicy: "catch_up" }) },
  "schedules.setEnabled": { access: "editor", kind: "mutation", input: (fx) => ({ siteId: fx.siteId, scheduleId: fx.scheduleId, enabled: false }) },
  "schedules.delete": { access: "editor", kind: "mutation", input: (fx) => ({ siteId: fx.siteId, scheduleId: fx.scheduleId }) },
  "automationLog.list": { access: "viewer", kind: "query", input: (fx) => ({ siteId: fx.siteId, plantId: fx.plantId }) },
  "wateringSafety.get": { access: "viewer", kind: "query", input: (fx) => ({ siteId: fx.siteId, plantId: fx.plantId }) },
  "wateringSafety.update": { access: "editor", kind: "mutation", input: (fx) => ({ siteId: fx.siteId, plantId: fx.plantId, cooldownMinutes: 60, dailyVolumeCapMl: 500 }) },
  "wateringSafety.resume": { access: "editor", kind: "mutation", input: (fx) => ({ siteId: fx.siteId, plantId: fx.plantId }) },
  "wateringSafety.pause": {
    access: "editor",
    kind: "mutation",
    input: (fx) => ({ siteId: fx.siteId, plantId: fx.plantId, reason: "repotting", until: new Date(Date.now() + 86_400_000) }),
  },
  "analytics.series": {
    access: "viewer",
    kind: "query",
    input: (fx) => ({ siteId: fx.siteId, sensorIds: [fx.sensorId], from: new Date(Date.now() - 86_400_000), to: new Date() }),
  },
  "analytics.chart": {
    access: "viewer",
    kind: "query",
    input: (fx) => ({ siteId: fx.siteId, sensorIds: [fx.sensorId], from: new Date(Date.now() - 86_400_000), to: new Date() }),
  },
  "analytics.latest": { access: "viewer", kind: "query", input: (fx) => ({ siteId: fx.siteId }) },
  "analytics.plantMetrics": {
    access: "viewer",
    kind: "query",
    input: (fx) => ({ siteId: fx.siteId, plantId: fx.plantId, from: new Date(Date.now() - 7 * 86_400_000), to: new Date() }),
  },
  "analytics.deviceHealth": { access: "viewer", kind: "query", input: (fx) => ({ siteId: fx.siteId }) },
  "analytics.fleet": { access: "viewer", kind: "query", input: (fx) => ({ siteId: fx.siteId }) },
  "mqtt.bindings": { access: "viewer", kind: "query", input: (fx) => ({ siteId: fx.siteId }) },
  "mqtt.bind": {
    access: "editor",
    kind: "mutation",
    input: (fx) => ({ siteId: fx.siteId, deviceId: fx.deviceId, preset: "tasmota", base: `tasmota_${fx.unique.replaceAll("-", "_")}` }),
  },
  "mqtt.unbind": { access: "editor", kind: "mutation", input: (fx) => ({ siteId: fx.siteId, bindingId: fx.bindingId }) },
  "mqtt.discovered": { access: "viewer", kind: "query", input: (fx) => ({ siteId: fx.siteId }) },
  "mqtt.adopt": { access: "editor", kind: "mutation", input: (fx) => ({ siteId: fx.siteId, discoveredId: fx.discoveredId }) },
  "analytics.fleetSeries": {
    access: "viewer",
    kind: "query",
    input: (fx) => ({ siteId: fx.siteId, metric: "soil_moisture", from: new Date(Date.now() - 7 * 86_400_000), to: new Date(), bucket: "1d" }),
  },
  "analytics.crossing": {
    access: "viewer",
    kind: "query",
    input: (fx) => ({ siteId: fx.siteId, metric: "soil_moisture", from: new Date(Date.now() - 1_800_000), to: new Date(), aggregate: "avg", comparison: "below", threshold: 25 }),
  },
};

interface Procedure {
  query: (i: unknown) => Promise<unknown>;
  mutate: (i: unknown) => Promise<unknown>;
  subscribe: (i: unknown, handlers: { onStarted?: () => void; onError?: (error: unknown) => void }) => { unsubscribe(): void };
}

const RANK: Record<Actor, number> = { anonymous: 0, outsider: 1, viewer: 2, editor: 3, owner: 4 };

function expectedOutcome(c: Case, actor: Actor): string {
  if (c.access === "public") return c.allowedOutcome?.[actor] ?? "OK";
  if (actor === "anonymous") return "UNAUTHORIZED";
  if (c.access === "authed") return c.allowedOutcome?.[actor] ?? "OK";
  if (actor === "outsider") return "NOT_FOUND";
  return RANK[actor] >= RANK[c.access] ? (c.allowedOutcome?.[actor] ?? "OK") : "FORBIDDEN";
}

test("the table covers every procedure of the router", () => {
  const procedures = Object.keys(appRouter._def.procedures).sort();
  expect(Object.keys(cases).sort()).toEqual(procedures);
});

for (const engine of postgresEngines) {
  describe(`authorization of every procedure on ${engine}`, () => {
    let server: TestServer;
    let passwordHash: string;
    const actorUsers = {} as Record<Exclude<Actor, "anonymous">, { id: string; email: string }>;

    beforeAll(async () => {
      server = await startTestServer(engine);
      passwordHash = await hashPassword(PASSWORD);
      for (const actor of ["outsider", "viewer", "editor", "owner"] as const) {
        const [user] = await server.stores.db
          .insert(users)
          .values({ email: `${actor}@authz.example`, displayName: actor, passwordHash })
          .returning({ id: users.id, email: users.email });
        actorUsers[actor] = user!;
      }
      // The outsider is an owner elsewhere: being someone matters, not just being signed in.
      const [elsewhere] = await server.stores.db.insert(sites).values({ name: "Elsewhere" }).returning();
      await server.stores.db.insert(siteMembers).values({ siteId: elsewhere!.id, userId: actorUsers.outsider.id, role: "owner" });
    });
    afterAll(() => server.close());

    /**
     * A fresh site with one of everything (test/support/site-fixture.ts) whose owner, editor and
     * viewer are the actors: every call starts from the same state.
     */
    async function fixture(): Promise<Fixture> {
      const db = server.stores.db;
      // Undo what earlier allowed calls changed for the shared users (passwords).
      await db.update(users).set({ passwordHash }).where(sql`${users.email} like '%@authz.example'`);
      const fx = await siteFixture(server);
      // The actors take the fixture owner's place: the owner actor is the site's only owner.
      await db.delete(siteMembers).where(eq(siteMembers.siteId, fx.siteId));
      await db.insert(siteMembers).values([
        { siteId: fx.siteId, userId: actorUsers.owner.id, role: "owner" },
        { siteId: fx.siteId, userId: actorUsers.editor.id, role: "editor" },
        { siteId: fx.siteId, userId: actorUsers.viewer.id, role: "viewer" },
      ]);
      const pick = <K extends "id" | "email">(k: K) =>
        Object.fromEntries(Object.entries(actorUsers).map(([a, u]) => [a, u[k]])) as Record<Exclude<Actor, "anonymous">, string>;
      return { ...fx, userIds: pick("id"), emails: pick("email") };
    }

    /** Every row of every table, to prove a refused call wrote nothing. */
    async function snapshot(): Promise<string> {
      const db = server.stores.db;
      const tables = rowsOf<{ table_name: string }>(
        await db.execute(sql`select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by 1`),
      );
      const out: Record<string, unknown> = {};
      for (const { table_name } of tables) {
        out[table_name] = rowsOf(await db.execute(sql`select * from ${sql.identifier(table_name)} order by 1, 2`));
      }
      return JSON.stringify(out);
    }

    async function call(path: string, c: Case, actor: Actor, fx: Fixture): Promise<string> {
      let token: string | undefined;
      if (actor !== "anonymous") token = (await createSession(server.stores.db, fx.userIds[actor], new Date())).token;
      const client = server.client(token) as unknown as Record<string, Record<string, Procedure>>;
      const [head, tail] = path.includes(".") ? path.split(".") : [path, undefined];
      const procedure = (tail ? client[head!]![tail] : (client[head!] as unknown)) as Procedure;
      const input = c.input?.(fx);
      if (c.kind === "subscription") return subscriptionOutcome(procedure, input);
      return outcomeOf(c.kind === "query" ? procedure.query(input) : procedure.mutate(input));
    }

    /**
     * A refused subscription answers its stream with an error right after connecting; an allowed
     * one stays open. So: the error's code, or "OK" if none came soon after the stream started.
     */
    function subscriptionOutcome(procedure: Procedure, input: unknown): Promise<string> {
      return new Promise((resolve) => {
        const subscription = procedure.subscribe(input, {
          onStarted: () =>
            setTimeout(() => {
              subscription.unsubscribe();
              resolve("OK");
            }, 400),
          onError: (error) => {
            subscription.unsubscribe();
            resolve(error instanceof TRPCClientError ? String(error.data?.code ?? "UNKNOWN") : String(error));
          },
        });
      });
    }

    for (const [path, c] of Object.entries(cases)) {
      test(`${path}: ${c.access === "public" ? "anyone" : c.access === "authed" ? "any signed-in user" : `${c.access} or above`}`, async () => {
        for (const actor of ACTORS) {
          const fx = await fixture();
          const expected = expectedOutcome(c, actor);
          const refused = ["UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND"].includes(expected);
          // Sessions are minted per call, so compare everything but the sessions table's new row.
          const before = refused ? await snapshot() : "";
          const outcome = await call(path, c, actor, fx);
          expect(`${actor}: ${outcome}`).toBe(`${actor}: ${expected}`);
          if (refused) {
            const after = await snapshot();
            const withoutSessions = (s: string) => {
              const parsed = JSON.parse(s) as Record<string, unknown>;
              delete parsed.sessions;
              return parsed;
            };
            expect(withoutSessions(after)).toEqual(withoutSessions(before));
          }
        }
      });
    }
  });
}
