import { ConfigError, createLogger, loadConfig } from "./platform";
import { startServer } from "./start";

/** Entry point: `npm start`. Exits non-zero with a clear message when configuration is invalid. */

let config;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(78); // EX_CONFIG
  }
  throw error;
}

const log = createLogger(config.logLevel);
let server;
try {
  server = await startServer(config, log);
} catch (error) {
  log.fatal({ err: error instanceof Error ? error.message : String(error) }, "could not start");
  process.exit(1);
}

let signals = 0;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    signals += 1;
    if (signals > 1) {
      log.warn({ signal }, "second signal: exiting now");
      process.exit(1);
    }
    server.shutdown(signal).then(
      () => process.exit(0),
      (error) => {
        log.error({ err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  });
}
