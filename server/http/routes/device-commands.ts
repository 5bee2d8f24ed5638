import { Elysia } from "elysia";
import { bearerOf } from "../../accounts";
import { commandReport } from "../../../shared/schemas/device";
import { acknowledgeCommand, longPollCommands, MAX_WAIT_SECONDS } from "../../commands";
import type { SiteDirectory } from "../../sites";
import { type EventHub, nulIssue, type Stores } from "../../platform";
import { deviceAuthError, httpError, httpErrorOf } from "../errors";

/**
 * Devices fetch their commands and report on them with their device token:
 *   GET  /v1/commands[?wait=<0..30>]   → { commands: [...] }   (open commands, oldest first)
 *   POST /v1/commands/:id/ack { status: "acknowledged"|"succeeded"|"failed", detail? }
 * With `wait`, an empty answer is held up to that many seconds until a command arrives (long poll);
 * the device hanging up or the server stopping ends the wait at once. Both are heartbeats: a device
 * that only acts (a pump controller) is seen alive by them.
 */

export interface DeviceCommandDeps {
  stores: Stores;
  directory: SiteDirectory;
  events: EventHub;
  now: () => Date;
  /** Aborted when the server starts shutting down. */
  stopping: AbortSignal;
  /** Records that an authenticated device was heard from (coalesced device activity). */
  heartbeat: (device: { id: string; siteId: string }) => void;
}
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;


export function deviceCommandRoutes(deps: DeviceCommandDeps) {
  const { stores, directory, events, now, stopping, heartbeat } = deps;
  return new Elysia({ name: "device-commands" })
    .get("/v1/commands", async ({ request }) => {
      const auth = await directory.authenticate(bearerOf(request));
      if (!auth.ok) return deviceAuthError(auth.reason);
      heartbeat(auth.device);
      const waitParam = new URL(request.url).searchParams.get("wait");
      const wait = waitParam === null ? 0 : Number(waitParam);
      if (!Number.isInteger(wait) || wait < 0 || wait > MAX_WAIT_SECONDS) {
        return httpError(400, "invalid request", { path: "wait", message: `must be a whole number of seconds from 0 to ${MAX_WAIT_SECONDS}` });
      }
      // Revoking (or rotating) the token, on any server, ends the wait with the answer the
      // device would get next: 403 revoked, 401 for a replaced token. The site directory hears of
      // it as a change of the device's site; the token is checked again then.
      const credentials = new AbortController();
      let refused: "malformed" | "unknown" | "revoked" | undefined;
      const stopListening = events.on("site.changed", async ({ siteId }) => {
        if (siteId !== null && siteId !== auth.device.siteId) return;
        const again = await directory.authenticate(bearerOf(request));
        if (again.ok) return;
        refused = again.reason;
        credentials.abort();
      });
      try {
        const commands = await longPollCommands({
          db: () => stores.db,
          events,
          now,
          deviceId: auth.device.id,
          waitMs: wait * 1000,
          signal: AbortSignal.any([request.signal, stopping, credentials.signal]),
        });
        if (refused) return deviceAuthError(refused);
        return { commands };
      } catch (error) {
        return httpErrorOf(error);
      } finally {
        stopListening();
      }
    })
    .post(
      "/v1/commands/:id/ack",
      async ({ request, params }) => {
        const auth = await directory.authenticate(bearerOf(request));
        if (!auth.ok) return deviceAuthError(auth.reason);
        heartbeat(auth.device);
        if (!UUID.test(params.id)) return httpError(404, "command not found for this device", { path: "id" });
        let body: unknown;
        try {
          body = JSON.parse(await request.text());
        } catch {
          return httpError(400, "malformed request body", { reason: "expected JSON" });
        }
        const parsed = commandReport.safeParse(body);
        if (!parsed.success) {
          return httpError(400, "invalid request", { issues: parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })) });
        }
        const nul = nulIssue(parsed.data);
        if (nul) return httpError(400, "invalid request", { issues: [nul] });
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
