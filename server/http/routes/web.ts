import { Elysia, NotFoundError } from "elysia";
import { WebBundle, type WebBundleOptions } from "../web-bundle";

/**
 * The dashboard (web/dist) on any path no other route took: mounted last in the app, so every API
 * route keeps its own answers. It is registered for every method because Elysia prefers a
 * method's own wildcard over an `all` one: a GET wildcard here would take GET /trpc/… from the
 * tRPC route. Only GET and HEAD are answered; the rest, and what the bundle does not serve, become
 * the app's NOT_FOUND (its JSON 404), so API paths keep their own 404s. The body is never read
 * (`parse: "none"`): a POST to a wrong path is a 404, not a 400.
 */
export function webRoutes(options: WebBundleOptions = {}) {
  const bundle = new WebBundle(options.dir);
  return new Elysia({ name: "web-bundle" }).all(
    "/*",
    ({ request }) => {
      const response = request.method === "GET" || request.method === "HEAD" ? bundle.respond(request) : null;
      if (!response) throw new NotFoundError();
      return response;
    },
    { parse: "none" },
  );
}
