import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { count } from "drizzle-orm";
import { careTasks, waterings } from "../db/schema";
import { raiseAlert, resolveAlertByKey } from "../server/alerts/alerts";
import { DAY_MS, testClock } from "./support/clock";
import { startTestServer, type TestServer } from "./support/server";
import { postgresEngines } from "./support/stores";
import { failureOf } from "./support/trpc";

const PASSWORD = "correct horse battery";
const HOUR_MS = 3_600_000;

for (const engine of postgresEngines) {
  describe(`care tasks, watering ledger and alerts on ${engine}`, () => {
    const clock = testClock(new Date("2026-03-20T12:00:00Z"));
    let server: TestServer;
    let api: ReturnType<TestServer["client"]>;
    let siteId: string;
    let userId: string;
    let plantId: string;
    beforeAll(async () => {
      server = await startTestServer(engine, { now: clock.now });
      const owner = await server.client().auth.register.mutate({ email: "care@example.com", password: PASSWORD, displayName: "C", client: "app" });
      api = server.client(owner.token!);
      userId = owner.user.id;
      siteId = (await api.sites.create.mutate({ name: "Berlin balcony", timezone: "Europe/Berlin" })).id;
      const basil = (await api.species.search.query({ query: "basil", limit: 1 })).items[0]!;
      plantId = (await api.plants.create.mutate({ siteId, name: "Basil", speciesId: basil.id })).id;
    });
    afterAll(() => server.close());

    test("a daily 08:00 task stays at 08:00 local time across the spring daylight-saving change", async () => {
      // 08:00 in Berlin is 07:00 UTC in winter (CET) and 06:00 UTC from 29 March 2026 (CEST).
      const task = await api.tasks.create.mutate({ siteId, plantId, kind: "fertilize", startsAt: new Date("2026-03-26T07:00:00Z"), rrule: "FREQ=DAILY" });
      const { items } = await api.tasks.upcoming.query({ siteId, from: new Date("2026-03-26T00:00:00Z"), to: new Date("2026-04-01T00:00:00Z") });
      const mine = items.filter((o) => o.taskId === task.id);
      expect(mine.map((o) => o.at.toISOString())).toEqual([
        "2026-03-26T07:00:00.000Z",
        "2026-03-27T07:00:00.000Z",
        "2026-03-28T07:00:00.000Z",
        "2026-03-29T06:00:00.000Z",
        "2026-03-30T06:00:00.000Z",
        "2026-03-31T06:00:00.000Z",
      ]);
      expect(mine.map((o) => o.current)).toEqual([true, false, false, false, false, false]);
      await api.tasks.delete.mutate({ siteId, taskId: task.id });
    });

    test("a weekly rule on chosen days expands in the site's zone and in the autumn change too", async () => {
      const task = await api.tasks.create.mutate({ siteId, plantId, kind: "prune", startsAt: new Date("2026-10-19T17:30:00Z"), rrule: "FREQ=WEEKLY;BYDAY=MO,TH" });
      // 19:30 local: 17:30 UTC in CEST, 18:30 UTC after 25 October 2026.
      const { items } = await api.tasks.upcoming.query({ siteId, plantId, from: new Date("2026-10-19T00:00:00Z"), to: new Date("2026-11-01T00:00:00Z") });
      expect(items.filter((o) => o.taskId === task.id).map((o) => o.at.toISOString())).toEqual([
        "2026-10-19T17:30:00.000Z",
        "2026-10-22T17:30:00.000Z",
        "2026-10-26T18:30:00.000Z",
        "2026-10-29T18:30:00.000Z",
      ]);
      await api.tasks.delete.mutate({ siteId, taskId: task.id });
    });

    test("completing a recurring water task schedules the next occurrence and records the watering", async () => {
      const task = await api.tasks.create.mutate({ siteId, plantId, kind: "water", startsAt: new Date("2026-03-20T17:00:00Z"), rrule: "FREQ=DAILY;INTERVAL=3" });
      expect(task).toMatchObject({ title: "Water", occurrenceAt: new Date("2026-03-20T17:00:00Z") });
      const done = await api.tasks.complete.mutate({ siteId, taskId: task.id, volumeMl: 300, note: "dry on top" });
      expect(done.completedOccurrenceAt).toEqual(new Date("2026-03-20T17:00:00Z"));
      expect(done.nextOccurrenceAt).toEqual(new Date("2026-03-23T17:00:00Z"));
      const ledger = (await api.waterings.list.query({ siteId, plantId })).items;
      expect(ledger[0]).toMatchObject({ id: done.wateringId!, source: "scheduled", status: "completed", volumeMl: 300, careTaskId: task.id });
      const summary = await api.waterings.summary.query({ siteId, plantId });
      expect(summary).toMatchObject({ lastWateredAt: clock.now(), intervalSource: "species", overdue: false });
      expect(summary.nextDueAt!.getTime()).toBe(clock.now().getTime() + summary.intervalDays! * DAY_MS);
      // The history names the occurrence that was completed.
      const history = (await api.tasks.get.query({ siteId, taskId: task.id })).history;
      expect(history.map((h) => [h.action, h.occurrenceAt.toISOString()])).toEqual([["completed", "2026-03-20T17:00:00.000Z"]]);
      await api.tasks.delete.mutate({ siteId, taskId: task.id });
    });

    test("completing late skips the missed occurrences; skip and snooze move only what they should", async () => {
      const task = await api.tasks.create.mutate({ siteId, plantId, kind: "custom", title: "Turn the pot", startsAt: new Date("2026-03-10T09:00:00Z"), rrule: "FREQ=DAILY" });
      // Ten days overdue: the next occurrence is the first one after now, not 11 March.
      const late = await api.tasks.complete.mutate({ siteId, taskId: task.id });
      expect(late.nextOccurrenceAt).toEqual(new Date("2026-03-21T09:00:00Z"));
      const skipped = await api.tasks.skip.mutate({ siteId, taskId: task.id });
      expect(skipped.nextOccurrenceAt).toEqual(new Date("2026-03-22T09:00:00Z"));
      const snoozed = await api.tasks.snooze.mutate({ siteId, taskId: task.id, until: new Date("2026-03-22T15:00:00Z") });
      expect(snoozed).toMatchObject({ occurrenceAt: new Date("2026-03-22T09:00:00Z"), dueAt: new Date("2026-03-22T15:00:00Z") });
      const { items } = await api.tasks.upcoming.query({ siteId, from: new Date("2026-03-22T00:00:00Z"), to: new Date("2026-03-24T00:00:00Z") });
      expect(items.filter((o) => o.taskId === task.id).map((o) => [o.at.toISOString(), o.snoozed])).toEqual([
        ["2026-03-22T15:00:00.000Z", true],
        ["2026-03-23T09:00:00.000Z", false],
      ]);
      const past = await failureOf(api.tasks.snooze.mutate({ siteId, taskId: task.id, until: new Date(clock.now().getTime() - HOUR_MS) }));
      expect(past).toMatchObject({ code: "BAD_REQUEST", issues: [{ path: "until", message: "must be in the future" }] });
      expect((await api.tasks.get.query({ siteId, taskId: task.id })).history.map((h) => h.action)).toEqual(["snoozed", "skipped", "completed"]);
      await api.tasks.delete.mutate({ siteId, taskId: task.id });
    });

    test("a one-off task is finished when completed; a rule that runs out finishes its task", async () => {
      const once = await api.tasks.create.mutate({ siteId, plantId, kind: "repot", startsAt: new Date("2026-03-25T10:00:00Z") });
      const done = await api.tasks.complete.mutate({ siteId, taskId: once.id });
      expect(done.nextOccurrenceAt).toBeNull();
      expect(done.task.finishedAt).toEqual(clock.now());
      expect(await failureOf(api.tasks.complete.mutate({ siteId, taskId: once.id }))).toMatchObject({ code: "CONFLICT", issues: [{ path: "taskId" }] });
      expect((await api.tasks.list.query({ siteId, state: "done" })).items.map((t) => t.id)).toContain(once.id);
      const twice = await api.tasks.create.mutate({ siteId, plantId, kind: "prune", startsAt: new Date("2026-03-21T10:00:00Z"), rrule: "FREQ=WEEKLY;COUNT=2" });
      expect((await api.tasks.skip.mutate({ siteId, taskId: twice.id })).nextOccurrenceAt).toEqual(new Date("2026-03-28T10:00:00Z"));
      expect((await api.tasks.complete.mutate({ siteId, taskId: twice.id })).nextOccurrenceAt).toBeNull();
      const open = (await api.tasks.list.query({ siteId })).items.map((t) => t.id);
      expect(open).not.toContain(twice.id);
      // Changing the schedule reopens it from now on.
      const moved = await api.tasks.update.mutate({ siteId, taskId: twice.id, rrule: "FREQ=MONTHLY", title: "Prune monthly" });
      expect(moved).toMatchObject({ title: "Prune monthly", finishedAt: null, occurrenceAt: new Date("2026-04-21T09:00:00Z") });
    });

    test("invalid tasks name the field and write nothing", async () => {
      const [before] = await server.stores.db.select({ n: count() }).from(careTasks);
      const startsAt = new Date("2026-04-01T08:00:00Z");
      const cases: [Record<string, unknown>, string][] = [
        [{ rrule: "FREQ=SOMETIMES" }, "rrule"],
        [{ rrule: "FREQ=MINUTELY" }, "rrule"],
        [{ rrule: "FREQ=DAILY;INTERVAL=0" }, "rrule"],
        [{ rrule: "BYDAY=MO" }, "rrule"],
        [{ rrule: "DTSTART:20260101T000000Z;FREQ=DAILY" }, "rrule"],
        [{ kind: "custom" }, "title"],
        [{ kind: "weed" }, "kind"],
      ];
      for (const [extra, path] of cases) {
        const failure = await failureOf(api.tasks.create.mutate({ siteId, plantId, kind: "water", startsAt, ...extra } as Parameters<typeof api.tasks.create.mutate>[0]));
        expect(`${JSON.stringify(extra)} ${failure.code} ${failure.issues.map((i) => i.path)}`).toBe(`${JSON.stringify(extra)} BAD_REQUEST ${path}`);
      }
      const range = await failureOf(api.tasks.upcoming.query({ siteId, from: startsAt, to: new Date(startsAt.getTime() + 400 * DAY_MS) }));
      expect(range).toMatchObject({ code: "BAD_REQUEST", issues: [{ path: "to" }] });
      const [after] = await server.stores.db.select({ n: count() }).from(careTasks);
      expect(after!.n).toBe(before!.n);
    });

    test("the watering ledger records every source with its status, volume, duration and moisture", async () => {
      const plant = (await api.plants.create.mutate({ siteId, name: "Fern", wateringIntervalDays: 4 })).id;
      expect(await api.waterings.summary.query({ siteId, plantId: plant })).toMatchObject({ lastWateredAt: null, nextDueAt: null, intervalDays: 4, intervalSource: "plant" });
      const detected = await api.waterings.record.mutate({ siteId, plantId: plant, source: "detected", startedAt: new Date(clock.now().getTime() - 6 * DAY_MS), moistureBefore: 18, moistureAfter: 44 });
      const pending = await api.waterings.record.mutate({ siteId, plantId: plant, source: "automatic", status: "pending", volumeMl: 150 });
      expect((await api.waterings.summary.query({ siteId, plantId: plant })).lastWateredAt).toEqual(detected.startedAt);
      expect((await api.waterings.summary.query({ siteId, plantId: plant })).overdue).toBe(true);
      const running = await api.waterings.update.mutate({ siteId, wateringId: pending.id, status: "in_progress" });
      expect(running.status).toBe("in_progress");
      const finished = await api.waterings.update.mutate({ siteId, wateringId: pending.id, status: "completed", durationSeconds: 30, moistureAfter: 41 });
      expect(finished).toMatchObject({ status: "completed", durationSeconds: 30, moistureAfter: 41, finishedAt: clock.now() });
      const summary = await api.waterings.summary.query({ siteId, plantId: plant });
      expect(summary).toMatchObject({ lastWateredAt: pending.startedAt, nextDueAt: new Date(pending.startedAt.getTime() + 4 * DAY_MS), overdue: false });
      expect(await failureOf(api.waterings.update.mutate({ siteId, wateringId: pending.id, status: "pending" }))).toMatchObject({ code: "CONFLICT", issues: [{ path: "status" }] });
      const list = await api.waterings.list.query({ siteId, plantId: plant, limit: 1 });
      expect(list.items.map((w) => w.id)).toEqual([pending.id]);
      expect((await api.waterings.list.query({ siteId, plantId: plant, cursor: list.nextCursor! })).items.map((w) => w.id)).toEqual([detected.id]);
      expect((await api.plants.get.query({ siteId, plantId: plant })).watering.lastWateredAt).toEqual(pending.startedAt);
    });

    test("invalid waterings are refused on their field and nothing is written", async () => {
      const [before] = await server.stores.db.select({ n: count() }).from(waterings);
      const cases: [Record<string, unknown>, string, string][] = [
        [{ volumeMl: -5 }, "BAD_REQUEST", "volumeMl"],
        [{ moistureAfter: 140 }, "BAD_REQUEST", "moistureAfter"],
        [{ source: "rain" }, "BAD_REQUEST", "source"],
        [{ startedAt: new Date(clock.now().getTime() + DAY_MS) }, "BAD_REQUEST", "startedAt"],
        [{ plantId: crypto.randomUUID() }, "NOT_FOUND", "plantId"],
      ];
      for (const [extra, code, path] of cases) {
        const failure = await failureOf(api.waterings.record.mutate({ siteId, plantId, ...extra } as Parameters<typeof api.waterings.record.mutate>[0]));
        expect(`${code} ${path}`).toBe(`${failure.code} ${failure.issues.map((i) => i.path).join(",")}`);
      }
      const [after] = await server.stores.db.select({ n: count() }).from(waterings);
      expect(after!.n).toBe(before!.n);
    });

    test("a condition that keeps firing is one active alert with a count; acknowledge and resolve record who and when", async () => {
      const db = server.stores.db;
      const raise = () => raiseAlert(db, { siteId, rule: "soil_moisture.low", subject: plantId, severity: "warning", title: "Basil is dry", plantId }, clock.now());
      const first = await raise();
      clock.advance(HOUR_MS);
      const second = await raise();
      expect(first.created).toBe(true);
      expect(second).toMatchObject({ created: false, alert: { id: first.alert.id, occurrences: 2, firstSeenAt: first.alert.firstSeenAt, lastSeenAt: clock.now() } });
      await raiseAlert(db, { siteId, rule: "device.offline", subject: "dev-1", severity: "critical", title: "Controller offline" }, clock.now());
      expect((await api.alerts.list.query({ siteId, severity: "critical" })).items.map((a) => a.title)).toEqual(["Controller offline"]);
      expect((await api.alerts.list.query({ siteId, plantId })).items.map((a) => a.id)).toEqual([first.alert.id]);
      const acknowledged = await api.alerts.acknowledge.mutate({ siteId, alertId: first.alert.id });
      expect(acknowledged).toMatchObject({ status: "acknowledged", acknowledgedBy: userId, acknowledgedAt: clock.now() });
      // Still the open alert for its key: another occurrence is counted on it.
      expect((await raise()).alert).toMatchObject({ id: first.alert.id, occurrences: 3, status: "acknowledged" });
      expect(await failureOf(api.alerts.acknowledge.mutate({ siteId, alertId: first.alert.id }))).toMatchObject({ code: "CONFLICT", issues: [{ path: "alertId" }] });
      const resolved = await api.alerts.resolve.mutate({ siteId, alertId: first.alert.id });
      expect(resolved).toMatchObject({ status: "resolved", resolvedBy: userId, resolvedAt: clock.now() });
      // After resolution the same condition opens a new alert.
      const again = await raise();
      expect(again.created).toBe(true);
      expect(again.alert.id).not.toBe(first.alert.id);
      expect((await resolveAlertByKey(db, { siteId, rule: "soil_moisture.low", subject: plantId }, clock.now()))?.id).toBe(again.alert.id);
      expect((await api.alerts.list.query({ siteId, status: "active" })).items.map((a) => a.title)).toEqual(["Controller offline"]);
      expect((await api.alerts.get.query({ siteId, alertId: again.alert.id })).resolvedBy).toBeNull();
    });

    test("another site's tasks, waterings and alerts are not found", async () => {
      const r = await server.client().auth.register.mutate({ email: "care-other@example.com", password: PASSWORD, displayName: "O", client: "app" });
      const other = server.client(r.token!);
      const otherSite = r.personalSiteId;
      const task = await api.tasks.create.mutate({ siteId, plantId, kind: "water", startsAt: new Date("2026-04-01T08:00:00Z") });
      const watering = await api.waterings.record.mutate({ siteId, plantId });
      const alert = (await raiseAlert(server.stores.db, { siteId, rule: "x", subject: "y", severity: "info", title: "t" }, clock.now())).alert;
      expect(await failureOf(other.tasks.complete.mutate({ siteId: otherSite, taskId: task.id }))).toMatchObject({ code: "NOT_FOUND", issues: [{ path: "taskId" }] });
      expect(await failureOf(other.tasks.create.mutate({ siteId: otherSite, plantId, kind: "water", startsAt: new Date() }))).toMatchObject({ code: "NOT_FOUND", issues: [{ path: "plantId" }] });
      expect(await failureOf(other.waterings.update.mutate({ siteId: otherSite, wateringId: watering.id, notes: "x" }))).toMatchObject({ code: "NOT_FOUND", issues: [{ path: "wateringId" }] });
      expect(await failureOf(other.alerts.resolve.mutate({ siteId: otherSite, alertId: alert.id }))).toMatchObject({ code: "NOT_FOUND", issues: [{ path: "alertId" }] });
      expect((await other.alerts.list.query({ siteId: otherSite })).items).toEqual([]);
      expect((await other.tasks.upcoming.query({ siteId: otherSite, from: new Date("2026-03-01"), to: new Date("2026-06-01") })).items).toEqual([]);
    });
  });
}
