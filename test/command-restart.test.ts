import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createAppClient } from "../client";
import { spawnServer, waitForStatus, type ServerProcess } from "./support/process";

/** Commands across a real restart of the server process on the same DATA_DIR. */

const PASSWORD = "correct horse battery";

describe("commands across a server process restart", () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "verdant-restart-"));
  let running: ServerProcess | undefined;
  afterAll(async () => {
    running?.proc.kill("SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
  });

  const start = async () => {
    running = await spawnServer({ DATA_DIR: dataDir, DEMO_DATA: "false" });
    await waitForStatus(`${running.url}/readyz`, 200);
    return running;
  };
  const stop = async (server: ServerProcess) => {
    server.proc.kill("SIGTERM");
    expect(await server.proc.exited).toBe(0);
    running = undefined;
  };
  const device = (url: string, token: string) => ({
    poll: async (query = "") => {
      const response = await fetch(`${url}/v1/commands${query}`, { headers: { authorization: `Bearer ${token}` } });
      return { status: response.status, body: (await response.json()) as { commands: { id: string; status: string }[] } };
    },
    report: async (id: string, status: string) => {
      const response = await fetch(`${url}/v1/commands/${id}/ack`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ status }),
      });
      return { status: response.status, body: await response.json() };
    },
  });

  test("a fetched command is delivered again after a restart until acknowledged, and a waiting device is answered on SIGTERM", async () => {
    let server = await start();
    const owner = await createAppClient({ url: server.url }).auth.register.mutate({ email: "restart@example.com", password: PASSWORD, displayName: "R", client: "app" });
    const api = createAppClient({ url: server.url, token: owner.token! });
    const siteId = owner.personalSiteId;
    const controller = await api.devices.provision.mutate({ siteId, name: "controller" });
    const idle = await api.devices.provision.mutate({ siteId, name: "idle" });
    const lamp = await api.actuators.create.mutate({ siteId, deviceId: controller.device.id, key: "lamp1", kind: "lamp" });
    const { command } = await api.commands.create.mutate({ siteId, actuatorId: lamp.id, command: { action: "switch", state: "on" }, idempotencyKey: "restart-1" });
    expect((await device(server.url, controller.token).poll()).body.commands.map((c) => [c.id, c.status])).toEqual([[command.id, "sent"]]);

    // A device with nothing to do is waiting when the server is told to stop.
    const waiting = device(server.url, idle.token).poll("?wait=30");
    await Bun.sleep(300);
    const stoppedAt = Date.now();
    const exited = stop(server);
    expect(await waiting).toEqual({ status: 200, body: { commands: [] } });
    expect(Date.now() - stoppedAt).toBeLessThan(3_000);
    await exited;

    server = await start();
    const lampDevice = device(server.url, controller.token);
    expect((await lampDevice.poll()).body.commands.map((c) => [c.id, c.status])).toEqual([[command.id, "sent"]]);
    expect(await lampDevice.report(command.id, "acknowledged")).toEqual({ status: 200, body: { id: command.id, status: "acknowledged", changed: true } });
    await stop(server);

    server = await start();
    const again = device(server.url, controller.token);
    expect((await again.poll()).body.commands).toEqual([]);
    // The acknowledgement repeated after the restart changes nothing; the result is recorded once.
    expect(await again.report(command.id, "acknowledged")).toEqual({ status: 200, body: { id: command.id, status: "acknowledged", changed: false } });
    expect(await again.report(command.id, "succeeded")).toEqual({ status: 200, body: { id: command.id, status: "succeeded", changed: true } });
    expect(await again.report(command.id, "succeeded")).toEqual({ status: 200, body: { id: command.id, status: "succeeded", changed: false } });
    const client = createAppClient({ url: server.url, token: owner.token! });
    expect(await client.commands.get.query({ siteId, commandId: command.id })).toMatchObject({ status: "succeeded" });
    await stop(server);
  }, 120_000);
});
