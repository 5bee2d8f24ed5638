import { forwardedView, TrustedProxies, type ForwardedView } from "./proxies";

/**
 * What the HTTP listener learned about a request before any route saw it — its id, the TCP peer,
 * the client as trusted proxies describe it, whether its Origin may use CORS — kept beside the
 * request so that whoever needs it (the access log, throttling, cookies, CSRF) reads the same view.
 */
export interface RequestMeta extends ForwardedView {
  id: string;
  /** The TCP peer: a proxy's address when behind one. */
  remoteAddress: string;
  /** The request's Origin is one of CORS_ORIGINS. */
  corsAllowed: boolean;
}

const requestMeta = new WeakMap<Request, RequestMeta>();

/** Set by the HTTP listener (server/http/listener.ts) for every request it receives. */
export function setMetaOf(request: Request, meta: RequestMeta): void {
  requestMeta.set(request, meta);
}

export function metaOf(request: Request): RequestMeta {
  const meta = requestMeta.get(request);
  if (meta) return meta;
  // A request handed to the app without the listener (in-process calls): only what it says itself.
  const fallback = { id: "unknown", remoteAddress: "", corsAllowed: false, ...forwardedView(request, "", TrustedProxies.none) };
  requestMeta.set(request, fallback);
  return fallback;
}
