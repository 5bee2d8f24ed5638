import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { testClock } from "./support/clock";
import { gardenOwner, post, type Api } from "./support/garden";
import { startTestServer, type TestServer } from "./support/server";
import { postgresEngines } from "./support/stores";
import { startReceiver } from "./support/webhook-receiver";

/**
 * The automation and the notifications together, as the server wires them: a rule that fires on
 * ingested readings reaches the site's webhook twice (the alert it raised, and its explicit notify
 * action), signed; clearing the condition sends the resolution; a live subscriber sees the alert.
 */

const MIN = 60_000;

for (const engine of postgresEngines) {
  describe(`automation → webhooks on ${engine}`, () => {
    const clock = testClock(new Date(Math.floor(Date.now() / MIN) * MIN));
    const receiver = startReceiver();
    let server: TestServer;
    let api: Api;
    let siteId: string;
    let token: string;
    let plantId: string;

    beforeAll(async () => {
      server = await startTestServer(engine, { now: clock.now });
      ({ api, siteId } = await gardenOwner(server, `automation-notify-${engine}@example.com`));
      const provisioned = await api.devices.provision.mutate({ siteId, name: "hub" });
      token = provisioned.token;
      plantId = (await api.plants.create.mutate({ siteId, name: "Fern", thresholds: { soil_moisture: { min: 40 } } })).id;
      await api.sensors.create.mutate({ siteId, deviceId: provisioned.device.id, key: "soil", metric: "soil_moisture", plantId });
    });
    afterAll(async () => {
      await server.close();
      receiver.stop();
    });

    test("a firing rule's alert and notify action arrive signed; its clearing sends the resolution", async () => {
      const hook = await api.notifications.createWebhook.mutate({ siteId, name: "phone", url: receiver.url, minSeverity: "info" });
      receiver.trust(hook.secret);
      const rule = await api.rules.create.mutate({
        siteId,
        name: "Fern dry",
        kind: "threshold",
        target: { type: "plant", plantId },
        metric: "soil_moisture",
        comparison: "below",
        threshold: { plantRange: "min" },
        hysteresis: 2,
        actions: [
          { type: "alert", severity: "warning", title: "{plant} is dry" },
          { type: "notify", severity: "info", title: "{plant} at {value}{unit}" },
        ],
      });

      const alerts: { change: string; title: string }[] = [];
      const subscription = server.client(await sessionToken(server, `automation-notify-${engine}@example.com`)).live.alerts.subscribe(
        { siteId },
        { onData: (event) => void alerts.push({ change: event.change, title: event.title }) },
      );
      try {
        await Bun.sleep(100); // the stream is open
        const t = clock.now().getTime() - 10 * MIN;
        await post(server, token, [{ sensor: "soil", ts: t, value: 45 }, { sensor: "soil", ts: t + MIN, value: 31 }]);
        await server.dispatcher.tick(clock.now());
        const fired = receiver.received.map((r) => ({ event: r.event, valid: r.signatureValid, title: r.body.data.title, source: r.body.data.source }));
        expect(fired.sort((a, b) => a.event.localeCompare(b.event))).toEqual([
          { event: "alert.raised", valid: true, title: "Fern is dry", source: undefined },
          { event: "notification", valid: true, title: "Fern at 31%", source: `rule:${rule.id}` },
        ]);

        receiver.clear();
        // 41 is inside the band (40 + 2): nothing; 43 clears and resolves.
        await post(server, token, [{ sensor: "soil", ts: t + 2 * MIN, value: 41 }]);
        await post(server, token, [{ sensor: "soil", ts: t + 3 * MIN, value: 43 }]);
        await server.dispatcher.tick(clock.now());
        expect(receiver.received.map((r) => [r.event, r.signatureValid])).toEqual([["alert.resolved", true]]);

        for (let i = 0; i < 50 && alerts.length < 2; i++) await Bun.sleep(20);
        expect(alerts).toEqual([
          { change: "raised", title: "Fern is dry" },
          { change: "resolved", title: "Fern is dry" },
        ]);
      } finally {
        subscription.unsubscribe();
      }
    });
  });
}

async function sessionToken(server: TestServer, email: string): Promise<string> {
  const { token } = await server.client().auth.login.mutate({ email, password: "correct horse battery", client: "app" });
  return token!;
}
