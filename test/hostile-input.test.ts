import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { count, eq, sql } from "drizzle-orm";
import pino from "pino";
import { careTasks } from "../db/schema";
import { appRouter } from "../server/http/trpc/root";
import { transformer } from "../shared/transformer";
import { siteFixture, type SiteFixture } from "./support/site-fixture";
import { startTestServer, type TestServer } from "./support/server";
import { postgresEngines } from "./support/stores";

/**
 * Crafted input never gets a 500 and never brings SQL, parameters or engine messages back. Every
 * procedure of the router (enumerated from it, as test/authorization.test.ts does) is called over
 * HTTP by a signed-in owner with a valid input in which one field at a time, or the whole input,
 * is replaced by something hostile.
 */

/** The router's procedures by path, as tRPC keeps them. */
const procedures = appRouter._def.procedures as unknown as Record<string, { _def: { type: string; inputs?: unknown[] } }>;

/** What must never appear in an error answer: SQL, its parameters, database and engine messages. */
const LEAK = /select |insert |update |delete from|failed query|params:|clickhouse|DB::Exception|syntax error|postgres|pglite|relation "|violates|duplicate key/i;

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A valid input per procedure: the fuzz changes one field at a time, so the others get past validation. */
const valid: Record<string, (fx: SiteFixture) => unknown> = {
  health: () => undefined,
  "auth.register": (fx) => ({ email: `new-${fx.unique}@example.com`, password: "correct horse battery", displayName: "New", client: "app" }),
  "auth.login": (fx) => ({ email: fx.email, password: "correct horse battery", client: "app" }),
  "auth.logout": () => undefined,
  "auth.logoutEverywhere": () => undefined,
  "auth.me": () => undefined,
  "auth.installation": () => undefined,
  "auth.quietHours": () => undefined,
  "auth.setQuietHours": () => ({ quietStart: "22:00", quietEnd: "07:00", timezone: "Europe/Berlin" }),
  "auth.changePassword": () => ({ currentPassword: "correct horse battery", newPassword: "another long password" }),
  "sites.list": () => undefined,
  "sites.create": () => ({ name: "New site" }),
  "sites.get": (fx) => ({ siteId: fx.siteId }),
  "sites.update": (fx) => ({ siteId: fx.siteId, name: "Renamed", timezone: "Europe/Paris" }),
  "sites.delete": (fx) => ({ siteId: fx.siteId }),
  "sites.members": (fx) => ({ siteId: fx.siteId }),
  "sites.invite": (fx) => ({ siteId: fx.siteId, email: `guest-${fx.unique}@example.com`, role: "viewer" }),
  "sites.changeRole": (fx) => ({ siteId: fx.siteId, userId: fx.ownerId, role: "editor" }),
  "sites.removeMember": (fx) => ({ siteId: fx.siteId, userId: fx.ownerId }),
  "sites.leave": (fx) => ({ siteId: fx.siteId }),
  "devices.list": (fx) => ({ siteId: fx.siteId }),
  "devices.get": (fx) => ({ siteId: fx.siteId, deviceId: fx.deviceId }),
  "devices.provision": (fx) => ({ siteId: fx.siteId, name: "new device" }),
  "devices.update": (fx) => ({ siteId: fx.siteId, deviceId: fx.deviceId, firmware: "1.2.0", expectedReportIntervalSeconds: 300 }),
  "devices.rotateToken": (fx) => ({ siteId: fx.siteId, deviceId: fx.deviceId }),
  "devices.revoke": (fx) => ({ siteId: fx.siteId, deviceId: fx.deviceId }),
  "species.search": () => ({ query: "monstera", limit: 10 }),
  "species.get": (fx) => ({ speciesId: fx.speciesId }),
  "species.create": (fx) => ({ siteId: fx.siteId, basedOn: fx.speciesId, scientificName: `Monstera ${fx.unique}` }),
  "species.update": (fx) => ({ siteId: fx.siteId, speciesId: fx.siteSpeciesId, careNotes: "Keep it out of the draught." }),
  "species.delete": (fx) => ({ siteId: fx.siteId, speciesId: fx.siteSpeciesId }),
  "plants.list": (fx) => ({ siteId: fx.siteId, limit: 10 }),
  "plants.get": (fx) => ({ siteId: fx.siteId, plantId: fx.plantId }),
  "plants.create": (fx) => ({ siteId: fx.siteId, name: "Fern", speciesId: fx.speciesId, potSizeCm: 12, thresholds: { soil_moisture: { min: 20 } } }),
  "plants.update": (fx) => ({ siteId: fx.siteId, plantId: fx.plantId, location: "kitchen", photoUrl: "https://photos.example/p.jpg" }),
  "plants.archive": (fx) => ({ siteId: fx.siteId, plantId: fx.plantId }),
  "plants.restore": (fx) => ({ siteId: fx.siteId, plantId: fx.plantId }),
  "sensors.list": (fx) => ({ siteId: fx.siteId, deviceId: fx.deviceId, plantId: fx.plantId }),
  "sensors.get": (fx) => ({ siteId: fx.siteId, sensorId: fx.sensorId }),
  "sensors.create": (fx) => ({ siteId: fx.siteId, deviceId: fx.deviceId, key: "temp1", metric: "temperature", plantId: fx.plantId }),
  "sensors.update": (fx) => ({ siteId: fx.siteId, sensorId: fx.sensorId, name: "left pot", unit: "%" }),
  "sensors.assign": (fx) => ({ siteId: fx.siteId, sensorId: fx.sensorId, plantId: fx.plantId }),
  "sensors.unassign": (fx) => ({ siteId: fx.siteId, sensorId: fx.sensorId }),
  "sensors.setCalibration": (fx) => ({ siteId: fx.siteId, sensorId: fx.sensorId, rawLow: 3100, valueLow: 0, rawHigh: 1400, valueHigh: 100 }),
  "sensors.clearCalibration": (fx) => ({ siteId: fx.siteId, sensorId: fx.sensorId }),
  "sensors.calibrationHistory": (fx) => ({ siteId: fx.siteId, sensorId: fx.sensorId }),
  "sensors.assignmentHistory": (fx) => ({ siteId: fx.siteId, sensorId: fx.sensorId }),
  "sensors.metricHistory": (fx) => ({ siteId: fx.siteId, sensorId: fx.sensorId }),
  "sensors.previewCalibration": (fx) => ({ siteId: fx.siteId, sensorId: fx.sensorId, raw: 2000 }),
  "actuators.list": (fx) => ({ siteId: fx.siteId, deviceId: fx.deviceId, plantId: fx.plantId }),
  "actuators.get": (fx) => ({ siteId: fx.siteId, actuatorId: fx.actuatorId }),
  "actuators.create": (fx) => ({ siteId: fx.siteId, deviceId: fx.deviceId, key: "lamp1", kind: "lamp", plantId: fx.plantId }),
  "actuators.update": (fx) => ({ siteId: fx.siteId, actuatorId: fx.actuatorId, maxRunSeconds: 30, flowRateMlPerSecond: 5 }),
  "actuators.assign": (fx) => ({ siteId: fx.siteId, actuatorId: fx.actuatorId, plantId: fx.plantId }),
  "actuators.unassign": (fx) => ({ siteId: fx.siteId, actuatorId: fx.actuatorId }),
  "tasks.list": (fx) => ({ siteId: fx.siteId, plantId: fx.plantId, state: "all" }),
  "tasks.get": (fx) => ({ siteId: fx.siteId, taskId: fx.taskId }),
  "tasks.upcoming": (fx) => ({ siteId: fx.siteId, from: new Date(), to: new Date(Date.now() + 30 * DAY), plantId: fx.plantId }),
  "tasks.create": (fx) => ({ siteId: fx.siteId, plantId: fx.plantId, kind: "fertilize", startsAt: new Date(Date.now() + HOUR), rrule: "FREQ=MONTHLY" }),
  "tasks.update": (fx) => ({ siteId: fx.siteId, taskId: fx.taskId, notes: "rainwater only", startsAt: new Date(Date.now() + HOUR) }),
  "tasks.delete": (fx) => ({ siteId: fx.siteId, taskId: fx.taskId }),
  "tasks.complete": (fx) => ({ siteId: fx.siteId, taskId: fx.taskId, volumeMl: 200 }),
  "tasks.skip": (fx) => ({ siteId: fx.siteId, taskId: fx.taskId }),
  "tasks.snooze": (fx) => ({ siteId: fx.siteId, taskId: fx.taskId, until: new Date(Date.now() + 2 * DAY) }),
  "waterings.list": (fx) => ({ siteId: fx.siteId, plantId: fx.plantId }),
  "waterings.summary": (fx) => ({ siteId: fx.siteId, plantId: fx.plantId }),
  "waterings.record": (fx) => ({ siteId: fx.siteId, plantId: fx.plantId, volumeMl: 250, startedAt: new Date(Date.now() - HOUR) }),
  "waterings.update": (fx) => ({ siteId: fx.siteId, wateringId: fx.wateringId, status: "completed", moistureAfter: 48 }),
  "alerts.list": (fx) => ({ siteId: fx.siteId, status: "active", plantId: fx.plantId }),
  "alerts.get": (fx) => ({ siteId: fx.siteId, alertId: fx.alertId }),
  "alerts.acknowledge": (fx) => ({ siteId: fx.siteId, alertId: fx.alertId }),
  "alerts.resolve": (fx) => ({ siteId: fx.siteId, alertId: fx.alertId }),
  "alerts.acknowledgeMany": (fx) => ({ siteId: fx.siteId, alertIds: [fx.alertId] }),
  "alerts.resolveMany": (fx) => ({ siteId: fx.siteId, alertIds: [fx.alertId] }),
  "commands.list": (fx) => ({ siteId: fx.siteId, actuatorId: fx.actuatorId, deviceId: fx.deviceId }),
  "commands.get": (fx) => ({ siteId: fx.siteId, commandId: fx.commandId }),
  "commands.create": (fx) => ({ siteId: fx.siteId, actuatorId: fx.actuatorId, command: { action: "pump", seconds: 5 }, idempotencyKey: `k-${fx.unique}` }),
  "commands.cancel": (fx) => ({ siteId: fx.siteId, commandId: fx.commandId }),
  "live.readings": (fx) => ({ siteId: fx.siteId, sensorIds: [fx.sensorId] }),
  "live.alerts": (fx) => ({ siteId: fx.siteId, plantId: fx.plantId }),
  "live.commands": (fx) => ({ siteId: fx.siteId, actuatorId: fx.actuatorId, deviceId: fx.deviceId }),
  "live.plantStatus": (fx) => ({ siteId: fx.siteId, plantId: fx.plantId }),
  "plants.status": (fx) => ({ siteId: fx.siteId, plantId: fx.plantId }),
  "plants.carePlan": (fx) => ({ siteId: fx.siteId, plantId: fx.plantId }),
  "plants.applyCarePlan": (fx) => ({ siteId: fx.siteId, plantId: fx.plantId }),
  "mqtt.bindings": (fx) => ({ siteId: fx.siteId }),
  "mqtt.bind": (fx) => ({ siteId: fx.siteId, deviceId: fx.deviceId, preset: "tasmota", base: `tasmota_${fx.unique.replaceAll("-", "_")}` }),
  "mqtt.unbind": (fx) => ({ siteId: fx.siteId, bindingId: fx.bindingId }),
  "mqtt.discovered": (fx) => ({ siteId: fx.siteId }),
  "mqtt.adopt": (fx) => ({ siteId: fx.siteId, discoveredId: fx.discoveredId }),
  "analytics.fleetSeries": (fx) => ({ siteId: fx.siteId, metric: "soil_moisture", from: new Date(Date.now() - 7 * DAY), to: new Date(), bucket: "1d" }),
  "analytics.crossing": (fx) => ({ siteId: fx.siteId, metric: "soil_moisture", from: new Date(Date.now() - HOUR / 2), to: new Date(), aggregate: "avg", comparison: "below", threshold: 25 }),
  "notifications.webhooks": (fx) => ({ siteId: fx.siteId }),
  "notifications.deliveries": (fx) => ({ siteId: fx.siteId, webhookId: fx.webhookId }),
  "notifications.createWebhook": (fx) => ({ siteId: fx.siteId, name: "Phone", url: "https://hooks.example.com/verdant", minSeverity: "warning" }),
  "notifications.updateWebhook": (fx) => ({ siteId: fx.siteId, webhookId: fx.webhookId, enabled: false }),
  "notifications.deleteWebhook": (fx) => ({ siteId: fx.siteId, webhookId: fx.webhookId }),
  "notifications.rotateSecret": (fx) => ({ siteId: fx.siteId, webhookId: fx.webhookId }),
  "notifications.sendTest": (fx) => ({ siteId: fx.siteId, webhookId: fx.webhookId }),
  "rules.list": (fx) => ({ siteId: fx.siteId, plantId: fx.plantId, kind: "threshold" }),
  "rules.get": (fx) => ({ siteId: fx.siteId, ruleId: fx.ruleId }),
  "rules.create": (fx) => ({
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
  "rules.update": (fx) => ({ siteId: fx.siteId, ruleId: fx.ruleId, hysteresis: 3, threshold: 25 }),
  "rules.setEnabled": (fx) => ({ siteId: fx.siteId, ruleId: fx.ruleId, enabled: false }),
  "rules.delete": (fx) => ({ siteId: fx.siteId, ruleId: fx.ruleId }),
  "rules.setBuiltIn": (fx) => ({ siteId: fx.siteId, enabled: false }),
  "schedules.list": (fx) => ({ siteId: fx.siteId, plantId: fx.plantId }),
  "schedules.get": (fx) => ({ siteId: fx.siteId, scheduleId: fx.scheduleId }),
  "schedules.upcoming": (fx) => ({ siteId: fx.siteId, scheduleId: fx.scheduleId, from: new Date(), count: 5 }),
  "schedules.create": (fx) => ({
    siteId: fx.siteId,
    name: "Water on Mondays",
    plantId: fx.plantId,
    startsAt: new Date(Date.now() + HOUR),
    rrule: "FREQ=WEEKLY;BYDAY=MO",
    actions: [{ type: "command", actuatorId: fx.actuatorId, command: { action: "pump", ml: 100 } }],
  }),
  "schedules.update": (fx) => ({ siteId: fx.siteId, scheduleId: fx.scheduleId, missedRunPolicy: "catch_up", startsAt: new Date(Date.now() + HOUR) }),
  "schedules.setEnabled": (fx) => ({ siteId: fx.siteId, scheduleId: fx.scheduleId, enabled: false }),
  "schedules.delete": (fx) => ({ siteId: fx.siteId, scheduleId: fx.scheduleId }),
  "automationLog.list": (fx) => ({ siteId: fx.siteId, plantId: fx.plantId, ruleId: fx.ruleId, scheduleId: fx.scheduleId }),
  "wateringSafety.get": (fx) => ({ siteId: fx.siteId, plantId: fx.plantId }),
  "wateringSafety.update": (fx) => ({ siteId: fx.siteId, plantId: fx.plantId, cooldownMinutes: 60, dailyVolumeCapMl: 500 }),
  "wateringSafety.resume": (fx) => ({ siteId: fx.siteId, plantId: fx.plantId }),
  "wateringSafety.pause": (fx) => ({ siteId: fx.siteId, plantId: fx.plantId, reason: "repotting", until: new Date(Date.now() + DAY) }),
  "analytics.series": (fx) => ({ siteId: fx.siteId, sensorIds: [fx.sensorId], from: new Date(Date.now() - DAY), to: new Date() }),
  "analytics.chart": (fx) => ({ siteId: fx.siteId, sensorIds: [fx.sensorId], from: new Date(Date.now() - DAY), to: new Date() }),
  "analytics.latest": (fx) => ({ siteId: fx.siteId, plantIds: [fx.plantId] }),
  "analytics.plantMetrics": (fx) => ({ siteId: fx.siteId, plantId: fx.plantId, from: new Date(Date.now() - 7 * DAY), to: new Date() }),
  "analytics.deviceHealth": (fx) => ({ siteId: fx.siteId }),
  "analytics.fleet": (fx) => ({ siteId: fx.siteId, hours: 24 }),
};

const cursorOf = (text: string) => Buffer.from(text).toString("base64url");
const SOME_UUID = "0b7a3f9e-6c1d-4e2a-9f3b-5d8c7e6a1b2c";

/** Values that are wrong for almost any field, and some that are right for one and wrong for its neighbours. */
const HOSTILE: unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  1e308,
  -1e308,
  2 ** 53 + 2,
  "",
  "x".repeat(3000),
  "-".repeat(36),
  "ffffffff-ffff-ffff-ffff-ffffffffffff",
  "00000000-0000-0000-0000-000000000000",
  "' or 1=1 --",
  "%_\\",
  "0001-06-15",
  "99-06-15",
  "+275760-09-13T00:00:00.000Z",
  new Date(8.64e15),
  new Date(-8.64e15),
  new Date(-62198755200000), // year -1
  new Date("0001-06-15T00:00:00Z"),
  new Date("1969-12-31T00:00:00Z"),
  [],
  {},
  [[[[{}]]]],
  { a: { b: { c: "d" } } },
];

/** Cursors that decode to what no page would ever hand out. */
const HOSTILE_CURSORS = [
  cursorOf(`8640000000000000.${SOME_UUID}`),
  cursorOf(`${Date.now()}.${"-".repeat(36)}`),
  cursorOf(`-1.${SOME_UUID}`),
  cursorOf(`1e3.${SOME_UUID}`),
  cursorOf(`99999999999999999.${SOME_UUID}`),
  cursorOf("o999999999"),
  cursorOf("o-1"),
  "!!!not base64!!!",
  "a".repeat(500),
];

interface Probe {
  path: string;
  field: string;
  value: unknown;
}

interface Finding extends Probe {
  status: number;
  body: string;
}

/** JSON-ish description of a hostile value for failure messages. */
const describeValue = (v: unknown) => (v instanceof Date ? `Date(${v.getTime()})` : JSON.stringify(v)?.slice(0, 60) ?? String(v));

function inputKeys(path: string): string[] {
  const procedure = procedures[path]!;
  const keysOf = (schema: unknown): string[] => {
    const def = (schema as { _zod?: { def?: { type: string; shape?: object; in?: unknown; innerType?: unknown } } })?._zod?.def;
    if (!def) return [];
    if (def.type === "object") return Object.keys(def.shape ?? {});
    if (def.type === "pipe") return keysOf(def.in);
    return def.innerType ? keysOf(def.innerType) : [];
  };
  return [...new Set((procedure._def.inputs ?? []).flatMap(keysOf))];
}

async function call(server: TestServer, token: string, kind: string, path: string, input: unknown): Promise<{ status: number; body: string }> {
  const serialized = JSON.stringify(transformer.serialize(input));
  const headers = { authorization: `Bearer ${token}` };
  if (kind === "mutation") {
    const response = await fetch(`${server.url}/trpc/${path}`, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: serialized });
    return { status: response.status, body: await response.text() };
  }
  const url = `${server.url}/trpc/${path}?input=${encodeURIComponent(serialized)}`;
  if (kind === "query") {
    const response = await fetch(url, { headers });
    return { status: response.status, body: await response.text() };
  }
  // A subscription answers with an event stream: read what comes in the first moments.
  const controller = new AbortController();
  const response = await fetch(url, { headers: { ...headers, accept: "text/event-stream" }, signal: controller.signal });
  const reader = response.body!.getReader();
  let body = "";
  const deadline = Bun.sleep(400).then(() => "timeout" as const);
  for (;;) {
    const next = await Promise.race([reader.read(), deadline]);
    if (next === "timeout" || next.done) break;
    body += new TextDecoder().decode(next.value);
    if (body.includes("serialized-error")) break;
  }
  controller.abort();
  // An error event inside the stream carries the code tRPC would have answered with.
  const status = /"code":"INTERNAL_SERVER_ERROR"/.test(body) ? 500 : response.status;
  return { status, body };
}

/** Runs `tasks` with at most `width` in flight. */
async function inParallel<T>(items: T[], width: number, task: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await task(items[next++]!);
  }));
}

for (const engine of postgresEngines) {
  describe(`hostile input on ${engine}`, () => {
    let server: TestServer;
    const logLines: string[] = [];
    beforeAll(async () => {
      const log = pino({ level: "error" }, { write: (line: string) => void logLines.push(line) });
      server = await startTestServer(engine, { log });
    });
    afterAll(() => server.close());

    test("the table names every procedure of the router", () => {
      expect(Object.keys(valid).sort()).toEqual(Object.keys(appRouter._def.procedures).sort());
    });

    test("every procedure, every field, hostile values: no 500, no SQL or engine text in any answer", async () => {
      const findings: Finding[] = [];
      let calls = 0;
      for (const [path, procedure] of Object.entries(procedures)) {
        const fx = await siteFixture(server);
        const base = valid[path]!(fx);
        const probes: Probe[] = [null, true, 42, "input", [], { siteId: fx.siteId, ...Object.fromEntries(inputKeys(path).map((k) => [k, null])) }].map((value) => ({
          path,
          field: "(whole input)",
          value,
        }));
        for (const field of inputKeys(path)) {
          // siteId is checked by one middleware for all procedures: a few of them are enough.
          if (field === "siteId" && !["sites.get", "plants.list", "analytics.series"].includes(path)) continue;
          const values = field === "cursor" ? [...HOSTILE, ...HOSTILE_CURSORS] : HOSTILE;
          for (const value of values) probes.push({ path, field, value });
        }
        await inParallel(probes, procedure._def.type === "subscription" ? 32 : 6, async (probe) => {
          const input = probe.field === "(whole input)" ? probe.value : { ...(base as object), [probe.field]: probe.value };
          const answer = await call(server, fx.token, procedure._def.type, path, input);
          calls += 1;
          if (answer.status >= 500 || (answer.status >= 400 && LEAK.test(answer.body))) findings.push({ ...probe, ...answer });
        });
      }
      const report = findings.map((f) => `${f.path} ${f.field}=${describeValue(f.value)} → ${f.status} ${f.body.slice(0, 300)}`);
      expect(report).toEqual([]);
      expect(calls).toBeGreaterThan(2000);
    });

    test("cursors that decode to out-of-range dates or malformed ids are refused on cursor", async () => {
      const fx = await siteFixture(server);
      const lists = Object.keys(valid).filter((path) => inputKeys(path).includes("cursor"));
      expect(lists.length).toBeGreaterThanOrEqual(12);
      for (const path of lists) {
        // The species catalog pages by offset: a far offset is a valid (empty) page there.
        for (const cursor of HOSTILE_CURSORS.filter((c) => path !== "species.search" || c !== cursorOf("o999999999"))) {
          const answer = await call(server, fx.token, "query", path, { ...(valid[path]!(fx) as object), cursor });
          if (answer.status === 200) throw new Error(`${path} accepted cursor ${Buffer.from(cursor, "base64url").toString()}: ${answer.body.slice(0, 200)}`);
          const body = JSON.parse(answer.body) as { error: { json: { data: { code: string; issues: { path: string }[] } } } };
          expect({ path, cursor, status: answer.status, code: body.error.json.data.code, fields: body.error.json.data.issues.map((i) => i.path) }).toEqual({
            path,
            cursor,
            status: 400,
            code: "BAD_REQUEST",
            fields: ["cursor"],
          });
        }
      }
    });

    test("every date input has the 2000–2100 range and refuses null, booleans and two-digit years, naming its own field", async () => {
      const fx = await siteFixture(server);
      const dateFields: [string, string][] = [
        ["analytics.series", "from"],
        ["analytics.series", "to"],
        ["analytics.chart", "from"],
        ["analytics.plantMetrics", "from"],
        ["analytics.plantMetrics", "to"],
        ["tasks.upcoming", "from"],
        ["tasks.upcoming", "to"],
        ["tasks.create", "startsAt"],
        ["tasks.update", "startsAt"],
        ["tasks.snooze", "until"],
        ["schedules.create", "startsAt"],
        ["schedules.update", "startsAt"],
        ["schedules.upcoming", "from"],
        ["waterings.record", "startedAt"],
      ];
      const bad: unknown[] = [
        new Date(8.64e15),
        new Date(-62198755200000),
        new Date("0001-06-15T00:00:00Z"),
        new Date("1999-12-31T23:59:59.999Z"),
        new Date("2100-01-01T00:00:00.001Z"),
        "0001-06-15",
        "99-06-15",
        "2025-02-30",
        "2025-06-01T12:00", // no zone: whose noon?
        null,
        true,
        -1,
      ];
      const kinds = procedures;
      for (const [path, field] of dateFields) {
        for (const value of bad) {
          const answer = await call(server, fx.token, kinds[path]!._def.type, path, { ...(valid[path]!(fx) as object), [field]: value });
          const body = JSON.parse(answer.body) as { error?: { json: { data: { code: string; issues?: { path: string }[] } } } };
          expect({ path, value: describeValue(value), code: body.error?.json.data.code, fields: body.error?.json.data.issues?.map((i) => i.path) }).toEqual({
            path,
            value: describeValue(value),
            code: "BAD_REQUEST",
            fields: [field],
          });
        }
      }
      // The edges are in: the first instant of 2000, and the range's end.
      const edge = await call(server, fx.token, "query", "analytics.series", { siteId: fx.siteId, sensorIds: [fx.sensorId], from: "2000-01-01T00:00:00Z", to: new Date("2001-01-01T00:00:00Z") });
      expect(edge.status).toBe(200);
      // A year-1 date is never stored as some other year.
      const before = (await server.stores.db.select({ n: count() }).from(careTasks).where(eq(careTasks.siteId, fx.siteId)))[0]!.n;
      const year1 = await call(server, fx.token, "mutation", "tasks.create", { ...(valid["tasks.create"]!(fx) as object), startsAt: "0001-06-15" });
      expect(year1.status).toBe(400);
      expect((await server.stores.db.select({ n: count() }).from(careTasks).where(eq(careTasks.siteId, fx.siteId)))[0]!.n).toBe(before);
    });

    test("export dates are checked the same way, on their own field", async () => {
      const fx = await siteFixture(server);
      for (const [from, to, field] of [
        ["0001-06-15", "2025-01-01", "from"],
        ["99-06-15", "2025-01-01", "from"],
        ["2025-01-01", "275760-09-13", "to"],
        ["-1", "2025-01-01", "from"],
        ["2025-01-01T00:00", "2025-01-02", "from"],
      ] as const) {
        const response = await fetch(`${server.url}/v1/export?${new URLSearchParams({ siteId: fx.siteId, from, to })}`, { headers: { authorization: `Bearer ${fx.token}` } });
        expect(response.status).toBe(400);
        const body = (await response.json()) as { details: { issues: { path: string }[] } };
        expect({ from, to, fields: body.details.issues.map((i) => i.path) }).toEqual({ from, to, fields: [field] });
      }
    });

    test("an unforeseen failure answers 'internal error' with the request id; the log keeps the detail", async () => {
      const fx = await siteFixture(server);
      const db = server.stores.db;
      // A real engine error: the table a query needs is gone.
      await db.execute(sql`alter table plants rename to plants_elsewhere`);
      try {
        const response = await fetch(`${server.url}/trpc/plants.list?input=${encodeURIComponent(JSON.stringify({ json: { siteId: fx.siteId } }))}`, {
          headers: { authorization: `Bearer ${fx.token}`, "x-request-id": "probe-1" },
        });
        expect(response.status).toBe(500);
        const text = await response.text();
        expect(text).not.toMatch(LEAK);
        const body = JSON.parse(text) as { error: { json: { message: string; data: { code: string; requestId: string } } } };
        expect(body.error.json.message).toBe("internal error (request id probe-1)");
        expect(body.error.json.data).toMatchObject({ code: "INTERNAL_SERVER_ERROR", requestId: "probe-1" });
        const exported = await fetch(`${server.url}/v1/export?${new URLSearchParams({ siteId: fx.siteId, plantId: fx.plantId, from: "2025-01-01", to: "2025-01-02" })}`, {
          headers: { authorization: `Bearer ${fx.token}`, "x-request-id": "probe-2" },
        });
        expect(exported.status).toBe(500);
        expect(await exported.json()).toEqual({ error: "internal error", details: { requestId: "probe-2" } });
      } finally {
        await db.execute(sql`alter table plants_elsewhere rename to plants`);
      }
      const logged = logLines.filter((l) => l.includes("probe-1") || l.includes("probe-2")).join("\n");
      expect(logged).toContain("probe-1");
      expect(logged).toContain("probe-2");
      expect(logged).toMatch(/plants/);
    });
  });
}
