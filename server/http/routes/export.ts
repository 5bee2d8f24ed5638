import { Elysia } from "elysia";
import { exportQuery } from "../../../shared/schemas/analytics";
import { exportChunks, exportSensors } from "../../analytics";
import { sessionOfRequest } from "../../accounts";
import { httpError, httpErrorOf } from "../errors";
import type { Logger, Stores } from "../../platform";
import type { SiteDirectory } from "../../sites";

/**
 * GET /v1/export?siteId=…&from=…&to=…[&format=csv|ndjson][&sensorIds=a,b][&plantId=…][&metric=…]
 * Raw readings of a range as a streamed download, for a signed-in member of the site (session
 * cookie or `Authorization: Bearer`, as for tRPC). The body is produced page by page as the client
 * reads it, so memory stays constant for any range.
 */

export interface ExportRouteDeps {
  stores: Stores;
  directory: SiteDirectory;
  log: Logger;
  now: () => Date;
}

const CONTENT_TYPES = { csv: "text/csv; charset=utf-8", ndjson: "application/x-ndjson" } as const;

export function exportRoutes(deps: ExportRouteDeps) {
  const { stores, directory, log, now } = deps;
  return new Elysia({ name: "export" }).get("/v1/export", async ({ request }) => {
    try {
      const auth = await sessionOfRequest(stores, request, now());
      if (!auth) return httpError(401, "sign in first: no valid session");
      const parsed = exportQuery.safeParse(Object.fromEntries(new URL(request.url).searchParams));
      if (!parsed.success) {
        return httpError(400, "invalid request", { issues: parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })) });
      }
      const query = parsed.data;
      // Any member may read; a site the caller is not in is "not found", as in tRPC.
      if (!(await directory.role(query.siteId, auth.user.id))) return httpError(404, "site not found", { path: "siteId" });
      const sensors = await exportSensors({ directory }, query.siteId, query);
      const chunks = exportChunks({ ch: stores.clickhouse }, sensors, query);
      const encoder = new TextEncoder();
      const body = new ReadableStream<Uint8Array>({
        // Pulled only as the client reads: a slow download holds one page, not the whole range.
        async pull(controller) {
          try {
            const next = await chunks.next();
            if (next.done) controller.close();
            else controller.enqueue(encoder.encode(next.value));
          } catch (error) {
            log.error({ err: error, siteId: query.siteId }, "export failed mid-stream");
            controller.error(error);
          }
        },
        async cancel() {
          await chunks.return(undefined);
        },
      });
      const name = `readings-${query.from.toISOString().slice(0, 10)}-${query.to.toISOString().slice(0, 10)}.${query.format}`;
      const headers: Record<string, string> = {
        "content-type": CONTENT_TYPES[query.format],
        "content-disposition": `attachment; filename="${name}"`,
        "cache-control": "no-store",
      };
      if (auth.renewedCookie) headers["set-cookie"] = auth.renewedCookie;
      return new Response(body, { headers });
    } catch (error) {
      return httpErrorOf(error);
    }
  });
}
