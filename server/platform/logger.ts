import pino from "pino";
import type { LogLevel } from "./config";

export type Logger = pino.Logger;

/**
 * Structured JSON logs, one object per line on stdout.
 * Redaction is a safety net: code should never log a secret, but if a header or a token
 * field ever ends up in a log object, pino replaces it before it is written.
 */
export function createLogger(level: LogLevel): Logger {
  return pino({
    level,
    base: { service: "verdant" },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: {
      paths: [
        "password",
        "*.password",
        "token",
        "*.token",
        "secret",
        "*.secret",
        "authorization",
        "*.authorization",
        "headers.authorization",
        "headers.cookie",
        "*.headers.authorization",
        "*.headers.cookie",
      ],
      censor: "[redacted]",
    },
  });
}
