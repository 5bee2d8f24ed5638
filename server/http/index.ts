/** The HTTP edge: the listener every request passes (request ids, access log) and the Elysia app with its routes and tRPC. */
export { createApp, type App, type AppDeps } from "./app";
export { oneSendForJson, serveHttp, type HttpOptions } from "./listener";
export type { AppRouter } from "./trpc/root";
