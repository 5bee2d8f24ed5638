import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTRPCClient, httpSubscriptionLink, TRPCClientError } from "@trpc/client";
import superjson from "superjson";
import { FetchEventSource, type AppRouter } from "../client";
import { raiseAlert } from "../server/alerts/alerts";
import { startTestServer, type TestServer } from "./support/server";
import { postgresEngines } from "./support/stores";

/**
 * Live updates through the typed client's subscriptions (server-sent events): what happens in a
 * site reaches its members' open streams, from this server or another, and nothing of another
 * site ever does. Refused callers get an error, not a stream.
 */

const PASSWORD = "correct horse battery";
const T0 = Math.floor((Date.now() - 3_600_000) / 60_000) * 60_000;

interface Subscription<T> {
  events: T[];
  errors: unknown[];
  waitFor(predicate: (events: T[]) => boolean, timeoutMs?: number): Promise<T[]>;
  stop(): void;
}

/** Subscribes and collects; `waitFor` polls the collected events until the predicate holds. */
function collect<T>(subscribe: (handlers: { onData: (d: T) => void; onError: (e: unknown) => void }) => { unsubscribe(): void }): Subscription<T> {
  const events: T[] = [];
  const errors: unknown[] = [];
  const sub = subscribe({ onData: (d) => events.push(d), onError: (e) => errors.push(e) });
  return {
    events,
    errors,
    async waitFor(predicate, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(events) && Date.now() < deadline) await Bun.sleep(20);
      if (!predicate(events)) throw new Error(`condition not met in ${timeoutMs} ms; got ${JSON.stringify(events)} errors ${String(errors)}`);
      return events;
    },
    stop: () => sub.unsubscribe(),
  };
}

async function until(condition: () => boolean, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await Bun.sleep(20);
  if (!condition()) throw new Error("timed out");
}

for (const engine of postgresEngines) {
  describe(`live updates on ${engine}`, () => {
    let server: TestServer;
    let api: ReturnType<TestServer["client"]>;
    let token: string;
    let siteId: string;
    let other: { api: ReturnType<TestServer["client"]>; token: string; siteId: string };
    let deviceToken: string;
    let lampId: string;
    let key = 0;

    beforeAll(async () => {
      server = await startTestServer(engine);
      const owner = await server.client().auth.register.mutate({ email: "live@example.com", password: PASSWORD, displayName: "L", client: "app" });
      token = owner.token!;
      api = server.client(token);
      siteId = owner.personalSiteId;
      const outsider = await server.client().auth.register.mutate({ email: "live-other@example.com", password: PASSWORD, displayName: "O", client: "app" });
      other = { api: server.client(outsider.token!), token: outsider.token!, siteId: outsider.personalSiteId };
      const provisioned = await api.devices.provision.mutate({ siteId, name: "hub" });
      deviceToken = provisioned.token;
      lampId = (await api.actuators.create.mutate({ siteId, deviceId: provisioned.device.id, key: "lamp1", kind: "lamp" })).id;
    });
    afterAll(() => server.close());

    const listeners = (event: "alert.changed" | "command.changed" | "readings.committed", events = server.events) => () => events.has(event);
    const ingest = (tokenOf: string, batchId: string, readings: unknown[]) =>
      fetch(`${server.url}/v1/ingest`, {
        method: "POST",
        headers: { authorization: `Bearer ${tokenOf}`, "content-type": "application/json" },
        body: JSON.stringify({ batchId, readings }),
      });

    test("alerts raised, acknowledged and resolved reach the site's subscribers, and only theirs", async () => {
      const mine = collect<any>((h) => api.live.alerts.subscribe({ siteId }, h));
      const theirs = collect<any>((h) => other.api.live.alerts.subscribe({ siteId: other.siteId }, h));
      await until(() => server.events.has("alert.changed"));
      await Bun.sleep(200); // both streams listening
      const now = new Date();
      const { alert } = await raiseAlert(server.stores.db, { siteId, rule: "soil_moisture.low", subject: "p1", severity: "warning", title: "Dry soil" }, now);
      await raiseAlert(server.stores.db, { siteId, rule: "soil_moisture.low", subject: "p1", severity: "warning", title: "Dry soil" }, now);
      await api.alerts.acknowledge.mutate({ siteId, alertId: alert.id });
      await api.alerts.resolve.mutate({ siteId, alertId: alert.id });
      const got = await mine.waitFor((e) => e.length >= 4);
      expect(got.map((e) => [e.alertId, e.change, e.status, e.occurrences])).toEqual([
        [alert.id, "raised", "active", 1],
        [alert.id, "raised", "active", 2],
        [alert.id, "acknowledged", "acknowledged", 2],
        [alert.id, "resolved", "resolved", 2],
      ]);
      expect(got[0]).toMatchObject({ siteId, rule: "soil_moisture.low", subject: "p1", severity: "warning", title: "Dry soil" });
      // The other site's alert reaches the other site only.
      const { alert: theirAlert } = await raiseAlert(server.stores.db, { siteId: other.siteId, rule: "r", subject: "s", severity: "info", title: "Theirs" }, now);
      await theirs.waitFor((e) => e.length === 1);
      expect(theirs.events.map((e) => e.alertId)).toEqual([theirAlert.id]);
      await Bun.sleep(200);
      expect(mine.events).toHaveLength(4);
      mine.stop();
      theirs.stop();
      await until(() => !server.events.has("alert.changed"));
    });

    test("command states follow the command from queueing to its result", async () => {
      const sub = collect<any>((h) => api.live.commands.subscribe({ siteId, actuatorId: lampId }, h));
      await until(listeners("command.changed"));
      await Bun.sleep(100);
      const { command } = await api.commands.create.mutate({ siteId, actuatorId: lampId, command: { action: "switch", state: "on" }, idempotencyKey: `live-${++key}` });
      await fetch(`${server.url}/v1/commands`, { headers: { authorization: `Bearer ${deviceToken}` } });
      for (const status of ["acknowledged", "succeeded"]) {
        await fetch(`${server.url}/v1/commands/${command.id}/ack`, {
          method: "POST",
          headers: { authorization: `Bearer ${deviceToken}`, "content-type": "application/json" },
          body: JSON.stringify({ status, detail: status === "succeeded" ? "on" : undefined }),
        });
      }
      const got = await sub.waitFor((e) => e.length >= 4);
      expect(got.map((e) => [e.commandId, e.status])).toEqual([
        [command.id, "pending"],
        [command.id, "sent"],
        [command.id, "acknowledged"],
        [command.id, "succeeded"],
      ]);
      expect(got[3]).toMatchObject({ siteId, actuatorId: lampId, detail: "on" });
      sub.stop();
    });

    test("readings arrive as the latest value per sensor of the site's own devices", async () => {
      const theirDevice = await other.api.devices.provision.mutate({ siteId: other.siteId, name: "theirs" });
      const mine = collect<any>((h) => api.live.readings.subscribe({ siteId }, h));
      const theirs = collect<any>((h) => other.api.live.readings.subscribe({ siteId: other.siteId }, h));
      await until(listeners("readings.committed"));
      await Bun.sleep(200);
      expect((await ingest(deviceToken, `live-${++key}`, [
        { sensor: "soil1", ts: T0, value: 40 },
        { sensor: "soil1", ts: T0 + 60_000, value: 38.5 },
        { sensor: "soil1", ts: T0 - 60_000, value: 44 },
        { sensor: "temp", ts: T0, value: 21.25 },
      ])).status).toBe(200);
      const got = await mine.waitFor((e) => e.length >= 1);
      const latest = Object.fromEntries(got.flatMap((m) => m.readings).map((r: any) => [r.metric, [r.ts, r.value]]));
      expect(latest).toEqual({ soil_moisture: [T0 + 60_000, 38.5], temperature: [T0, 21.25] });
      await Bun.sleep(300);
      expect(theirs.events).toEqual([]);
      expect((await ingest(theirDevice.token, `theirs-${++key}`, [{ sensor: "soil1", ts: T0, value: 12 }])).status).toBe(200);
      await theirs.waitFor((e) => e.length === 1);
      expect(theirs.events[0].readings.map((r: any) => r.value)).toEqual([12]);
      await Bun.sleep(200);
      expect(mine.events.flatMap((m) => m.readings).map((r: any) => r.value).sort()).toEqual([21.25, 38.5]);
      mine.stop();
      theirs.stop();
    });

    test("an alert raised through another server reaches a subscriber on this one", async () => {
      const peer = await server.peer();
      try {
        const sub = collect<any>((h) => api.live.alerts.subscribe({ siteId }, h));
        await until(listeners("alert.changed"));
        await Bun.sleep(100);
        const peerApi = peer.client(token);
        const { alert } = await raiseAlert(server.stores.db, { siteId, rule: "battery.low", subject: "hub", severity: "critical", title: "Battery low" }, new Date());
        await peerApi.alerts.acknowledge.mutate({ siteId, alertId: alert.id });
        const got = await sub.waitFor((e) => e.length >= 2);
        expect(got.map((e) => [e.alertId, e.change])).toEqual([
          [alert.id, "raised"],
          [alert.id, "acknowledged"],
        ]);
        sub.stop();
      } finally {
        await peer.close();
      }
    });

    test("anonymous callers and outsiders get an error, never a stream", async () => {
      const anonymous = collect<any>((h) => server.client().live.alerts.subscribe({ siteId }, h));
      const outsider = collect<any>((h) => other.api.live.commands.subscribe({ siteId }, h));
      await until(() => anonymous.errors.length > 0 && outsider.errors.length > 0);
      const codeOf = (e: unknown) => (e instanceof TRPCClientError ? e.data?.code : String(e));
      expect(codeOf(anonymous.errors[0])).toBe("UNAUTHORIZED");
      expect(codeOf(outsider.errors[0])).toBe("NOT_FOUND");
      anonymous.stop();
      outsider.stop();
    });

    test("a token in connectionParams authenticates a stream whose EventSource cannot send headers", async () => {
      const client = createTRPCClient<AppRouter>({
        links: [httpSubscriptionLink({ url: `${server.url}/trpc`, transformer: superjson, EventSource: FetchEventSource, connectionParams: { token } })],
      });
      const sub = collect<any>((h) => client.live.alerts.subscribe({ siteId }, h));
      await until(listeners("alert.changed"));
      await Bun.sleep(100);
      const { alert } = await raiseAlert(server.stores.db, { siteId, rule: "light.low", subject: "x", severity: "info", title: "Dark" }, new Date());
      expect((await sub.waitFor((e) => e.length === 1))[0].alertId).toBe(alert.id);
      sub.stop();
    });

    test("a server restart cuts the stream; the client reconnects and keeps receiving", async () => {
      const sub = collect<any>((h) => api.live.alerts.subscribe({ siteId }, h));
      await until(listeners("alert.changed"));
      await Bun.sleep(100);
      const started = Date.now();
      await server.restart();
      expect(Date.now() - started).toBeLessThan(1_500);
      await until(listeners("alert.changed"), 10_000);
      await Bun.sleep(100);
      const { alert } = await raiseAlert(server.stores.db, { siteId, rule: "after.restart", subject: "x", severity: "warning", title: "Back" }, new Date());
      expect((await sub.waitFor((e) => e.some((a) => a.alertId === alert.id))).length).toBeGreaterThan(0);
      expect(sub.errors).toEqual([]);
      sub.stop();
    });
  });
}
