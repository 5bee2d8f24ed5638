import { Elysia } from "elysia";
import { bearerOf } from "../http";
import { commandAckBody } from "../../shared/schemas/commands";
import { acknowledgeCommand, fetchDeviceCommands } from "../commands/commands";
import type { DeviceAuthenticator } from "../devices/device-auth";
import { deviceAuthError, httpError, httpErrorOf } from "../http-errors";
import type { Stores } from "../stores";

/**
 * Devices fetch their commands and report on them with their device token:
 *   GET  /v1/commands[?wait=<0..30>]   → { commands: [...] }   (open commands, oldest first)
 *   POST /v1/commands/:id/ack { status: "acknowledged"|"succeeded"|"failed", detail? }
 * With `wait`, an empty answer is held up to that many seconds until a command arrives (long poll).
 */

export interface DeviceCommandDeps {
  stores: Stores;
  deviceAuth: DeviceAuthenticator;
  now: () => Date;
}

const MAX_WAIT_SECONDS = 30;
const POLL_INTERVAL_MS = 250;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;


export function deviceCommandRoutes(deps: DeviceCommandDeps) {
  const { stores, deviceAuth, now } = deps;
  return new Elysia({ name: "device-commands" })
    .get("/v1/commands", async ({ request }) => {
      const auth = await deviceAuth.authenticate(bearerOf(request));
      if (!auth.ok) return deviceAuthError(auth.reason);
      const waitParam = new URL(request.url).searchParams.get("wait");
      const wait = waitParam === null ? 0 : Number(waitParam);
      if (!Number.isInteger(wait) || wait < 0 || wait > MAX_WAIT_SECONDS) {
        return httpError(400, "invalid request", { path: "wait", message: `must be a whole number of seconds from 0 to ${MAX_WAIT_SECONDS}` });
      }
      const deadline = Date.now() + wait * 1000;
      try {
        for (;;) {
          const commands = await fetchDeviceCommands(stores.db, auth.device.id, now());
          const left = deadline - Date.now();
          if (commands.length > 0 || left <= 0 || request.signal.aborted) return { commands };
          await Bun.sleep(Math.min(POLL_INTERVAL_MS, left));
        }
      } catch (error) {
        return httpErrorOf(error);
      }
    })
    .post(
      "/v1/commands/:id/ack",
      async ({ request, params }) => {
        const auth = await deviceAuth.authenticate(bearerOf(request));
        if (!auth.ok) return deviceAuthError(auth.reason);
        if (!UUID.test(params.id)) return httpError(404, "command not found for this device", { path: "id" });
        let body: unknown;
        try {
          body = JSON.parse(await request.text());
        } catch {
          return httpError(400, "malformed request body", { reason: "expected JSON" });
        }
        const parsed = commandAckBody.safeParse(body);
        if (!parsed.success) {
          return httpError(400, "invalid request", { issues: parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })) });
        }
        try {
          const { command, changed } = await acknowledgeCommand(stores.db, auth.device.id, params.id, parsed.data, now());
          return { id: command.id, status: command.status, changed };
        } catch (error) {
          return httpErrorOf(error);
        }
      },
      { parse: "none" },
    );
}
