import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { DeviceClient, type DeviceCommand } from "../client/device";
import { testClock } from "./support/clock";
import { startTestServer, type TestServer } from "./support/server";
import { postgresEngines } from "./support/stores";

/**
 * Commands driven for real: long polls woken by the change relay (on this server or another),
 * ended by disconnects and shutdowns; state that survives a restart; reports that are idempotent;
 * and a device SDK that never runs a command twice.
 */

const PASSWORD = "correct horse battery";

for (const engine of postgresEngines) {
  describe(`command delivery on ${engine}`, () => {
    const clock = testClock();
    let server: TestServer;
    let api: ReturnType<TestServer["client"]>;
    let siteId: string;
    let deviceToken: string;
    let lampId: string;
    let key = 0;
    const tmp = mkdtempSync(path.join(tmpdir(), "verdant-cmd-"));

    beforeAll(async () => {
      server = await startTestServer(engine, { now: clock.now });
      const owner = await server.client().auth.register.mutate({ email: "delivery@example.com", password: PASSWORD, displayName: "D", client: "app" });
      api = server.client(owner.token!);
      siteId = owner.personalSiteId;
      const provisioned = await api.devices.provision.mutate({ siteId, name: "controller" });
      deviceToken = provisioned.token;
      lampId = (await api.actuators.create.mutate({ siteId, deviceId: provisioned.device.id, key: "lamp1", kind: "lamp" })).id;
    });
    afterAll(async () => {
      await server.close();
      rmSync(tmp, { recursive: true, force: true });
    });

    const queue = async (state: "on" | "off" = "on") => {
      clock.advance(1); // commands are delivered in queueing order: give each its own moment
      return (await api.commands.create.mutate({ siteId, actuatorId: lampId, command: { action: "switch", state }, idempotencyKey: `d-${++key}` })).command;
    };
    const poll = async (query = "", init: RequestInit = {}, base = server.url) => {
      const response = await fetch(`${base}/v1/commands${query}`, { ...init, headers: { authorization: `Bearer ${deviceToken}` } });
      return { status: response.status, body: (await response.json()) as { commands: DeviceCommand[] } & Record<string, unknown> };
    };
    const report = async (id: string, status: string, detail?: string) => {
      const response = await fetch(`${server.url}/v1/commands/${id}/ack`, {
        method: "POST",
        headers: { authorization: `Bearer ${deviceToken}`, "content-type": "application/json" },
        body: JSON.stringify(detail === undefined ? { status } : { status, detail }),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const finishAll = async () => {
      for (const c of (await poll()).body.commands) await report(c.id, "failed", "cleanup");
    };

    test("a waiting device gets a queued command at once, well before the 5 s safety poll", async () => {
      const waiting = poll("?wait=20");
      await Bun.sleep(300);
      const queuedAt = Date.now();
      const command = await queue();
      const answer = await waiting;
      expect(answer.body.commands.map((c) => c.id)).toEqual([command.id]);
      expect(Date.now() - queuedAt).toBeLessThan(1_500);
      await finishAll();
    });

    test("a command queued through another server wakes the device waiting on this one", async () => {
      const peer = await server.peer();
      try {
        const owner = await peer.client().auth.login.mutate({ email: "delivery@example.com", password: PASSWORD, client: "app" });
        const waiting = poll("?wait=20");
        await Bun.sleep(300);
        const queuedAt = Date.now();
        const { command } = await peer.client(owner.token!).commands.create.mutate({ siteId, actuatorId: lampId, command: { action: "switch", state: "off" }, idempotencyKey: `peer-${++key}` });
        const answer = await waiting;
        expect(answer.body.commands.map((c) => c.id)).toEqual([command.id]);
        expect(Date.now() - queuedAt).toBeLessThan(1_500);
        // And the other way round: a device long-polling the peer hears of this server's command.
        await finishAll();
        const onPeer = poll("?wait=20", {}, peer.url);
        await Bun.sleep(300);
        const second = await queue();
        expect((await onPeer).body.commands.map((c) => c.id)).toEqual([second.id]);
        await finishAll();
      } finally {
        await peer.close();
      }
    });

    test("wait must be a whole number of seconds from 0 to 30", async () => {
      for (const bad of ["31", "-1", "2.5", "soon"]) {
        const answer = await poll(`?wait=${bad}`);
        expect(answer.status).toBe(400);
        expect(answer.body).toMatchObject({ details: { path: "wait" } });
      }
    });

    test("a device that hangs up stops waiting on the server", async () => {
      const controller = new AbortController();
      const waiting = poll("?wait=30", { signal: controller.signal }).catch((error) => error);
      await Bun.sleep(300);
      expect(server.events.has("command.changed")).toBe(true);
      controller.abort();
      await waiting;
      const deadline = Date.now() + 2_000;
      while (server.events.has("command.changed") && Date.now() < deadline) await Bun.sleep(20);
      expect(server.events.has("command.changed")).toBe(false);
    });

    test("a waiting device is answered at once when the server shuts down", async () => {
      const started = Date.now();
      const waiting = poll("?wait=30");
      await Bun.sleep(300);
      await server.restart();
      const answer = await waiting;
      expect(answer).toEqual({ status: 200, body: { commands: [] } });
      expect(Date.now() - started).toBeLessThan(3_000);
    });

    test("a command fetched but not acknowledged is delivered again after a restart; an acknowledged one is not", async () => {
      const fetchedOnly = await queue("on");
      const acknowledged = await queue("off");
      expect((await poll()).body.commands.map((c) => [c.id, c.status])).toEqual([
        [fetchedOnly.id, "sent"],
        [acknowledged.id, "sent"],
      ]);
      expect((await report(acknowledged.id, "acknowledged")).status).toBe(200);
      await server.restart();
      expect((await poll()).body.commands.map((c) => [c.id, c.status])).toEqual([[fetchedOnly.id, "sent"]]);
      expect((await api.commands.get.query({ siteId, commandId: acknowledged.id })).status).toBe("acknowledged");
      // The acknowledged one finishes after the restart, and a repeated report changes nothing.
      expect(await report(acknowledged.id, "succeeded", "switched off")).toEqual({ status: 200, body: { id: acknowledged.id, status: "succeeded", changed: true } });
      const first = await api.commands.get.query({ siteId, commandId: acknowledged.id });
      clock.advance(5_000);
      expect(await report(acknowledged.id, "succeeded", "switched off again?")).toEqual({ status: 200, body: { id: acknowledged.id, status: "succeeded", changed: false } });
      expect(await api.commands.get.query({ siteId, commandId: acknowledged.id })).toEqual(first);
      // A conflicting result is refused and changes nothing either.
      expect((await report(acknowledged.id, "failed")).status).toBe(409);
      expect(await api.commands.get.query({ siteId, commandId: acknowledged.id })).toEqual(first);
      await finishAll();
    });

    test("a duplicate acknowledgement (its answer lost) does not run the command again", async () => {
      const command = await queue();
      let lostAnswers = 0;
      // The network drops the answer to the first acknowledgement: the server has it, the device does not know.
      const flakyFetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
        const response = await fetch(input, init);
        if (String(input).endsWith("/ack") && init?.body === JSON.stringify({ status: "acknowledged" }) && lostAnswers === 0) {
          lostAnswers += 1;
          throw new TypeError("connection reset");
        }
        return response;
      }) as typeof fetch;
      const runs: string[] = [];
      const device = new DeviceClient({ url: server.url, token: deviceToken, fetch: flakyFetch, retry: { initialDelayMs: 10, maxDelayMs: 20 } });
      const [delivered] = await device.pollCommands();
      expect(await device.handleCommand(delivered!, (c) => void runs.push(c.id))).toBe("ran");
      expect(lostAnswers).toBe(1);
      expect(runs).toEqual([command.id]);
      expect(await api.commands.get.query({ siteId, commandId: command.id })).toMatchObject({ status: "succeeded" });
      // Delivered again anyway (say, a retried poll): the SDK knows the id and does not run it.
      expect(await device.handleCommand(delivered!, (c) => void runs.push(c.id))).toBe("already handled");
      expect(runs).toEqual([command.id]);
    });

    test("a result whose detail holds a NUL character is refused naming the field, and changes nothing", async () => {
      const command = await queue();
      await poll();
      const before = await api.commands.get.query({ siteId, commandId: command.id });
      const refused = await report(command.id, "succeeded", "lamp\u0000on");
      expect(refused.status).toBe(400);
      expect(refused.body).toMatchObject({ details: { issues: [{ path: "detail", message: "must not contain a NUL character (\\u0000)" }] } });
      expect(await api.commands.get.query({ siteId, commandId: command.id })).toEqual(before);
      expect((await report(command.id, "succeeded", "lamp on")).status).toBe(200);
    });

    test("a device restarted with a result the server never got reports it without running the command again", async () => {
      const command = await queue();
      const stateFile = path.join(tmp, "commands.json");
      let serverDown = false;
      const downFetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
        if (serverDown) throw new TypeError("connection refused");
        return fetch(input, init);
      }) as typeof fetch;
      const runs: string[] = [];
      const first = new DeviceClient({ url: server.url, token: deviceToken, fetch: downFetch, commandStateFile: stateFile, onError: () => {} });
      const [delivered] = await first.pollCommands();
      await first.handleCommand(delivered!, (c) => {
        runs.push(c.id);
        serverDown = true; // the server goes away while the lamp switches
        return "lamp on";
      });
      expect((await api.commands.get.query({ siteId, commandId: command.id })).status).toBe("acknowledged");
      // The device program restarts; the server is back.
      serverDown = false;
      const second = new DeviceClient({ url: server.url, token: deviceToken, commandStateFile: stateFile });
      const controller = new AbortController();
      const running = second.runCommands((c) => void runs.push(c.id), { signal: controller.signal, waitSeconds: 1 });
      const deadline = Date.now() + 5_000;
      while ((await api.commands.get.query({ siteId, commandId: command.id })).status !== "succeeded" && Date.now() < deadline) await Bun.sleep(50);
      controller.abort();
      await running;
      expect(await api.commands.get.query({ siteId, commandId: command.id })).toMatchObject({ status: "succeeded", detail: "lamp on" });
      expect(runs).toEqual([command.id]);
    });

    test("runCommands runs each queued command once, in order, and reports the handler's outcome", async () => {
      const device = new DeviceClient({ url: server.url, token: deviceToken });
      const seen: string[] = [];
      const controller = new AbortController();
      const running = device.runCommands(
        (c) => {
          seen.push(c.id);
          const state = c.action === "switch" ? c.state : null; // the contract types commands by action
          if (state === "off") throw new Error("relay stuck");
          return `switched ${state}`;
        },
        { signal: controller.signal, waitSeconds: 5 },
      );
      const on = await queue("on");
      const off = await queue("off");
      const deadline = Date.now() + 5_000;
      const statusOf = async (id: string) => (await api.commands.get.query({ siteId, commandId: id })).status;
      while ((await statusOf(off.id)) !== "failed" && Date.now() < deadline) await Bun.sleep(50);
      controller.abort();
      await running;
      expect(seen).toEqual([on.id, off.id]);
      expect(await api.commands.get.query({ siteId, commandId: on.id })).toMatchObject({ status: "succeeded", detail: "switched on" });
      expect(await api.commands.get.query({ siteId, commandId: off.id })).toMatchObject({ status: "failed", detail: "relay stuck" });
    });
  });
}
