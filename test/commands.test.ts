import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { count, eq } from "drizzle-orm";
import { commands } from "../db/schema";
import { testClock } from "./support/clock";
import { startTestServer, type TestServer } from "./support/server";
import { postgresEngines } from "./support/stores";
import { failureOf } from "./support/trpc";

const PASSWORD = "correct horse battery";

for (const engine of postgresEngines) {
  describe(`actuator commands on ${engine}`, () => {
    const clock = testClock();
    let server: TestServer;
    let api: ReturnType<TestServer["client"]>;
    let siteId: string;
    let deviceId: string;
    let deviceToken: string;
    let plantId: string;
    let pumpId: string;
    let lampId: string;
    let key = 0;
    beforeAll(async () => {
      server = await startTestServer(engine, { now: clock.now });
      const owner = await server.client().auth.register.mutate({ email: "cmd@example.com", password: PASSWORD, displayName: "C", client: "app" });
      api = server.client(owner.token!);
      siteId = owner.personalSiteId;
      const provisioned = await api.devices.provision.mutate({ siteId, name: "pump controller" });
      deviceId = provisioned.device.id;
      deviceToken = provisioned.token;
      plantId = (await api.plants.create.mutate({ siteId, name: "Chili" })).id;
      pumpId = (await api.actuators.create.mutate({ siteId, deviceId, key: "pump1", kind: "pump", flowRateMlPerSecond: 5, maxRunSeconds: 30, plantId })).id;
      lampId = (await api.actuators.create.mutate({ siteId, deviceId, key: "lamp1", kind: "lamp" })).id;
    });
    afterAll(() => server.close());

    const nextKey = () => `key-${++key}`;
    const fetchCommands = async (token = deviceToken, query = "") => {
      const response = await fetch(`${server.url}/v1/commands${query}`, { headers: { authorization: `Bearer ${token}` } });
      return { status: response.status, body: (await response.json()) as { commands: Record<string, unknown>[] } & Record<string, unknown> };
    };
    const ack = async (id: string, body: unknown, token = deviceToken) => {
      const response = await fetch(`${server.url}/v1/commands/${id}/ack`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const drain = async () => {
      for (const c of (await fetchCommands()).body.commands) await ack(String(c.id), { status: "failed", detail: "drained" });
    };

    test("a pump command in ml is converted with the flow rate and carries the pump's max run time to the device", async () => {
      const { command, created } = await api.commands.create.mutate({ siteId, actuatorId: pumpId, command: { action: "pump", ml: 100 }, idempotencyKey: nextKey() });
      expect(created).toBe(true);
      expect(command).toMatchObject({ status: "pending", action: "pump", durationSeconds: 20, volumeMl: 100, maxRunSeconds: 30, deviceId });
      const fetched = await fetchCommands();
      expect(fetched.status).toBe(200);
      expect(fetched.body.commands).toEqual([
        {
          id: command.id,
          actuatorId: pumpId,
          actuatorKey: "pump1",
          actuatorKind: "pump",
          action: "pump",
          seconds: 20,
          ml: 100,
          maxRunSeconds: 30,
          status: "sent",
          expiresAt: command.expiresAt.getTime(),
          createdAt: command.createdAt.getTime(),
        },
      ]);
      expect((await api.commands.get.query({ siteId, commandId: command.id })).status).toBe("sent");
      await drain();
    });

    test("the device acknowledges, then reports success; a repeated report changes nothing; going back is 409", async () => {
      const { command } = await api.commands.create.mutate({ siteId, actuatorId: pumpId, command: { action: "pump", seconds: 10 }, idempotencyKey: nextKey() });
      await fetchCommands();
      const ledger = async () => (await api.waterings.list.query({ siteId, plantId })).items.find((w) => w.commandId === command.id)!;
      expect(await ledger()).toMatchObject({ status: "pending", source: "manual", durationSeconds: 10, volumeMl: 50 });
      expect(await ack(command.id, { status: "acknowledged" })).toEqual({ status: 200, body: { id: command.id, status: "acknowledged", changed: true } });
      expect((await ledger()).status).toBe("in_progress");
      clock.advance(10_000);
      expect(await ack(command.id, { status: "succeeded", detail: "ran 10.0 s" })).toEqual({ status: 200, body: { id: command.id, status: "succeeded", changed: true } });
      const done = await api.commands.get.query({ siteId, commandId: command.id });
      expect(done).toMatchObject({ status: "succeeded", detail: "ran 10.0 s" });
      expect(done.finishedAt?.getTime()).toBe(clock.now().getTime());
      expect(await ack(command.id, { status: "succeeded" })).toEqual({ status: 200, body: { id: command.id, status: "succeeded", changed: false } });
      expect((await api.commands.get.query({ siteId, commandId: command.id })).finishedAt?.getTime()).toBe(done.finishedAt!.getTime());
      const back = await ack(command.id, { status: "acknowledged" });
      expect(back.status).toBe(409);
      expect(back.body).toMatchObject({ error: "a succeeded command cannot become acknowledged" });
      expect((await ledger()).status).toBe("completed");
      expect((await api.waterings.summary.query({ siteId, plantId })).lastWateredAt).toBeInstanceOf(Date);
      // Finished commands are no longer delivered.
      expect((await fetchCommands()).body.commands).toEqual([]);
    });

    test("the same idempotency key twice queues one command; with a different request it is a conflict", async () => {
      const idempotencyKey = nextKey();
      const first = await api.commands.create.mutate({ siteId, actuatorId: lampId, command: { action: "switch", state: "on", minutes: 30 }, idempotencyKey });
      const again = await api.commands.create.mutate({ siteId, actuatorId: lampId, command: { action: "switch", state: "on", minutes: 30 }, idempotencyKey });
      expect(again).toEqual({ command: first.command, created: false });
      const [row] = await server.stores.db.select({ n: count() }).from(commands).where(eq(commands.idempotencyKey, idempotencyKey));
      expect(row!.n).toBe(1);
      const different = await failureOf(api.commands.create.mutate({ siteId, actuatorId: lampId, command: { action: "switch", state: "off" }, idempotencyKey }));
      expect(different).toMatchObject({ code: "CONFLICT", issues: [{ path: "idempotencyKey" }] });
      expect((await fetchCommands()).body.commands.map((c) => [c.action, c.state, c.seconds])).toEqual([["switch", "on", 1800]]);
      await drain();
    });

    test("a command not picked up before its expiry expires: the device never gets it and cannot report on it", async () => {
      const { command } = await api.commands.create.mutate({ siteId, actuatorId: pumpId, command: { action: "pump", seconds: 5 }, idempotencyKey: nextKey(), expiresInSeconds: 60 });
      clock.advance(61_000);
      expect((await fetchCommands()).body.commands).toEqual([]);
      expect(await api.commands.get.query({ siteId, commandId: command.id })).toMatchObject({ status: "expired" });
      expect((await ack(command.id, { status: "succeeded" })).status).toBe(409);
      expect((await api.commands.list.query({ siteId, status: "expired" })).items.map((c) => c.id)).toContain(command.id);
      const ledger = (await api.waterings.list.query({ siteId, plantId })).items.find((w) => w.commandId === command.id);
      expect(ledger?.status).toBe("failed");
    });

    test("a sent command past its expiry expires too, unless the device acknowledged it in time", async () => {
      const late = await api.commands.create.mutate({ siteId, actuatorId: lampId, command: { action: "switch", state: "off" }, idempotencyKey: nextKey(), expiresInSeconds: 30 });
      const onTime = await api.commands.create.mutate({ siteId, actuatorId: lampId, command: { action: "switch", state: "on" }, idempotencyKey: nextKey(), expiresInSeconds: 30 });
      expect((await fetchCommands()).body.commands).toHaveLength(2);
      await ack(onTime.command.id, { status: "acknowledged" });
      clock.advance(31_000);
      expect((await api.commands.get.query({ siteId, commandId: late.command.id })).status).toBe("expired");
      expect((await ack(onTime.command.id, { status: "succeeded" })).body).toMatchObject({ status: "succeeded" });
    });

    test("commands that cannot be carried out are refused on the field at fault and nothing is queued", async () => {
      const [before] = await server.stores.db.select({ n: count() }).from(commands);
      const tooLong = await failureOf(api.commands.create.mutate({ siteId, actuatorId: pumpId, command: { action: "pump", ml: 1000 }, idempotencyKey: nextKey() }));
      expect(tooLong).toMatchObject({ code: "BAD_REQUEST", issues: [{ path: "command.ml", message: "200 s is longer than the pump's maximum run of 30 s" }] });
      const wrongKind = await failureOf(api.commands.create.mutate({ siteId, actuatorId: lampId, command: { action: "pump", seconds: 3 }, idempotencyKey: nextKey() }));
      expect(wrongKind).toMatchObject({ code: "BAD_REQUEST", issues: [{ path: "command.action" }] });
      const both = await failureOf(api.commands.create.mutate({ siteId, actuatorId: pumpId, command: { action: "pump", seconds: 3, ml: 5 }, idempotencyKey: nextKey() }));
      expect(both).toMatchObject({ code: "BAD_REQUEST", issues: [{ path: "command.seconds", message: "give either seconds or ml" }] });
      const noFlow = (await api.actuators.create.mutate({ siteId, deviceId, key: "pump9", kind: "pump" })).id;
      const byVolume = await failureOf(api.commands.create.mutate({ siteId, actuatorId: noFlow, command: { action: "pump", ml: 10 }, idempotencyKey: nextKey() }));
      expect(byVolume).toMatchObject({ code: "BAD_REQUEST", issues: [{ path: "command.ml" }] });
      const [after] = await server.stores.db.select({ n: count() }).from(commands);
      expect(after!.n).toBe(before!.n);
    });

    test("a pending command can be cancelled and is then not delivered; a finished one cannot", async () => {
      const { command } = await api.commands.create.mutate({ siteId, actuatorId: pumpId, command: { action: "pump", seconds: 2 }, idempotencyKey: nextKey() });
      expect((await api.commands.cancel.mutate({ siteId, commandId: command.id })).status).toBe("cancelled");
      expect((await fetchCommands()).body.commands).toEqual([]);
      expect(await failureOf(api.commands.cancel.mutate({ siteId, commandId: command.id }))).toMatchObject({ code: "CONFLICT", issues: [{ path: "commandId" }] });
    });

    test("devices see and report only their own commands; tokens and bodies are checked", async () => {
      const other = await api.devices.provision.mutate({ siteId, name: "other" });
      const { command } = await api.commands.create.mutate({ siteId, actuatorId: pumpId, command: { action: "pump", seconds: 1 }, idempotencyKey: nextKey() });
      expect((await fetchCommands(other.token)).body.commands).toEqual([]);
      expect(await ack(command.id, { status: "acknowledged" }, other.token)).toMatchObject({ status: 404, body: { error: "command not found for this device" } });
      expect((await fetchCommands("vdt_unknown")).status).toBe(401);
      expect((await ack(command.id, { status: "acknowledged" }, "vdt_unknown")).status).toBe(401);
      const invalid = await ack(command.id, { status: "done" });
      expect(invalid.status).toBe(400);
      expect(invalid.body).toMatchObject({ error: "invalid request", details: { issues: [{ path: "status" }] } });
      expect((await fetchCommands(deviceToken, "?wait=31")).status).toBe(400);
      await drain();
    });

    test("with ?wait the device's request is held until a command arrives", async () => {
      const started = Date.now();
      const waiting = fetchCommands(deviceToken, "?wait=5");
      await Bun.sleep(400);
      const { command } = await api.commands.create.mutate({ siteId, actuatorId: lampId, command: { action: "switch", state: "on" }, idempotencyKey: nextKey() });
      const answer = await waiting;
      expect(answer.body.commands.map((c) => c.id)).toEqual([command.id]);
      expect(Date.now() - started).toBeLessThan(4000);
      await drain();
      const empty = Date.now();
      expect((await fetchCommands(deviceToken, "?wait=1")).body.commands).toEqual([]);
      expect(Date.now() - empty).toBeGreaterThanOrEqual(900);
    });

    test("another site's actuator and commands are not found", async () => {
      const r = await server.client().auth.register.mutate({ email: "cmd-other@example.com", password: PASSWORD, displayName: "O", client: "app" });
      const other = server.client(r.token!);
      const queued = await failureOf(other.commands.create.mutate({ siteId: r.personalSiteId, actuatorId: pumpId, command: { action: "pump", seconds: 1 }, idempotencyKey: "x" }));
      expect(queued).toMatchObject({ code: "NOT_FOUND", issues: [{ path: "actuatorId" }] });
      const mine = (await api.commands.list.query({ siteId, limit: 1 })).items[0]!;
      expect(await failureOf(other.commands.cancel.mutate({ siteId: r.personalSiteId, commandId: mine.id }))).toMatchObject({ code: "NOT_FOUND", issues: [{ path: "commandId" }] });
    });

    test("command lists are newest first and paginated", async () => {
      const all = (await api.commands.list.query({ siteId, limit: 100 })).items;
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await api.commands.list.query({ siteId, limit: 3, cursor });
        seen.push(...page.items.map((c) => c.id));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(seen).toEqual(all.map((c) => c.id));
      const times = all.map((c) => c.createdAt.getTime());
      expect([...times].sort((a, b) => b - a)).toEqual(times);
    });
  });
}
