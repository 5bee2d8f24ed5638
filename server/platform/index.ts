/**
 * What every part of the server stands on and that knows no domain: configuration, logging, the
 * two stores and their bring-up, errors with field paths, keyset pagination, in-process events and
 * the NOTIFY relay between servers, tokens and hashes, recurrence in a time zone.
 */
export { AppError, badInput, HTTP_STATUS, messageOf, notFound, nulIssue, type AppErrorCode } from "./errors";
export { EventHub, type AlertChanged, type CommandChanged, type CommittedReading, type DevicePresence, type DeviceSeen, type ReadingsCommitted } from "./events";
export { createLogger, type Logger } from "./logger";
export { ConfigError, describeConfig, loadConfig, type Config, type DispatcherConfig, type IngestLimits, type MqttConfig } from "./config";
export { StoreUnavailableError, Stores } from "./stores";
export { CHANGES_CHANNEL, announceAccessChange, announceAlert, announceCommand, announcePresence, relayChanges } from "./changes";
export { DEVICE_TOKEN_PREFIX, generateDeviceToken, generateSessionToken, hashToken, tokenHint } from "./tokens";
export { afterCursor, decodeOffsetCursor, encodeOffsetCursor, keysetOf, likeEscape, orderBy, pageOf } from "./pagination";
export { parseRecurrence, type Recurrence } from "./recurrence";
export { CorsPolicy, isPreflight } from "./cors";
export { forwardedView, originOf, TrustedProxies, type ForwardedView } from "./proxies";
export { metaOf, setMetaOf, type RequestMeta } from "./request-meta";
