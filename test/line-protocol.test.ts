import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { gzipSync } from "node:zlib";
import { HttpError, InfluxDB as InfluxV2, Point, setLogger } from "@influxdata/influxdb-client";
import { eq } from "drizzle-orm";
import * as Influx from "influx";
import { queryRows } from "../clickhouse/client";
import { devices, sensors } from "../db/schema";
import { startTestServer, type TestServer } from "./support/server";
import { postgresEngines } from "./support/stores";

// InfluxDB line protocol through the real HTTP endpoints (and real InfluxDB client libraries),
// over real stores: what is stored is read back from ClickHouse and through Verdant's own API.

const PASSWORD = "correct horse battery";
// Within the raw retention, on a minute boundary.
const T0 = Math.floor((Date.now() - 3_600_000) / 60_000) * 60_000;
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

for (const engine of postgresEngines) {
  describe(`InfluxDB line protocol on ${engine}`, () => {
    let server: TestServer;
    let siteId: string;
    let api: ReturnType<TestServer["client"]>;
    let ownerToken: string;
    beforeAll(async () => {
      server = await startTestServer(engine);
      const owner = await server.client().auth.register.mutate({ email: `influx-${engine}@example.com`, password: PASSWORD, displayName: "I", client: "app" });
      ownerToken = owner.token!;
      api = server.client(ownerToken);
      siteId = owner.personalSiteId;
    });
    afterAll(() => server.close());

    const newDevice = async (name = "telegraf") => (await api.devices.provision.mutate({ siteId, name })) as { device: { id: string }; token: string };
    const v2 = (token: string | undefined, body: string | Uint8Array, params: Record<string, string> = {}, headers: Record<string, string> = {}) =>
      fetch(`${server.url}/api/v2/write?${new URLSearchParams({ org: "home", bucket: "plants", ...params })}`, {
        method: "POST",
        headers: { ...(token ? { authorization: `Token ${token}` } : {}), "content-type": "text/plain; charset=utf-8", ...headers },
        body: body as BodyInit,
      });
    const v1 = (params: Record<string, string>, body: string | Uint8Array, headers: Record<string, string> = {}) =>
      fetch(`${server.url}/write?${new URLSearchParams({ db: "garden", ...params })}`, { method: "POST", headers, body: body as BodyInit });
    const ch = () => server.stores.clickhouse;
    const sensorsOf = async (deviceId: string) =>
      server.stores.db.select({ id: sensors.id, key: sensors.key, metric: sensors.metric, unit: sensors.unit }).from(sensors).where(eq(sensors.deviceId, deviceId));
    /** What ClickHouse holds for a device: [sensor key, ts, value, raw value], in time and key order. */
    const stored = async (deviceId: string) => {
      // Acknowledged readings reach ClickHouse a moment later.
      await server.settled();
      const keyOf = new Map((await sensorsOf(deviceId)).map((s) => [s.id, s.key]));
      if (keyOf.size === 0) return [];
      const rows = await queryRows<{ sensor_id: string; ts: string; value: number; raw_value: number }>(
        ch(),
        `SELECT sensor_id, toString(toUnixTimestamp64Milli(ts)) AS ts, value, raw_value FROM ${ch().database}.readings WHERE sensor_id IN {s:Array(UUID)}`,
        { s: [...keyOf.keys()] },
      );
      return rows
        .map((r) => [keyOf.get(r.sensor_id)!, Number(r.ts), r.value, r.raw_value] as [string, number, number, number])
        .sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]) || a[2] - b[2]);
    };
    const count = async (deviceId: string) => (await stored(deviceId)).length;

    test("a v2 write is durable before the 204; the spec's escaping rules and number suffixes land as sensor keys and values", async () => {
      const { device, token } = await newDevice();
      const body = [
        String.raw`my\ room\,east,sensor=probe\ 1,host=pi temperature=21.5,humidity=48i,count=7u ${T0}`,
        String.raw`soil\=wet,bed\,nr=1\=a moisture=41.25,tag\ key\,x\=y=3 ${T0 + 1000}`,
        String.raw`notes text="a \"quoted\" word, with \\ backslash",ok=true,on=T,value=-2.5e-1 ${T0 + 2000}`,
      ].join("\n");
      const response = await v2(token, body, { precision: "ms" });
      expect(response.status).toBe(204);
      expect(await response.text()).toBe("");
      expect(response.headers.get("x-influxdb-version")).toBeTruthy();
      expect(response.headers.get("x-verdant-accepted")).toBe("6");
      expect(response.headers.get("x-verdant-not-stored")).toBe("3");
      expect(response.headers.get("x-verdant-not-stored-keys")).toBe("notes.text,notes.ok,notes.on");
      // Acknowledged means committed: readable at once.
      expect(await stored(device.id)).toEqual([
        ["probe_1.my_room_east.count", T0, 7, 7],
        ["probe_1.my_room_east.humidity", T0, 48, 48],
        ["probe_1.my_room_east.temperature", T0, 21.5, 21.5],
        // `=` needs no escape in a measurement: the backslash before it is kept (and folded, like the `=`).
        ["soil__wet.moisture", T0 + 1000, 41.25, 41.25],
        ["soil__wet.tag_key_x_y", T0 + 1000, 3, 3],
        ["notes", T0 + 2000, -0.25, -0.25],
      ]);
    });

    test("metrics are inferred from names and units, or given with a metric tag; new keys become sensors of the device", async () => {
      const { device, token } = await newDevice();
      const body = [
        "soil moisture=41,temperature=18.5",
        "air,sensor=sht31 humidity=55,temperature=21",
        "illuminance,device=tasmota,sensor=bh1750 value=812",
        "lux value=900",
        "tank level=70",
        "probe,metric=ph value=6.4",
        "fertility conductivity=1.2",
        "battery value=87",
        `%,domain=sensor,entity_id=basil_moisture value=33,device_class_str="moisture"`,
        "wifi,sensor=wifi rssi=-60i",
      ].join("\n");
      expect((await v2(token, body)).status).toBe(204);
      const created = Object.fromEntries((await sensorsOf(device.id)).map((s) => [s.key, `${s.metric} ${s.unit}`]));
      expect(created).toEqual({
        "soil.moisture": "soil_moisture %",
        "soil.temperature": "temperature °C",
        "sht31.air.humidity": "humidity %RH",
        "sht31.air.temperature": "temperature °C",
        "bh1750.illuminance": "light lx",
        lux: "light lx",
        "tank.level": "water_level %",
        probe: "ph pH",
        "fertility.conductivity": "ec mS/cm",
        battery: "battery %",
        basil_moisture: "soil_moisture %",
        "wifi.wifi.rssi": "unknown ",
      });
      // Lines without a timestamp got the server's time.
      const times = (await stored(device.id)).map((r) => r[1]);
      expect(Math.max(...times) - Math.min(...times)).toBe(0);
      expect(Math.abs(times[0]! - Date.now())).toBeLessThan(60_000);
      // Battery readings reach the device, as from /v1/ingest.
      await server.ingest.activity.flush();
      const [after] = await server.stores.db.select().from(devices).where(eq(devices.id, device.id));
      expect(after!.batteryPercent).toBe(87);
      expect(after!.lastSeenAt).toBeInstanceOf(Date);
    });

    test("every precision, on both APIs", async () => {
      const { device, token } = await newDevice();
      const ms = T0 + 123;
      const cases: [string, string, number][] = [
        ["ns", `${ms}456789`, ms],
        ["us", `${ms}456`, ms],
        ["ms", `${ms}`, ms],
        ["s", `${T0 / 1000}`, T0],
      ];
      for (const [precision, ts, want] of cases) {
        expect((await v2(token, `p2_${precision} value=1 ${ts}`, { precision })).status).toBe(204);
        expect((await v1({ precision, p: token }, `p1_${precision} value=1 ${ts}`)).status).toBe(204);
        expect((await stored(device.id)).filter((r) => r[0].endsWith(`_${precision}`)).map((r) => [r[0], r[1]])).toEqual([
          [`p1_${precision}`, want],
          [`p2_${precision}`, want],
        ]);
      }
      // 1.x names: n, u, m (minutes) and h (hours); no precision means nanoseconds.
      const hour = Math.floor(T0 / 3_600_000);
      expect((await v1({ precision: "n", p: token }, `n value=1 ${T0}000000`)).status).toBe(204);
      expect((await v1({ precision: "u", p: token }, `u value=1 ${T0}000`)).status).toBe(204);
      expect((await v1({ precision: "m", p: token }, `m value=1 ${T0 / 60_000}`)).status).toBe(204);
      expect((await v1({ precision: "h", p: token }, `h value=1 ${hour}`)).status).toBe(204);
      expect((await v2(token, `none value=1 ${T0}000000`)).status).toBe(204);
      const byKey = Object.fromEntries((await stored(device.id)).map((r) => [r[0], r[1]]));
      expect([byKey.n, byKey.u, byKey.m, byKey.h, byKey.none]).toEqual([T0, T0, T0, hour * 3_600_000, T0]);
      // A precision that does not fit the timestamps says so, and stores nothing.
      const wrong = await v2(token, `wrong value=1 ${T0}`, { precision: "ns" });
      expect(wrong.status).toBe(400);
      expect(((await wrong.json()) as { message: string }).message).toContain("the precision right (this request's is ns)?");
      const unknown = await v2(token, `x value=1`, { precision: "fortnight" });
      expect(unknown.status).toBe(400);
      expect(await unknown.json()).toMatchObject({ code: "invalid", message: expect.stringContaining("invalid precision 'fortnight'") });
      expect(byKey.wrong).toBeUndefined();
    });

    test("gzip bodies are accepted; a gzip bomb is 413; bytes that are not gzip are 400", async () => {
      const { device, token } = await newDevice();
      const lines = Array.from({ length: 200 }, (_, i) => `soil,sensor=s${i % 4} moisture=${40 + (i % 7)} ${T0 + i * 1000}`).join("\n");
      const response = await v2(token, gzipSync(lines), { precision: "ms" }, { "content-encoding": "gzip" });
      expect(response.status).toBe(204);
      expect(await count(device.id)).toBe(200);
      const bomb = gzipSync(`m value=1 ${"#".repeat(5 * 1024 * 1024)}`);
      expect(bomb.byteLength).toBeLessThan(100_000);
      const tooBig = await v1({ p: token }, bomb, { "content-encoding": "gzip" });
      expect(tooBig.status).toBe(413);
      expect(((await tooBig.json()) as { error: string }).error).toContain("after gunzip");
      const notGzip = await v2(token, "m value=1", {}, { "content-encoding": "gzip" });
      expect(notGzip.status).toBe(400);
      expect(await notGzip.json()).toMatchObject({ code: "invalid", message: expect.stringContaining("not valid gzip") });
      const brotli = await v2(token, "m value=1", {}, { "content-encoding": "br" });
      expect(brotli.status).toBe(415);
      expect(await count(device.id)).toBe(200);
    });

    test("a malformed line in the middle refuses the whole body: 400 naming the line, nothing stored", async () => {
      const { device, token } = await newDevice();
      const body = [`soil moisture=41 ${T0}`, `soil moisture=42 ${T0 + 1000}`, `soil moisture= ${T0 + 2000}`, `soil moisture=43 ${T0 + 3000}`].join("\n");
      const r2 = await v2(token, body, { precision: "ms" });
      expect(r2.status).toBe(400);
      expect(await r2.json()).toEqual({ code: "invalid", message: `unable to parse line 3 (column 15): missing field value: 'soil moisture= ${T0 + 2000}'`, line: 3 });
      const r1 = await v1({ p: token, precision: "ms" }, body.replace("soil moisture= ", "soil moisture=41,x=yes "));
      expect(r1.status).toBe(400);
      const error = ((await r1.json()) as { error: string }).error;
      expect(error).toBe(`unable to parse line 3 (column 20): invalid number 'yes': 'soil moisture=41,x=yes ${T0 + 2000}'`);
      expect(r1.headers.get("x-influxdb-error")).toBe(error);
      // Nothing of either body: no rows in ClickHouse, not even new sensors.
      expect(await count(device.id)).toBe(0);
      expect(await sensorsOf(device.id)).toEqual([]);
      // A line that parses but cannot be stored refuses the body the same way.
      const future = await v2(token, `soil moisture=41 ${T0}\nsoil moisture=41 ${Date.now() + 3_600_000}`, { precision: "ms" });
      expect(future.status).toBe(400);
      expect(await future.json()).toMatchObject({ line: 2, message: expect.stringContaining("unable to store line 2: timestamp is") });
      const metric = await v2(token, "probe,metric=mood value=1");
      expect(await metric.json()).toMatchObject({ code: "invalid", line: 1 });
      expect(await count(device.id)).toBe(0);
    });

    test("a retried timestamped body is stored once, after a restart too; the same untimestamped body twice is stored twice", async () => {
      const { device, token } = await newDevice();
      const timed = `soil moisture=41 ${T0}\nsoil moisture=42 ${T0 + 60_000}\nair temperature=20 ${T0}`;
      const first = await v2(token, timed, { precision: "ms" });
      expect([first.status, first.headers.get("x-verdant-accepted"), first.headers.get("x-verdant-duplicates")]).toEqual([204, "3", "0"]);
      const retry = await v2(token, timed, { precision: "ms" });
      expect([retry.status, retry.headers.get("x-verdant-accepted"), retry.headers.get("x-verdant-duplicates")]).toEqual([204, "0", "3"]);
      expect(retry.headers.get("x-verdant-batch-id")).toBe(first.headers.get("x-verdant-batch-id"));
      // The same body gzipped, through the 1.x endpoint: the same bytes after gunzip, the same batch.
      const gz = await v1({ p: token, precision: "ms" }, gzipSync(timed), { "content-encoding": "gzip" });
      expect(gz.headers.get("x-verdant-duplicates")).toBe("3");
      // A restart forgets what the process remembered: ClickHouse itself answers.
      await server.restartIngest();
      expect((await v2(token, timed, { precision: "ms" })).headers.get("x-verdant-duplicates")).toBe("3");
      expect(await count(device.id)).toBe(3);

      // Tasmota sends the same untimestamped line every period: each send is a new reading.
      const untimed = "temperature,device=tasmota,sensor=ds18b20 value=24.5";
      const a = await v1({ u: "tasmota", p: token }, untimed);
      await Bun.sleep(5); // two receive times
      const b = await v1({ u: "tasmota", p: token }, untimed);
      expect([a.status, b.status]).toEqual([204, 204]);
      expect([a.headers.get("x-verdant-accepted"), b.headers.get("x-verdant-accepted")]).toEqual(["1", "1"]);
      expect(a.headers.get("x-verdant-batch-id")).not.toBe(b.headers.get("x-verdant-batch-id"));
      const tasmota = (await stored(device.id)).filter((r) => r[0] === "ds18b20.temperature");
      expect(tasmota.map((r) => r[2])).toEqual([24.5, 24.5]);
      // A mixed body (one line without a timestamp) is never taken for a duplicate either.
      const mixed = `soil moisture=41 ${T0}\nsoil moisture=50`;
      expect((await v2(token, mixed, { precision: "ms" })).headers.get("x-verdant-accepted")).toBe("2");
      expect((await v2(token, mixed, { precision: "ms" })).headers.get("x-verdant-accepted")).toBe("2");
      expect(await count(device.id)).toBe(3 + 2 + 4);
    });

    test("credentials: 1.x u/p, basic auth and token headers, 2.x Token; 401 and 403 in each API's shape", async () => {
      const { device, token } = await newDevice();
      const line = (n: number) => `auth value=${n}`;
      expect((await v1({ u: "any", p: token }, line(1))).status).toBe(204);
      expect((await v1({}, line(2), { authorization: basic("telegraf", token) })).status).toBe(204);
      expect((await v1({}, line(3), { authorization: `Token ${token}` })).status).toBe(204);
      expect((await v1({}, line(4), { authorization: `Bearer ${token}` })).status).toBe(204);
      expect((await v2(token, line(5))).status).toBe(204);
      expect((await v2(undefined, line(6), {}, { authorization: `Bearer ${token}` })).status).toBe(204);
      expect((await stored(device.id)).map((r) => r[2]).sort()).toEqual([1, 2, 3, 4, 5, 6]);

      const none1 = await v1({}, line(9));
      expect(none1.status).toBe(401);
      expect(((await none1.json()) as { error: string }).error).toStartWith("authorization failed: no device token");
      const unknown1 = await v1({ u: "x", p: "vdt_unknown" }, line(9));
      expect(unknown1.status).toBe(401);
      expect(await unknown1.json()).toEqual({ error: "authorization failed: unknown device token" });
      const none2 = await v2(undefined, line(9));
      expect(none2.status).toBe(401);
      expect(await none2.json()).toMatchObject({ code: "unauthorized", message: expect.stringContaining("no device token") });
      const unknown2 = await v2("vdt_unknown", line(9));
      expect(await unknown2.json()).toEqual({ code: "unauthorized", message: "unauthorized access: unknown device token" });
      // A user's session token is not a device credential.
      expect((await v2(ownerToken, line(9))).status).toBe(401);

      await api.devices.revoke.mutate({ siteId, deviceId: device.id });
      const revoked1 = await v1({ p: token }, line(9));
      expect(revoked1.status).toBe(403);
      expect(((await revoked1.json()) as { error: string }).error).toContain("revoked");
      const revoked2 = await v2(token, line(9));
      expect(revoked2.status).toBe(403);
      expect(await revoked2.json()).toMatchObject({ code: "forbidden" });
      for (const path of ["/query?q=SHOW+DATABASES", "/api/v2/buckets", "/api/v2/orgs"]) {
        expect((await fetch(`${server.url}${path}`, { headers: { authorization: `Token ${token}` } })).status).toBe(403);
        expect((await fetch(`${server.url}${path}`)).status).toBe(401);
      }
      expect(await count(device.id)).toBe(6);
    });

    test("limits: too many readings and too many bytes are 413 in each API's shape", async () => {
      const { device, token } = await newDevice();
      const many = Array.from({ length: 10_001 }, (_, i) => `m value=${i}`).join("\n");
      const r2 = await v2(token, many);
      expect(r2.status).toBe(413);
      expect(await r2.json()).toMatchObject({ code: "request too large", message: expect.stringContaining("10001 numeric fields > 10000") });
      const huge = `m value=1 ${"#".repeat(5 * 1024 * 1024)}`;
      const r1 = await v1({ p: token }, huge);
      expect(r1.status).toBe(413);
      expect(((await r1.json()) as { error: string }).error).toContain("body larger than");
      // String fields are not readings: they do not count against the limit.
      const strings = Array.from({ length: 10_001 }, (_, i) => `m note="n${i}"`).join("\n");
      expect((await v2(token, strings)).status).toBe(204);
      expect(await count(device.id)).toBe(0);
    });

    test("an empty write is 204 on 1.x (Home Assistant's connection test) and 'writing requires points' on 2.x", async () => {
      const { token } = await newDevice();
      expect((await v1({ p: token }, "")).status).toBe(204);
      const empty2 = await v2(token, "# only a comment\n");
      expect(empty2.status).toBe(400);
      expect(await empty2.json()).toEqual({ code: "invalid", message: "writing requires points" });
      // Credentials are checked first: an empty write with a bad token says so.
      expect((await v2("vdt_unknown", "")).status).toBe(401);
    });

    test("a device may not create more sensors than its limit: 400, nothing stored", async () => {
      const { device, token } = await newDevice();
      const body = Array.from({ length: 65 }, (_, i) => `m${i} value=1 ${T0}`).join("\n");
      const response = await v2(token, body, { precision: "ms" });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { message: string }).message).toContain("the limit is 64");
      expect(await count(device.id)).toBe(0);
    });

    test("calibration applies and automation runs on commit, as for /v1/ingest; readings show in latest values and the export", async () => {
      const { device, token } = await newDevice("greenhouse");
      expect((await v2(token, `soil,sensor=bed1 moisture=2000 ${T0}`, { precision: "ms" })).status).toBe(204);
      const [soil] = await sensorsOf(device.id);
      // Dry soil reads 3000 (0 %), wet soil 1000 (100 %).
      await api.sensors.setCalibration.mutate({ siteId, sensorId: soil!.id, rawLow: 3000, valueLow: 0, rawHigh: 1000, valueHigh: 100 });
      const rule = await api.rules.create.mutate({
        siteId,
        name: "Dry bed",
        kind: "threshold",
        target: { type: "sensor", sensorId: soil!.id },
        comparison: "below",
        threshold: 30,
        actions: [{ type: "alert", severity: "warning", title: "{sensor} at {value}" }],
      });
      expect((await v2(token, `soil,sensor=bed1 moisture=2500 ${T0 + 60_000}`, { precision: "ms" })).status).toBe(204);
      expect(await stored(device.id)).toEqual([
        ["bed1.soil.moisture", T0, 2000, 2000],
        ["bed1.soil.moisture", T0 + 60_000, 25, 2500],
      ]);
      await server.settled();
      const alerts = (await api.alerts.list.query({ siteId, status: "active" })).items.filter((a) => a.rule === `rule:${rule.id}`);
      expect(alerts).toHaveLength(1);

      const latest = await api.analytics.latest.query({ siteId, withSensors: true });
      const at = latest.values.sensorId.indexOf(soil!.id);
      expect([latest.values.value[at], latest.values.ts[at], latest.sensors!.key[at], latest.sensors!.metric[at]]).toEqual([25, T0 + 60_000, "bed1.soil.moisture", "soil_moisture"]);
      const csv = await fetch(`${server.url}/v1/export?${new URLSearchParams({ siteId, sensorIds: soil!.id, from: String(T0), to: String(T0 + 120_000) })}`, {
        headers: { authorization: `Bearer ${ownerToken}` },
      });
      expect((await csv.text()).trimEnd().split("\n").slice(1)).toEqual([
        `${new Date(T0).toISOString()},${soil!.id},greenhouse,bed1.soil.moisture,soil_moisture,%,,2000,2000`,
        `${new Date(T0 + 60_000).toISOString()},${soil!.id},greenhouse,bed1.soil.moisture,soil_moisture,%,,25,2500`,
      ]);
    });

    test("what clients ask on connect: /ping, /health, /query, /api/v2/buckets and /api/v2/orgs", async () => {
      const { token } = await newDevice();
      const ping = await fetch(`${server.url}/ping`);
      expect(ping.status).toBe(204);
      const version = ping.headers.get("x-influxdb-version");
      expect(version).toBeTruthy();
      expect((await fetch(`${server.url}/ping`, { method: "HEAD" })).status).toBe(204);
      // Tasmota (1.x) validates its connection with a verbose ping and wants 200.
      const verbose = await fetch(`${server.url}/ping?verbose=true&u=tasmota&p=${token}`);
      expect(verbose.status).toBe(200);
      expect(await verbose.json()).toEqual({ version });
      // Tasmota (2.x) asks /health.
      const health = await fetch(`${server.url}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ name: "influxdb", status: "pass" });

      // Telegraf's outputs.influxdb creates its database with a form POST and basic auth.
      const create = await fetch(`${server.url}/query`, {
        method: "POST",
        headers: { authorization: basic("telegraf", token), "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ q: 'CREATE DATABASE "telegraf"' }),
      });
      expect(create.status).toBe(200);
      expect(await create.json()).toEqual({ results: [{ statement_id: 0 }] });
      const show = await fetch(`${server.url}/query?${new URLSearchParams({ q: "SHOW DATABASES", u: "ha", p: token })}`);
      expect(await show.json()).toEqual({ results: [{ statement_id: 0, series: [{ name: "databases", columns: ["name"], values: [["verdant"]] }] }] });
      const select = await fetch(`${server.url}/query?${new URLSearchParams({ q: "SELECT * FROM soil", p: token })}`);
      expect(select.status).toBe(200);
      expect(((await select.json()) as { results: { error: string }[] }).results[0]!.error).toContain("not supported");
      const noQuery = await fetch(`${server.url}/query?p=${token}`);
      expect(noQuery.status).toBe(400);
      expect(await noQuery.json()).toEqual({ error: 'missing required parameter "q"' });

      const buckets = await fetch(`${server.url}/api/v2/buckets?name=plants&org=home`, { headers: { authorization: `Token ${token}` } });
      expect(buckets.status).toBe(200);
      const bucketBody = (await buckets.json()) as { buckets: { id: string; name: string; orgID: string }[] };
      expect(bucketBody.buckets).toHaveLength(1);
      expect(bucketBody.buckets[0]).toMatchObject({ name: "plants", id: expect.stringMatching(/^[0-9a-f]{16}$/) });
      const orgs = await fetch(`${server.url}/api/v2/orgs?org=home`, { headers: { authorization: `Token ${token}` } });
      expect(((await orgs.json()) as { orgs: { id: string; name: string }[] }).orgs).toEqual([
        expect.objectContaining({ id: bucketBody.buckets[0]!.orgID, name: "home" }),
      ]);
    });

    test("the official InfluxDB 2.x client library writes through /api/v2/write (gzip above its threshold)", async () => {
      const { device, token } = await newDevice("client-v2");
      const influx = new InfluxV2({ url: server.url, token });
      // Bodies over 1,000 bytes go gzipped (set here as the library's default is, to be explicit).
      const writeApi = influx.getWriteApi("home", "plants", "ms", { maxRetries: 0, gzipThreshold: 1_000 });
      writeApi.useDefaultTags({ host: "greenhouse" });
      for (let i = 0; i < 100; i++) {
        writeApi.writePoint(
          new Point("soil")
            .tag("sensor", `bed ${i % 3}`)
            .floatField("moisture", 40 + i / 10)
            .intField("raw", 2000 + i)
            .booleanField("dry", false)
            .stringField("note", 'said "hi", with, commas')
            .timestamp(new Date(T0 + i * 1000)),
        );
      }
      await writeApi.close();
      const rows = await stored(device.id);
      expect(rows).toHaveLength(200);
      expect(rows.filter((r) => r[0] === "bed_1.soil.moisture").map((r) => r[2])).toEqual(Array.from({ length: 33 }, (_, k) => 40 + (3 * k + 1) / 10));
      expect(new Set(rows.map((r) => r[0]))).toEqual(new Set(["bed_0.soil.moisture", "bed_0.soil.raw", "bed_1.soil.moisture", "bed_1.soil.raw", "bed_2.soil.moisture", "bed_2.soil.raw"]));
      // A bad token is the client's HttpError 401 (which the library also logs: quiet here).
      const bad = new InfluxV2({ url: server.url, token: "vdt_unknown" }).getWriteApi("home", "plants", "ms", { maxRetries: 0 });
      bad.writeRecord("soil moisture=1");
      const logger = setLogger({ error: () => {}, warn: () => {} });
      const error = await bad
        .close()
        .then(
          () => undefined,
          (e: unknown) => e,
        )
        .finally(() => setLogger(logger));
      expect(error).toBeInstanceOf(HttpError);
      expect((error as HttpError).statusCode).toBe(401);
    });

    test("the 1.x client library (influx on npm): ping, databases, writes with basic auth", async () => {
      const { device, token } = await newDevice("client-v1");
      const port = Number(new URL(server.url).port);
      const influx = new Influx.InfluxDB({ host: "127.0.0.1", port, database: "garden", username: "node", password: token });
      const [pong] = await influx.ping(5_000);
      expect(pong!.online).toBe(true);
      expect(pong!.version).toBeTruthy();
      expect(await influx.getDatabaseNames()).toContain("verdant");
      await influx.createDatabase("garden");
      await influx.writePoints(
        [
          { measurement: "soil", tags: { sensor: "pot 1" }, fields: { moisture: 38.5, note: "repotted" }, timestamp: new Date(T0) },
          { measurement: "air", fields: { temperature: 21.25, humidity: 50 }, timestamp: new Date(T0 + 1000) },
        ],
        { precision: "ms" },
      );
      expect(await stored(device.id)).toEqual([
        ["pot_1.soil.moisture", T0, 38.5, 38.5],
        ["air.humidity", T0 + 1000, 50, 50],
        ["air.temperature", T0 + 1000, 21.25, 21.25],
      ]);
      const stranger = new Influx.InfluxDB({ host: "127.0.0.1", port, database: "garden", username: "node", password: "vdt_unknown" });
      await expect(stranger.writePoints([{ measurement: "m", fields: { v: 1 } }])).rejects.toThrow("authorization failed");
    });
  });
}

describe("line protocol under pressure", () => {
  test("a full queue answers 429 with Retry-After (2.x shape) and loses nothing it acknowledged", async () => {
    const server = await startTestServer("pglite", { ingest: { maxQueueRows: 100, flushMs: 300 } });
    try {
      const owner = await server.client().auth.register.mutate({ email: "lp-pressure@example.com", password: PASSWORD, displayName: "P", client: "app" });
      const { token } = await server.client(owner.token!).devices.provision.mutate({ siteId: owner.personalSiteId, name: "d" });
      const send = (start: number) =>
        fetch(`${server.url}/api/v2/write?bucket=b&org=o&precision=ms`, {
          method: "POST",
          headers: { authorization: `Token ${token}` },
          body: Array.from({ length: 80 }, (_, i) => `t value=${i} ${T0 + start + i}`).join("\n"),
        });
      expect((await send(0)).status).toBe(204); // the sensor exists before the race
      await server.settled(); // and the queue is empty
      const [first, second] = await Promise.all([send(1000), send(2000)]);
      expect([first.status, second.status].sort()).toEqual([204, 429]);
      const refused = first.status === 429 ? first : second;
      expect(refused.headers.get("retry-after")).toBe("1");
      expect(await refused.json()).toMatchObject({ code: "too many requests" });
      await server.settled();
      const n = await queryRows<{ n: string }>(server.stores.clickhouse, `SELECT count() AS n FROM ${server.stores.clickhouse.database}.readings`);
      expect(Number(n[0]!.n)).toBe(160);
    } finally {
      await server.close();
    }
  });

  test("while ClickHouse fails, writes are still acknowledged from the log, /health fails, and they land once it is back", async () => {
    const server = await startTestServer("pglite");
    try {
      const owner = await server.client().auth.register.mutate({ email: "lp-down@example.com", password: PASSWORD, displayName: "D", client: "app" });
      const { token } = await server.client(owner.token!).devices.provision.mutate({ siteId: owner.personalSiteId, name: "d" });
      const ch = server.stores.clickhouse;
      const ts = Date.now();
      const send = () => fetch(`${server.url}/write?db=x&precision=ms&p=${token}`, { method: "POST", body: `t value=1 ${ts}` });
      await ch.client.command({ query: `RENAME TABLE ${ch.database}.readings TO ${ch.database}.readings_away` });
      const response = await send();
      expect([response.status, response.headers.get("x-verdant-accepted")]).toEqual([204, "1"]);
      let health = await fetch(`${server.url}/health`);
      for (let i = 0; i < 100 && health.status === 200; i++) {
        await Bun.sleep(20);
        health = await fetch(`${server.url}/health`);
      }
      expect(health.status).toBe(503);
      expect(await health.json()).toMatchObject({ status: "fail" });
      // The same timestamped body again is the same batch: a duplicate, from the log.
      expect((await send()).headers.get("x-verdant-duplicates")).toBe("1");
      await ch.client.command({ query: `RENAME TABLE ${ch.database}.readings_away TO ${ch.database}.readings` });
      await server.settled();
      const n = await queryRows<{ n: string }>(ch, `SELECT count() AS n FROM ${ch.database}.readings`);
      expect(Number(n[0]!.n)).toBe(1);
      expect((await fetch(`${server.url}/health`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
