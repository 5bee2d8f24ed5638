import { realpathSync, statSync, type Stats } from "node:fs";
import path from "node:path";

/**
 * The dashboard's static bundle (web/, built by Vite into web/dist at install), served by the
 * API's own server so the browser talks to one origin: the session cookie and the CSRF Origin
 * check work as they are.
 *
 *  - `/assets/*` holds hashed file names: a year of `immutable` caching is safe, because any
 *    change gets a new name.
 *  - `index.html` names the current assets: `no-cache` (revalidated on every load, a 304 when
 *    unchanged), so a new build reaches browsers on their next visit.
 *  - Any other GET that asks for HTML is a client route (`/s/…/plants/…`): it gets index.html
 *    and the dashboard's router draws the page.
 *  - API paths are never files and never client routes: they keep the app's own JSON 404.
 *
 * A request path never leaves the bundle directory: it is decoded once, refused if any segment
 * is `..`, `.` or hidden (`.build-hash`), or holds a backslash or NUL; the joined path must lie
 * inside the directory, and so must its real path (a symlink cannot point out).
 *
 * The security headers (the Content-Security-Policy the dashboard is built to, nosniff, no
 * framing) are the listener's, the same on every response: ./security-headers.ts.
 */

export const WEB_DIST_DIR = path.resolve(import.meta.dir, "../../web/dist");

/** First path segments owned by the API (and the InfluxDB-compatible endpoints). */
const API_ROOTS = new Set(["trpc", "v1", "admin", "healthz", "readyz", "write", "api", "ping", "health", "query"]);

export function isApiPath(pathname: string): boolean {
  const first = pathname.split("/", 2)[1] ?? "";
  return API_ROOTS.has(first.toLowerCase());
}

const IMMUTABLE = "public, max-age=31536000, immutable";
const REVALIDATE = "no-cache";
/** Files at the bundle's root besides index.html (icons, manifest): unhashed, so kept briefly. */
const SHORT = "public, max-age=3600";

const COMPRESSIBLE = /\.(js|mjs|css|html|svg|json|txt|map|webmanifest)$/;

/** The file a request path names inside `root`, or null when it names nothing there (or tries to leave it). */
export function resolveInside(root: string, pathname: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return null; // malformed percent-encoding
  }
  if (decoded.includes("\0") || decoded.includes("\\")) return null;
  const segments = decoded.split("/").filter((s) => s !== "");
  if (segments.some((s) => s.startsWith("."))) return null; // "..", "." and hidden files
  const full = path.join(root, ...segments);
  if (full !== root && !full.startsWith(root + path.sep)) return null;
  return full;
}

function fileStats(file: string): Stats | null {
  try {
    const stats = statSync(file);
    return stats.isFile() ? stats : null;
  } catch {
    return null;
  }
}

export interface WebBundleOptions {
  /** The built bundle (default: web/dist). */
  dir?: string;
}

/** Answers for the bundle's files; `null` means "not ours" (the app's 404 follows). */
export class WebBundle {
  readonly root: string;

  constructor(dir: string = WEB_DIST_DIR) {
    this.root = path.resolve(dir);
  }

  respond(request: Request): Response | null {
    const pathname = new URL(request.url).pathname;
    if (isApiPath(pathname)) return null;
    const index = path.join(this.root, "index.html");
    if (!fileStats(index)) return notBuilt();
    if (pathname === "/" || pathname === "/index.html") return this.#file(request, index, REVALIDATE);
    const file = resolveInside(this.root, pathname);
    if (file === null) return null;
    const stats = fileStats(file);
    if (stats) {
      if (!this.#contains(file)) return null;
      const underAssets = file.startsWith(path.join(this.root, "assets") + path.sep);
      return this.#file(request, file, underAssets ? IMMUTABLE : file === index ? REVALIDATE : SHORT);
    }
    // A client route: the browser navigates to it (asks for HTML); a missing script or image does not.
    const wantsHtml = request.headers.get("accept")?.includes("text/html") ?? false;
    const looksLikeFile = /\.[A-Za-z0-9]{1,8}$/.test(pathname);
    if (wantsHtml && !looksLikeFile) return this.#file(request, index, REVALIDATE);
    return null;
  }

  /** The real path too: a symlink inside the bundle must not lead out of it. */
  #contains(file: string): boolean {
    try {
      const realRoot = realpathSync(this.root);
      const real = realpathSync(file);
      return real.startsWith(realRoot + path.sep);
    } catch {
      return false;
    }
  }

  #file(request: Request, file: string, cacheControl: string): Response {
    const stats = fileStats(file)!;
    const etag = `W/"${stats.size.toString(36)}-${Math.floor(stats.mtimeMs).toString(36)}"`;
    const headers = new Headers({
      "cache-control": cacheControl,
      etag,
      "content-type": Bun.file(file).type,
    });
    let body = file;
    if (COMPRESSIBLE.test(file)) {
      headers.set("vary", "accept-encoding");
      // Precompressed at build time (web/scripts/build.mjs): brotli where the browser takes it, else gzip.
      const accepted = request.headers.get("accept-encoding") ?? "";
      for (const [encoding, suffix] of [["br", ".br"], ["gzip", ".gz"]] as const) {
        if (accepted.includes(encoding) && fileStats(file + suffix)) {
          headers.set("content-encoding", encoding);
          body = file + suffix;
          break;
        }
      }
    }
    if (request.headers.get("if-none-match") === etag) return new Response(null, { status: 304, headers });
    if (request.method === "HEAD") {
      headers.set("content-length", String(fileStats(body)!.size));
      return new Response(null, { status: 200, headers });
    }
    return new Response(Bun.file(body), { status: 200, headers });
  }
}

function notBuilt(): Response {
  return new Response(
    "<!doctype html><meta charset=utf-8><title>Verdant</title><p>The dashboard is not built yet: run <code>npm run build:web</code> (or <code>npm install</code>) and reload.",
    { status: 503, headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", "retry-after": "5" } },
  );
}
