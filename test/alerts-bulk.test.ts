import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { and, eq } from "drizzle-orm";
import { alerts, notificationDeliveries } from "../db/schema";
import { raiseAlert } from "../server/alerts/alerts";
import type { AlertChanged } from "../server/platform";
import { startTestServer, type TestServer } from "./support/server";
import { postgresEngines } from "./support/stores";
import { failureOf } from "./support/trpc";

/** alerts.acknowledgeMany / alerts.resolveMany: an inbox selection handled in one call. */

const PASSWORD = "correct horse battery";

for (const engine of postgresEngines) {
  describe(`alerts in bulk on ${engine}`, () => {
    let server: TestServer;
    let api: ReturnType<TestServer["client"]>;
    let viewer: ReturnType<TestServer["client"]>;
    let siteId: string;
    let otherSiteId: string;
    let counter = 0;

    beforeAll(async () => {
      server = await startTestServer(engine);
      const owner = await server.client().auth.register.mutate({ email: "inbox@example.com", password: PASSWORD, displayName: "Owner", client: "app" });
      api = server.client(owner.token!);
      siteId = owner.personalSiteId;
      const watcher = await server.client().auth.register.mutate({ email: "watcher@example.com", password: PASSWORD, displayName: "Viewer", client: "app" });
      viewer = server.client(watcher.token!);
      otherSiteId = watcher.personalSiteId;
      await api.sites.invite.mutate({ siteId, email: "watcher@example.com", role: "viewer" });
    });
    afterAll(() => server.close());

    const raise = async (site = siteId) =>
      (await raiseAlert(server.stores.db, { siteId: site, rule: "soil_moisture.low", subject: `plant-${++counter}`, severity: "warning", title: `Dry ${counter}` }, new Date())).alert;
    const statusOf = async (id: string) => (await server.stores.db.select({ status: alerts.status }).from(alerts).where(eq(alerts.id, id)))[0]!.status;

    test("acknowledging a selection changes the active alerts, leaves the others, and answers every named alert in order", async () => {
      const [a, b, c] = [await raise(), await raise(), await raise()];
      await api.alerts.resolve.mutate({ siteId, alertId: c.id });
      const seen: AlertChanged[] = [];
      const stop = server.events.on("alert.changed", (e) => void seen.push(e));
      const { items } = await api.alerts.acknowledgeMany.mutate({ siteId, alertIds: [b.id, c.id, a.id, b.id] });
      expect(items.map((i) => [i.id, i.status])).toEqual([
        [b.id, "acknowledged"],
        [c.id, "resolved"],
        [a.id, "acknowledged"],
      ]);
      expect(items[0]!.acknowledgedAt).toBeInstanceOf(Date);
      expect([await statusOf(a.id), await statusOf(b.id), await statusOf(c.id)]).toEqual(["acknowledged", "acknowledged", "resolved"]);
      // Each change reaches live views, like a single acknowledgement (NOTIFY, delivered on commit).
      const deadline = Date.now() + 5_000;
      while (seen.length < 2 && Date.now() < deadline) await Bun.sleep(20);
      stop();
      expect(seen.map((e) => [e.alertId, e.change]).sort()).toEqual([[a.id, "acknowledged"], [b.id, "acknowledged"]].sort());
    });

    test("resolving a selection resolves every open alert and queues its webhook notification", async () => {
      await api.notifications.createWebhook.mutate({ siteId, name: "Phone", url: "https://hooks.example.com/inbox" });
      const [a, b] = [await raise(), await raise()];
      await api.alerts.acknowledge.mutate({ siteId, alertId: a.id });
      const { items } = await api.alerts.resolveMany.mutate({ siteId, alertIds: [a.id, b.id] });
      expect(items.map((i) => i.status)).toEqual(["resolved", "resolved"]);
      expect(items.every((i) => i.resolvedAt instanceof Date)).toBe(true);
      const queued = await server.stores.db
        .select({ payload: notificationDeliveries.payload })
        .from(notificationDeliveries)
        .where(and(eq(notificationDeliveries.siteId, siteId), eq(notificationDeliveries.event, "alert.resolved")));
      const resolvedIds = queued.map((q) => (q.payload as { alertId: string }).alertId);
      expect(resolvedIds).toContain(a.id);
      expect(resolvedIds).toContain(b.id);
      // Resolving again changes nothing and is not an error.
      const again = await api.alerts.resolveMany.mutate({ siteId, alertIds: [a.id] });
      expect(again.items.map((i) => i.resolvedAt?.getTime())).toEqual([items[0]!.resolvedAt!.getTime()]);
    });

    test("an id that is not an alert of the site is NOT_FOUND on its index, and nothing changes", async () => {
      const mine = await raise();
      const theirs = await raise(otherSiteId);
      const failure = await failureOf(api.alerts.acknowledgeMany.mutate({ siteId, alertIds: [mine.id, theirs.id] }));
      expect(failure.code).toBe("NOT_FOUND");
      expect(failure.issues).toEqual([{ path: "alertIds.1", message: "alert not found" }]);
      expect(await statusOf(mine.id)).toBe("active");
      expect(await statusOf(theirs.id)).toBe("active");
      const unknown = await failureOf(api.alerts.resolveMany.mutate({ siteId, alertIds: [crypto.randomUUID()] }));
      expect(unknown.issues).toEqual([{ path: "alertIds.0", message: "alert not found" }]);
    });

    test("an empty or oversized selection is refused on alertIds, and a viewer may not change alerts", async () => {
      const empty = await failureOf(api.alerts.acknowledgeMany.mutate({ siteId, alertIds: [] }));
      expect(empty.issues).toEqual([{ path: "alertIds", message: "must name at least one alert" }]);
      const many = Array.from({ length: 101 }, () => crypto.randomUUID());
      const big = await failureOf(api.alerts.resolveMany.mutate({ siteId, alertIds: many }));
      expect(big.issues).toEqual([{ path: "alertIds", message: "must name at most 100 alerts" }]);
      const alert = await raise();
      const refused = await failureOf(viewer.alerts.acknowledgeMany.mutate({ siteId, alertIds: [alert.id] }));
      expect(refused.code).toBe("FORBIDDEN");
      expect(await statusOf(alert.id)).toBe("active");
    });
  });
}
