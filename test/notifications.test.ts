import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { count, eq } from "drizzle-orm";
import { notificationDeliveries, webhookEndpoints } from "../db/schema";
import { raiseAlert, resolveAlertByKey } from "../server/alerts/alerts";
import { enqueueNotification } from "../server/notifications";
import { quietUntil } from "../server/notifications/quiet-hours";
import { testClock } from "./support/clock";
import { startTestServer, TEST_NOTIFICATIONS, type TestServer } from "./support/server";
import { postgresEngines } from "./support/stores";
import { failureOf } from "./support/trpc";
import { startReceiver, verifySignature } from "./support/webhook-receiver";

/**
 * Webhook notifications through a real receiver that checks signatures itself: what is sent (new
 * alerts, escalations, resolutions, explicit notifications, tests, the daily digest), when
 * (quiet hours, retries with backoff on the injected clock) and how often (once, across servers).
 */

const PASSWORD = "correct horse battery";

describe("quiet hours", () => {
  test("end at the local end time, across midnight and daylight-saving changes", () => {
    // Berlin, CET (UTC+1): 23:30 → held until 07:00 the next morning.
    expect(quietUntil(new Date("2026-03-02T22:30:00Z"), "22:00", "07:00", "Europe/Berlin")?.toISOString()).toBe("2026-03-03T06:00:00.000Z");
    // 02:00 after midnight is still inside; 07:00 sharp is outside; 21:59 is outside.
    expect(quietUntil(new Date("2026-03-03T01:00:00Z"), "22:00", "07:00", "Europe/Berlin")?.toISOString()).toBe("2026-03-03T06:00:00.000Z");
    expect(quietUntil(new Date("2026-03-03T06:00:00Z"), "22:00", "07:00", "Europe/Berlin")).toBeNull();
    expect(quietUntil(new Date("2026-03-03T20:59:00Z"), "22:00", "07:00", "Europe/Berlin")).toBeNull();
    // The night clocks go forward (29 March 2026): 07:00 CEST is 05:00 UTC.
    expect(quietUntil(new Date("2026-03-28T22:30:00Z"), "22:00", "07:00", "Europe/Berlin")?.toISOString()).toBe("2026-03-29T05:00:00.000Z");
    // Within one day (13:00–15:00 in New York, UTC−5 in January).
    expect(quietUntil(new Date("2026-01-10T18:30:00Z"), "13:00", "15:00", "America/New_York")?.toISOString()).toBe("2026-01-10T20:00:00.000Z");
    expect(quietUntil(new Date("2026-01-10T17:59:00Z"), "13:00", "15:00", "America/New_York")).toBeNull();
    // Unset or empty spans are never quiet.
    expect(quietUntil(new Date(), null, null, "UTC")).toBeNull();
    expect(quietUntil(new Date(), "08:00", "08:00", "UTC")).toBeNull();
  });
});
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

for (const engine of postgresEngines) {
  describe(`webhook notifications on ${engine}`, () => {
    // 12:00 UTC is 13:00 in Berlin (UTC+1 until the end of March).
    const clock = testClock(new Date("2026-03-02T12:00:00Z"));
    const receiver = startReceiver();
    let server: TestServer;
    let api: ReturnType<TestServer["client"]>;
    let siteId: string;
    let subject = 0;

    beforeAll(async () => {
      server = await startTestServer(engine, { now: clock.now });
      const owner = await server.client().auth.register.mutate({ email: "hooks@example.com", password: PASSWORD, displayName: "H", client: "app" });
      api = server.client(owner.token!);
      siteId = owner.personalSiteId;
      await api.sites.update.mutate({ siteId, timezone: "Europe/Berlin" });
    });
    afterAll(async () => {
      await server.close();
      receiver.stop();
    });
    beforeEach(async () => {
      // Each test starts with no endpoints and an empty log.
      await server.stores.db.delete(webhookEndpoints).where(eq(webhookEndpoints.siteId, siteId));
      receiver.clear();
      receiver.failNext(0);
    });

    const createHook = async (settings: Record<string, unknown> = {}) => {
      const created = await api.notifications.createWebhook.mutate({ siteId, name: "phone", url: receiver.url, ...settings });
      receiver.trust(created.secret);
      return created;
    };
    const raise = (severity: "info" | "warning" | "critical", rule = "soil_moisture.low", s = `plant-${++subject}`) =>
      raiseAlert(server.stores.db, { siteId, rule, subject: s, severity, title: `${rule} on ${s}` }, clock.now());
    const log = async (webhookId?: string) => (await api.notifications.deliveries.query({ siteId, webhookId, limit: 100 })).items;
    const tick = () => server.dispatcher.tick(clock.now());

    test("the signing secret is shown at creation and rotation only; rotation changes what signatures verify with", async () => {
      const { webhook, secret } = await createHook();
      expect(secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
      expect(webhook).not.toHaveProperty("secret");
      expect(webhook.secretHint).toBe(`${secret.slice(0, 10)}…`);
      const listed = await api.notifications.webhooks.query({ siteId });
      expect(JSON.stringify(listed)).not.toContain(secret);
      await api.notifications.sendTest.mutate({ siteId, webhookId: webhook.id });
      await tick();
      const rotated = await api.notifications.rotateSecret.mutate({ siteId, webhookId: webhook.id });
      expect(rotated.secret).not.toBe(secret);
      expect(rotated.webhook.secretHint).toBe(`${rotated.secret.slice(0, 10)}…`);
      await api.notifications.sendTest.mutate({ siteId, webhookId: webhook.id });
      await tick();
      expect(receiver.received.map((r) => r.event)).toEqual(["test", "test"]);
      const [before, after] = receiver.received;
      // Verified independently: the first only with the old secret, the second only with the new.
      expect(verifySignature(secret, before!.signature, before!.raw).valid).toBe(true);
      expect(verifySignature(rotated.secret, before!.signature, before!.raw).valid).toBe(false);
      expect(verifySignature(rotated.secret, after!.signature, after!.raw).valid).toBe(true);
      expect(verifySignature(secret, after!.signature, after!.raw).valid).toBe(false);
      // A tampered body does not verify.
      expect(verifySignature(rotated.secret, after!.signature, after!.raw.replace('"test"', '"alert.raised"')).valid).toBe(false);
    });

    test("a new alert is delivered signed, once; repeats are not news; a severity rise and the resolution are", async () => {
      const { webhook, secret } = await createHook();
      const first = await raise("warning", "soil_moisture.low", "fern");
      await raise("warning", "soil_moisture.low", "fern");
      await raise("warning", "soil_moisture.low", "fern");
      await raise("critical", "soil_moisture.low", "fern");
      await raise("critical", "soil_moisture.low", "fern");
      clock.advance(MINUTE);
      await resolveAlertByKey(server.stores.db, { siteId, rule: "soil_moisture.low", subject: "fern" }, clock.now());
      const result = await tick();
      expect(result).toMatchObject({ delivered: 3, retrying: 0, failed: 0 });
      expect(receiver.received.map((r) => [r.event, r.body.data.severity, r.body.data.escalatedFrom ?? null])).toEqual([
        ["alert.raised", "warning", null],
        ["alert.raised", "critical", "warning"],
        ["alert.resolved", "critical", null],
      ]);
      for (const r of receiver.received) {
        expect(r.signatureValid).toBe(true);
        expect(r.signedAt).toBe(Math.floor(clock.now().getTime() / 1000));
        expect(r.body).toMatchObject({ id: r.deliveryId, siteId, data: { alertId: first.alert.id, rule: "soil_moisture.low", subject: "fern" } });
      }
      expect(receiver.received[2]!.body.data).toMatchObject({ status: "resolved", occurrences: 5 });
      const entries = await log(webhook.id);
      expect(entries.map((d) => [d.status, d.attempts, d.lastStatus])).toEqual([
        ["delivered", 1, 204],
        ["delivered", 1, 204],
        ["delivered", 1, 204],
      ]);
      expect(secret).toBeTruthy();
    });

    test("failed deliveries are retried with exponential backoff and jitter on the injected clock, then delivered", async () => {
      const { webhook } = await createHook();
      receiver.failNext(2, 503);
      await raise("warning");
      const t0 = clock.now().getTime();
      expect(await tick()).toMatchObject({ delivered: 0, retrying: 1 });
      const [afterOne] = await log(webhook.id);
      expect(afterOne).toMatchObject({ status: "pending", attempts: 1, lastStatus: 503 });
      expect(afterOne!.lastError).toContain("receiver is down");
      // First retry: between half and all of the base delay (10 s in tests).
      const firstDelay = afterOne!.nextAttemptAt.getTime() - t0;
      expect(firstDelay).toBeGreaterThanOrEqual(TEST_NOTIFICATIONS.backoffBaseMs / 2);
      expect(firstDelay).toBeLessThanOrEqual(TEST_NOTIFICATIONS.backoffBaseMs);
      // Not due yet: nothing is sent.
      clock.set(new Date(afterOne!.nextAttemptAt.getTime() - 1));
      expect(await tick()).toMatchObject({ delivered: 0, retrying: 0 });
      expect(receiver.received).toHaveLength(1);
      clock.set(afterOne!.nextAttemptAt);
      const t1 = clock.now().getTime();
      expect(await tick()).toMatchObject({ retrying: 1 });
      const [afterTwo] = await log(webhook.id);
      const secondDelay = afterTwo!.nextAttemptAt.getTime() - t1;
      expect(secondDelay).toBeGreaterThanOrEqual(TEST_NOTIFICATIONS.backoffBaseMs);
      expect(secondDelay).toBeLessThanOrEqual(2 * TEST_NOTIFICATIONS.backoffBaseMs);
      clock.set(afterTwo!.nextAttemptAt);
      expect(await tick()).toMatchObject({ delivered: 1 });
      const [done] = await log(webhook.id);
      expect(done).toMatchObject({ status: "delivered", attempts: 3, lastStatus: 204, lastError: null });
      // The same delivery id on every attempt, so a receiver can drop duplicates; all signed.
      expect(new Set(receiver.received.map((r) => r.deliveryId))).toEqual(new Set([done!.id]));
      expect(receiver.received.map((r) => [r.answered, r.signatureValid])).toEqual([
        [503, true],
        [503, true],
        [204, true],
      ]);
    });

    test("after the maximum number of attempts a delivery is marked failed with the last error", async () => {
      const { webhook } = await createHook();
      receiver.failNext(100, 500);
      await raise("critical");
      for (let i = 0; i < TEST_NOTIFICATIONS.maxAttempts; i++) {
        await tick();
        clock.advance(TEST_NOTIFICATIONS.backoffMaxMs);
      }
      expect(await tick()).toMatchObject({ delivered: 0, retrying: 0, failed: 0 });
      expect(receiver.received).toHaveLength(TEST_NOTIFICATIONS.maxAttempts);
      const [failed] = await log(webhook.id);
      expect(failed).toMatchObject({ status: "failed", attempts: TEST_NOTIFICATIONS.maxAttempts, lastStatus: 500, lastError: "HTTP 500: receiver is down" });
      expect((await api.notifications.deliveries.query({ siteId, status: "failed" })).items.map((d) => d.id)).toEqual([failed!.id]);
    });

    test("an unreachable receiver is an error kept in the log, retried like any other", async () => {
      const { webhook } = await api.notifications.createWebhook.mutate({ siteId, name: "gone", url: "http://127.0.0.1:9/nothing-listens" });
      await raise("warning");
      expect(await tick()).toMatchObject({ retrying: 1 });
      const [entry] = await log(webhook.id);
      expect(entry).toMatchObject({ status: "pending", attempts: 1, lastStatus: null });
      expect(entry!.lastError).toBeTruthy();
    });

    test("endpoints get only the events and severities they asked for", async () => {
      const critical = await createHook({ name: "pager", minSeverity: "critical" });
      const resolutions = await createHook({ name: "log", events: ["alert.resolved"] });
      await raise("warning", "temp.high", "a");
      await raise("critical", "temp.high", "b");
      await resolveAlertByKey(server.stores.db, { siteId, rule: "temp.high", subject: "a" }, clock.now());
      await tick();
      expect((await log(critical.webhook.id)).map((d) => [d.event, (d.payload as { subject: string }).subject])).toEqual([["alert.raised", "b"]]);
      expect((await log(resolutions.webhook.id)).map((d) => [d.event, (d.payload as { subject: string }).subject])).toEqual([["alert.resolved", "a"]]);
      // A disabled endpoint gets nothing new.
      await api.notifications.updateWebhook.mutate({ siteId, webhookId: critical.webhook.id, enabled: false });
      await raise("critical", "temp.high", "c");
      expect(await log(critical.webhook.id)).toHaveLength(1);
    });

    test("quiet hours hold non-critical notifications until they end; critical ones go through unless told otherwise", async () => {
      // 23:30 in Berlin.
      clock.set(new Date("2026-03-02T22:30:00Z"));
      const quiet = await createHook({ name: "night", quietStart: "22:00", quietEnd: "07:00" });
      const strict = await createHook({ name: "strict", quietStart: "22:00", quietEnd: "07:00", criticalBypassesQuiet: false });
      receiver.trust((await api.notifications.rotateSecret.mutate({ siteId, webhookId: quiet.webhook.id })).secret, (await api.notifications.rotateSecret.mutate({ siteId, webhookId: strict.webhook.id })).secret);
      await raise("warning", "soil_moisture.low", "night-fern");
      await raise("critical", "water_level.empty", "tank");
      await tick();
      expect(receiver.received.map((r) => [r.body.data.subject, r.body.data.severity])).toEqual([["tank", "critical"]]);
      const held = (await log()).filter((d) => d.status === "pending");
      // 07:00 Berlin on the next day is 06:00 UTC.
      const morning = new Date("2026-03-03T06:00:00Z");
      expect(held.map((d) => d.heldUntil?.toISOString()).sort()).toEqual([morning.toISOString(), morning.toISOString(), morning.toISOString()]);
      clock.set(new Date(morning.getTime() - MINUTE));
      await tick();
      expect(receiver.received).toHaveLength(1);
      clock.set(morning);
      expect(await tick()).toMatchObject({ delivered: 3 });
      expect(receiver.received.every((r) => r.signatureValid)).toBe(true);
      // Outside quiet hours nothing is held.
      clock.set(new Date("2026-03-03T09:00:00Z"));
      await raise("info");
      expect(await tick()).toMatchObject({ delivered: 2 });
    });

    test("a member's own quiet hours, in their own zone, hold the endpoints that name them as recipient", async () => {
      // 17:30 in New York (UTC−5 until 8 March), 23:30 in Berlin (the site's zone).
      clock.set(new Date("2026-03-06T22:30:00Z"));
      const me = (await api.auth.me.query()).user;
      expect(await api.auth.setQuietHours.mutate({ quietStart: "17:00", quietEnd: "18:00", timezone: "America/New_York" })).toEqual({
        quietStart: "17:00",
        quietEnd: "18:00",
        timezone: "America/New_York",
      });
      expect(await api.auth.quietHours.query()).toMatchObject({ quietStart: "17:00", timezone: "America/New_York" });
      const mine = await api.notifications.createWebhook.mutate({ siteId, name: "my phone", url: receiver.url, recipientUserId: me.id });
      const shared = await api.notifications.createWebhook.mutate({ siteId, name: "greenhouse chat", url: receiver.url });
      receiver.trust(mine.secret, shared.secret);
      expect(mine.webhook.recipientUserId).toBe(me.id);

      await raise("warning", "soil_moisture.low", "fern-quiet");
      await raise("critical", "water_level.empty", "tank-quiet");
      await tick();
      const sent = (id: string) => receiver.received.filter((r) => r.deliveryId && r.body.siteId === siteId).filter((r) => deliveriesOf[id]?.has(r.deliveryId));
      const deliveriesOf: Record<string, Set<string>> = {
        [mine.webhook.id]: new Set((await log(mine.webhook.id)).map((d) => d.id)),
        [shared.webhook.id]: new Set((await log(shared.webhook.id)).map((d) => d.id)),
      };
      // The shared endpoint has no quiet hours: both now. Mine: the critical one only.
      expect(sent(shared.webhook.id).map((r) => r.body.data.subject).sort()).toEqual(["fern-quiet", "tank-quiet"]);
      expect(sent(mine.webhook.id).map((r) => r.body.data.subject)).toEqual(["tank-quiet"]);
      // 18:00 in New York is 23:00 UTC.
      const end = new Date("2026-03-06T23:00:00Z");
      expect((await log(mine.webhook.id)).filter((d) => d.status === "pending").map((d) => d.heldUntil?.toISOString())).toEqual([end.toISOString()]);
      clock.set(end);
      expect(await tick()).toMatchObject({ delivered: 1 });
      expect(sent(mine.webhook.id).map((r) => r.body.data.subject).sort()).toEqual(["fern-quiet", "tank-quiet"]);
      expect(receiver.received.every((r) => r.signatureValid)).toBe(true);

      // Cleared quiet hours hold nothing; a recipient must be a member of the site.
      expect(await api.auth.setQuietHours.mutate({ quietStart: null, quietEnd: null })).toEqual({ quietStart: null, quietEnd: null, timezone: null });
      expect(await failureOf(api.auth.setQuietHours.mutate({ quietStart: "22:00", quietEnd: null }))).toMatchObject({ code: "BAD_REQUEST" });
      const before = (await api.notifications.webhooks.query({ siteId })).length;
      expect(
        await failureOf(api.notifications.createWebhook.mutate({ siteId, name: "x", url: receiver.url, recipientUserId: crypto.randomUUID() })),
      ).toMatchObject({ code: "NOT_FOUND", issues: [{ path: "recipientUserId" }] });
      expect(await api.notifications.webhooks.query({ siteId })).toHaveLength(before);
    });

    test("a retry that falls into quiet hours waits for their end, and waiting is not an attempt", async () => {
      clock.set(new Date("2026-03-07T20:59:55Z")); // 21:59:55 in Berlin
      const { webhook } = await createHook({ quietStart: "22:00", quietEnd: "07:00" });
      receiver.failNext(1, 502);
      await raise("warning");
      expect(await tick()).toMatchObject({ retrying: 1 });
      const [first] = await log(webhook.id);
      clock.set(first!.nextAttemptAt); // past 22:00 now
      expect(await tick()).toMatchObject({ held: 1, retrying: 0, delivered: 0 });
      const [held] = await log(webhook.id);
      const morning = new Date("2026-03-08T06:00:00Z");
      expect(held).toMatchObject({ status: "pending", attempts: 1 });
      expect(held!.heldUntil?.toISOString()).toBe(morning.toISOString());
      expect(held!.nextAttemptAt.toISOString()).toBe(morning.toISOString());
      expect(receiver.received).toHaveLength(1);
      clock.set(morning);
      expect(await tick()).toMatchObject({ delivered: 1 });
      expect((await log(webhook.id))[0]).toMatchObject({ status: "delivered", attempts: 2 });
    });

    test("explicit notifications (the automation's notify action) are delivered like alerts", async () => {
      const { webhook } = await createHook({ events: ["notification"] });
      const queued = await enqueueNotification(
        server.stores.db,
        { siteId, severity: "info", title: "Watered the fern", message: "120 ml", plantId: null, source: "automation:rule-1" },
        clock.now(),
      );
      expect(queued).toBe(1);
      await raise("critical"); // not subscribed
      await tick();
      expect(receiver.received.map((r) => [r.event, r.body.data])).toEqual([
        ["notification", { severity: "info", title: "Watered the fern", message: "120 ml", plantId: null, source: "automation:rule-1", at: clock.now().toISOString() }],
      ]);
      expect((await log(webhook.id))[0]).toMatchObject({ status: "delivered" });
    });

    test("a test delivery goes out whatever the filters and quiet hours", async () => {
      clock.set(new Date("2026-03-03T23:00:00Z")); // midnight in Berlin
      const { webhook } = await createHook({ minSeverity: "critical", events: ["alert.resolved"], quietStart: "22:00", quietEnd: "07:00", criticalBypassesQuiet: false });
      const delivery = await api.notifications.sendTest.mutate({ siteId, webhookId: webhook.id });
      await tick();
      expect(receiver.received.map((r) => [r.deliveryId, r.event, r.signatureValid])).toEqual([[delivery.id, "test", true]]);
    });

    test("the daily digest goes out once at its local time, even with two dispatchers, with the day's numbers", async () => {
      clock.set(new Date("2026-03-05T05:00:00Z")); // 06:00 in Berlin
      const { webhook } = await createHook({ events: ["notification"], digestTime: "07:30" });
      // The last 24 h: two alerts opened (one resolved), one older alert that does not count.
      clock.set(new Date("2026-03-04T03:00:00Z"));
      await raise("warning", "old", "x");
      clock.set(new Date("2026-03-05T05:10:00Z"));
      await raise("warning", "digest", "a");
      await raise("critical", "digest", "b");
      await resolveAlertByKey(server.stores.db, { siteId, rule: "digest", subject: "a" }, clock.now());
      const openNow = (await api.alerts.list.query({ siteId, limit: 100 })).items.filter((a) => a.status !== "resolved").length;
      clock.set(new Date("2026-03-05T06:29:00Z")); // 07:29
      expect(await tick()).toMatchObject({ digests: 0 });
      const peer = await server.peer();
      try {
        clock.set(new Date("2026-03-05T06:30:00Z")); // 07:30
        const [a, b] = await Promise.all([server.dispatcher.tick(clock.now()), peer.dispatcher.tick(clock.now())]);
        expect(a.digests + b.digests).toBe(1);
        clock.set(new Date("2026-03-05T10:00:00Z"));
        const later = await Promise.all([server.dispatcher.tick(clock.now()), peer.dispatcher.tick(clock.now())]);
        expect(later[0].digests + later[1].digests).toBe(0);
      } finally {
        await peer.close();
      }
      const digests = receiver.received.filter((r) => r.event === "digest");
      expect(digests).toHaveLength(1);
      expect(digests[0]!.signatureValid).toBe(true);
      expect(digests[0]!.body.data).toMatchObject({
        date: "2026-03-05",
        timezone: "Europe/Berlin",
        alerts: { opened: 2, openedBySeverity: { info: 0, warning: 1, critical: 1 }, resolved: 1, openNow },
      });
      // The next day brings the next digest.
      clock.set(new Date("2026-03-06T06:31:00Z"));
      expect(await tick()).toMatchObject({ digests: 1 });
      expect((await log(webhook.id)).filter((d) => d.event === "digest").map((d) => d.dedupKey)).toEqual(["digest:2026-03-06", "digest:2026-03-05"]);
    });

    test("several dispatchers sending at once deliver each notification once", async () => {
      await createHook();
      for (let i = 0; i < 12; i++) await raise("warning");
      receiver.slow(30);
      const peer = await server.peer();
      try {
        const results = await Promise.all([server.dispatcher.tick(clock.now()), peer.dispatcher.tick(clock.now()), server.dispatcher.tick(clock.now())]);
        expect(results.reduce((n, r) => n + r.delivered, 0)).toBe(12);
      } finally {
        receiver.slow(0);
        await peer.close();
      }
      expect(receiver.received).toHaveLength(12);
      expect(new Set(receiver.received.map((r) => r.deliveryId)).size).toBe(12);
    });

    test("an alert change rolled back queues and announces nothing: alert, outbox row and announcement commit together", async () => {
      await createHook();
      const announced: string[] = [];
      const off = server.events.on("alert.changed", (c) => void announced.push(c.subject));
      try {
        const failed = await server.stores.db
          .transaction(async (tx) => {
            await raiseAlert(tx as unknown as typeof server.stores.db, { siteId, rule: "atomic", subject: "rolled-back", severity: "critical", title: "never" }, clock.now());
            throw new Error("the caller's transaction fails after raising");
          })
          .catch((error: Error) => error.message);
        expect(failed).toBe("the caller's transaction fails after raising");
        await raise("critical", "atomic", "committed");
        await Bun.sleep(100);
        expect(announced).toEqual(["committed"]);
        expect((await api.alerts.list.query({ siteId, limit: 100 })).items.filter((a) => a.rule === "atomic").map((a) => a.subject)).toEqual(["committed"]);
        expect((await log()).map((d) => (d.payload as { subject: string }).subject)).toEqual(["committed"]);
      } finally {
        off();
      }
    });

    test("queued notifications survive a server restart and go out from the new server", async () => {
      const { webhook } = await createHook();
      await raise("warning");
      await server.restart();
      expect(await tick()).toMatchObject({ delivered: 1 });
      expect((await log(webhook.id))[0]).toMatchObject({ status: "delivered" });
    });

    test("invalid endpoint settings are refused on the field at fault, and nothing is created", async () => {
      const [before] = await server.stores.db.select({ n: count() }).from(webhookEndpoints);
      expect(await failureOf(api.notifications.createWebhook.mutate({ siteId, name: "x", url: "ftp://example.com" }))).toMatchObject({
        code: "BAD_REQUEST",
        issues: [{ path: "url", message: "must be an http:// or https:// URL" }],
      });
      expect(await failureOf(api.notifications.createWebhook.mutate({ siteId, name: "x", url: receiver.url, quietStart: "22:00" }))).toMatchObject({
        code: "BAD_REQUEST",
        issues: [{ path: "quietEnd" }],
      });
      expect(await failureOf(api.notifications.createWebhook.mutate({ siteId, name: "x", url: receiver.url, digestTime: "24:00" }))).toMatchObject({
        code: "BAD_REQUEST",
        issues: [{ path: "digestTime" }],
      });
      expect(await failureOf(api.notifications.createWebhook.mutate({ siteId, name: "x", url: receiver.url, events: [] }))).toMatchObject({
        code: "BAD_REQUEST",
        issues: [{ path: "events" }],
      });
      const [after] = await server.stores.db.select({ n: count() }).from(webhookEndpoints);
      expect(after!.n).toBe(before!.n);
      const [deliveries] = await server.stores.db.select({ n: count() }).from(notificationDeliveries).where(eq(notificationDeliveries.siteId, siteId));
      expect(deliveries!.n).toBe(0);
    });
  });
}
