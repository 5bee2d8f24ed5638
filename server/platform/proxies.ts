import net from "node:net";

/**
 * Who is on the other end of a request, and how they reached us. Behind a reverse proxy the peer
 * is the proxy: the client's address, the scheme (TLS ends at the proxy) and the host the browser
 * used arrive in `X-Forwarded-For`, `X-Forwarded-Proto` and `X-Forwarded-Host`. Anyone can send
 * those headers, so they are believed only when the peer is one of the configured proxies
 * (TRUSTED_PROXIES); otherwise the connection itself is the truth. The same view decides the
 * address login throttling counts, the origin CSRF checks compare with, and whether HSTS is sent.
 */

export class TrustedProxies {
  readonly #list = new net.BlockList();
  /** The entries as configured, for the start-up log. */
  readonly entries: readonly string[];

  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const parsed = parseEntry(entry);
      if (!parsed) throw new Error(`${JSON.stringify(entry)} is not an IP address or CIDR range (e.g. 10.0.0.0/8, ::1)`);
      if (parsed.prefix === undefined) this.#list.addAddress(parsed.address, parsed.family);
      else this.#list.addSubnet(parsed.address, parsed.prefix, parsed.family);
    }
    this.entries = [...entries];
  }

  /** Parses a comma- or space-separated list; throws naming the first entry that is not an IP or CIDR. */
  static parse(value: string): TrustedProxies {
    return new TrustedProxies(value.split(/[\s,]+/).filter(Boolean));
  }

  static readonly none = new TrustedProxies([]);

  /** Whether `address` is one of the proxies (IPv4-mapped IPv6 addresses count as IPv4). */
  contains(address: string): boolean {
    if (this.entries.length === 0) return false;
    const family = net.isIP(address);
    if (family === 0) return false;
    return this.#list.check(address, family === 4 ? "ipv4" : "ipv6");
  }
}

function parseEntry(entry: string): { address: string; family: "ipv4" | "ipv6"; prefix: number | undefined } | undefined {
  const [address = "", prefixText, ...rest] = entry.split("/");
  const family = net.isIP(address);
  if (family === 0 || rest.length > 0) return undefined;
  const kind = family === 4 ? "ipv4" : "ipv6";
  if (prefixText === undefined) return { address, family: kind, prefix: undefined };
  const max = family === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) return undefined;
  return { address, family: kind, prefix: Number(prefixText) };
}

export interface ForwardedView {
  /** The client's address: the peer, or what trusted proxies say the client was. */
  clientAddress: string;
  /** Whether the client reached us over HTTPS (directly, or at a trusted proxy). */
  https: boolean;
  /** This server's origin as the client sees it: scheme, host and port (`https://plants.example`). */
  origin: string;
}

/** A host as a Host header carries it: a name or an IPv4 address, or a bracketed IPv6 address, with an optional port. */
const HOST = /^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;

const firstOf = (header: string | null) => header?.split(",", 1)[0]?.trim() || undefined;

export function forwardedView(request: Request, peer: string, proxies: TrustedProxies): ForwardedView {
  const url = new URL(request.url);
  let https = url.protocol === "https:";
  let host = request.headers.get("host") ?? url.host;
  let clientAddress = peer;
  if (proxies.contains(peer)) {
    // X-Forwarded-For lists every hop, the nearest last: walk back through our own proxies; the
    // first address that is not one of them is the client (anything further left it made up).
    const hops = (request.headers.get("x-forwarded-for") ?? "").split(",").map((hop) => hop.trim()).filter(Boolean);
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i]!;
      if (net.isIP(hop) === 0) break;
      clientAddress = hop;
      if (!proxies.contains(hop)) break;
    }
    // Scheme and host as the outermost proxy received them.
    const proto = firstOf(request.headers.get("x-forwarded-proto"))?.toLowerCase();
    if (proto === "https" || proto === "http") https = proto === "https";
    const forwardedHost = firstOf(request.headers.get("x-forwarded-host"));
    if (forwardedHost && HOST.test(forwardedHost)) host = forwardedHost;
  }
  return { clientAddress, https, origin: originOf(`${https ? "https" : "http"}://${host}`) };
}

/** The normalized origin of a URL (default ports dropped, host lower-cased), or "" when it is not one. */
export function originOf(value: string): string {
  try {
    const origin = new URL(value).origin;
    return origin === "null" ? "" : origin;
  } catch {
    return "";
  }
}
