import { Elysia } from "elysia";
import { type AdminArgs, AdminCommandError, adminCommands, secretMatches } from "../../admin";
import { messageOf, metaOf, type Stores } from "../../platform";
import type { SiteDirectory } from "../../sites";
import { httpError } from "../errors";

/**
 * `POST /admin/<operation>`: the CLI's channel to a running server (PGlite and chDB belong to one
 * process), on loopback only, with the secret the server wrote into DATA_DIR.
 */

export interface AdminRouteDeps {
  stores: Stores;
  directory: SiteDirectory;
  /** Without it the endpoint is off. */
  secret: string | undefined;
  now: () => Date;
}

export function adminRoutes(deps: AdminRouteDeps) {
  const { stores } = deps;
  return new Elysia({ name: "admin" }).post(
    "/admin/:command",
    async ({ request, params }) => {
      const ip = metaOf(request).remoteAddress;
      if (!deps.secret || !isLoopback(ip)) return httpError(404, "not found", { path: new URL(request.url).pathname });
      const presented = request.headers.get("authorization")?.replace(/^Bearer /, "") ?? "";
      if (!secretMatches(presented, deps.secret)) return httpError(401, "invalid admin secret");
      const command = adminCommands[params.command];
      if (!command) return httpError(404, "unknown command", { command: params.command });
      if (!command.whileServing) {
        return httpError(409, `${params.command} cannot run while the server is running`, {
          hint: "stop the server, then run the command again",
        });
      }
      let args: AdminArgs = {};
      try {
        const text = await request.text();
        args = text ? (JSON.parse(text) as AdminArgs) : {};
      } catch (error) {
        return httpError(400, "malformed request body", { reason: messageOf(error) });
      }
      try {
        const result = await command.run({ postgres: stores.postgres, clickhouse: stores.clickhouse, now: deps.now() }, args);
        // What the operation changed (a rotated token, a new device) holds here from the next request on.
        await deps.directory.settle();
        return result;
      } catch (error) {
        if (error instanceof AdminCommandError) return httpError(400, error.message);
        throw error;
      }
    },
    { parse: "none" },
  );
}

function isLoopback(address: string): boolean {
  return address === "::1" || address.startsWith("127.") || address.startsWith("::ffff:127.");
}
