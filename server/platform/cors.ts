/**
 * CORS: none by default. The dashboard is served by this server (same origin) and devices and
 * scripts are not browsers, so neither needs it. An app served from another origin (a separate
 * web front end, a browser extension's page) is listed in CORS_ORIGINS; only those origins get
 * CORS headers, with credentials (cookies) allowed, on the API paths below. An unlisted origin
 * gets no CORS header at all, so browsers keep its pages from reading any answer.
 */

/** Where browsers of listed origins may call: tRPC and the export download. */
const CORS_PATHS = /^\/(?:trpc(?:\/|$)|v1\/export$)/;

const ALLOWED_METHODS = "GET, POST";
const ALLOWED_HEADERS = "authorization, content-type, trpc-accept, x-request-id, last-event-id";
/** Headers a listed app may read from answers (besides the CORS-safelisted ones). */
const EXPOSED_HEADERS = "x-request-id, retry-after, content-disposition";
const PREFLIGHT_MAX_AGE_SECONDS = 600;

export class CorsPolicy {
  readonly #origins: ReadonlySet<string>;

  constructor(origins: readonly string[]) {
    this.#origins = new Set(origins);
  }

  static readonly none = new CorsPolicy([]);

  get origins(): string[] {
    return [...this.#origins];
  }

  /** Whether this Origin header names a listed origin (origins are compared normalized, as browsers send them). */
  allows(origin: string | null): boolean {
    return origin !== null && this.#origins.has(origin);
  }

  appliesTo(pathname: string): boolean {
    return CORS_PATHS.test(pathname);
  }

  /** The answer to a preflight (OPTIONS with Access-Control-Request-Method): permissions only for a listed origin. */
  preflight(request: Request): Response {
    const headers = new Headers({ vary: "origin, access-control-request-method, access-control-request-headers" });
    const origin = request.headers.get("origin");
    if (this.allows(origin)) {
      headers.set("access-control-allow-origin", origin!);
      headers.set("access-control-allow-credentials", "true");
      headers.set("access-control-allow-methods", ALLOWED_METHODS);
      headers.set("access-control-allow-headers", ALLOWED_HEADERS);
      headers.set("access-control-max-age", String(PREFLIGHT_MAX_AGE_SECONDS));
    }
    return new Response(null, { status: 204, headers });
  }

  /** Adds the CORS headers of an actual request's answer, for a listed origin only. */
  decorate(request: Request, headers: Headers): void {
    if (this.#origins.size === 0) return;
    headers.append("vary", "origin");
    const origin = request.headers.get("origin");
    if (!this.allows(origin)) return;
    headers.set("access-control-allow-origin", origin!);
    headers.set("access-control-allow-credentials", "true");
    headers.set("access-control-expose-headers", EXPOSED_HEADERS);
  }
}

export function isPreflight(request: Request): boolean {
  return request.method === "OPTIONS" && request.headers.has("access-control-request-method");
}
