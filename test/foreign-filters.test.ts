import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { TRPCClientError } from "@trpc/client";
import { siteFixture, type SiteFixture } from "./support/site-fixture";
import { startTestServer, type TestServer } from "./support/server";
import { postgresEngines } from "./support/stores";
import { failureOf } from "./support/trpc";

/**
 * A filter naming another site's device, actuator, plant, sensor, rule, schedule or webhook is
 * NOT_FOUND on that field, for every list and live subscription that has such a filter: never an
 * empty answer that reads as "nothing happened there".
 */

type Lists = Record<string, Record<string, { query: (input: unknown) => Promise<unknown> }>>;
type Subscriptions = Record<string, { subscribe: (input: unknown, handlers: { onStarted?: () => void; onError?: (error: unknown) => void }) => { unsubscribe(): void } }>;

for (const engine of postgresEngines) {
  describe(`filters naming another site's things on ${engine}`, () => {
    let server: TestServer;
    let mine: SiteFixture;
    let theirs: SiteFixture;
    beforeAll(async () => {
      server = await startTestServer(engine);
      mine = await siteFixture(server);
      theirs = await siteFixture(server);
    });
    afterAll(() => server.close());

    /** [procedure, filter field, the fixture key holding an id of that kind] */
    const filters: [string, string, keyof SiteFixture][] = [
      ["commands.list", "actuatorId", "actuatorId"],
      ["commands.list", "deviceId", "deviceId"],
      ["alerts.list", "plantId", "plantId"],
      ["automationLog.list", "ruleId", "ruleId"],
      ["automationLog.list", "scheduleId", "scheduleId"],
      ["automationLog.list", "plantId", "plantId"],
      ["notifications.deliveries", "webhookId", "webhookId"],
      ["sensors.list", "deviceId", "deviceId"],
      ["sensors.list", "plantId", "plantId"],
      ["actuators.list", "deviceId", "deviceId"],
      ["actuators.list", "plantId", "plantId"],
      ["tasks.list", "plantId", "plantId"],
      ["waterings.list", "plantId", "plantId"],
      ["rules.list", "plantId", "plantId"],
      ["schedules.list", "plantId", "plantId"],
    ];

    for (const [path, field, key] of filters) {
      test(`${path} with another site's ${field} is NOT_FOUND on ${field}; its own is listed`, async () => {
        const [router, procedure] = path.split(".") as [string, string];
        const api = server.client(mine.token) as unknown as Lists;
        const call = (id: unknown) => api[router]![procedure]!.query({ siteId: mine.siteId, [field]: id });
        for (const foreign of [theirs[key], crypto.randomUUID()]) {
          const failure = await failureOf(call(foreign));
          expect({ path, field, code: failure.code, fields: failure.issues.map((i) => i.path) }).toEqual({ path, field, code: "NOT_FOUND", fields: [field] });
        }
        expect(await call(mine[key])).toMatchObject({ items: expect.any(Array) });
      });
    }

    /** The error code a subscription ends with right after it starts, or "OK" if it stays open. */
    function subscriptionOutcome(name: string, input: unknown): Promise<{ code: string; fields: string[] }> {
      const live = (server.client(mine.token) as unknown as { live: Subscriptions }).live;
      return new Promise((resolve) => {
        const subscription = live[name]!.subscribe(input, {
          onStarted: () =>
            setTimeout(() => {
              subscription.unsubscribe();
              resolve({ code: "OK", fields: [] });
            }, 400),
          onError: (error) => {
            subscription.unsubscribe();
            const data = error instanceof TRPCClientError ? (error.data as { code?: string; issues?: { path: string }[] } | undefined) : undefined;
            resolve({ code: String(data?.code ?? error), fields: (data?.issues ?? []).map((i) => i.path) });
          },
        });
      });
    }

    test("live subscriptions refuse another site's plant, device, actuator and sensors on the field", async () => {
      expect(await subscriptionOutcome("alerts", { siteId: mine.siteId, plantId: theirs.plantId })).toEqual({ code: "NOT_FOUND", fields: ["plantId"] });
      expect(await subscriptionOutcome("commands", { siteId: mine.siteId, deviceId: theirs.deviceId })).toEqual({ code: "NOT_FOUND", fields: ["deviceId"] });
      expect(await subscriptionOutcome("commands", { siteId: mine.siteId, actuatorId: theirs.actuatorId })).toEqual({ code: "NOT_FOUND", fields: ["actuatorId"] });
      expect(await subscriptionOutcome("readings", { siteId: mine.siteId, sensorIds: [mine.sensorId, theirs.sensorId] })).toEqual({ code: "NOT_FOUND", fields: ["sensorIds"] });
      expect(await subscriptionOutcome("readings", { siteId: mine.siteId, sensorIds: [mine.sensorId] })).toEqual({ code: "OK", fields: [] });
      expect(await subscriptionOutcome("commands", { siteId: mine.siteId, actuatorId: mine.actuatorId })).toEqual({ code: "OK", fields: [] });
    });
  });
}
