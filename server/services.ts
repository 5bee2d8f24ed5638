import { accessCacheOf } from "./auth/access-cache";
import { relayChanges } from "./events/changes";
import type { EventHub } from "./events/hub";
import type { Logger } from "./logger";
import { NotificationDispatcher, type DispatcherConfig } from "./notifications/dispatcher";
import { messageOf, type Stores } from "./stores";

/**
 * What runs beside request handling once the stores are up: the change relay (Postgres NOTIFY →
 * this server's event hub) and the webhook dispatcher. Every server runs both; they are safe to
 * run N times against one PostgreSQL.
 */

export interface Services {
  dispatcher: NotificationDispatcher;
  /** Resolves once the relay listens (and the dispatcher runs, when started). */
  ready: Promise<void>;
  stop(): Promise<void>;
}

export function startServices(deps: {
  stores: Stores;
  events: EventHub;
  log: Logger;
  now: () => Date;
  notifications: DispatcherConfig;
  /** Tests tick the dispatcher by hand. */
  runDispatcher: boolean;
  fetch?: typeof fetch;
  random?: () => number;
}): Services {
  const { stores, events, log } = deps;
  const dispatcher = new NotificationDispatcher({
    db: () => stores.db,
    now: deps.now,
    log: log.child({ component: "notifications" }),
    config: deps.notifications,
    fetch: deps.fetch,
    random: deps.random,
  });
  // Access taken away on any server (NOTIFY, relayed): forget the sessions and roles held here.
  const stopForgetting = events.on("access.changed", () => accessCacheOf(stores).clear());
  let stopped = false;
  let stopRelay: (() => Promise<void>) | undefined;
  const ready = (async () => {
    await stores.start();
    if (stopped || !stores.ready) return;
    stopRelay = await relayChanges(stores.postgres, events, log.child({ component: "changes" }));
    if (stopped) return void (await stopRelay().catch(() => {}));
    if (deps.runDispatcher) dispatcher.start();
  })().catch((error) => log.error({ err: messageOf(error) }, "background services did not start"));
  return {
    dispatcher,
    ready,
    // Does not wait for `ready`: the stores may never come up (an unreachable PostgreSQL), and
    // shutdown must not hang on them. Whatever starts after this stops itself.
    stop: async () => {
      stopped = true;
      stopForgetting();
      await dispatcher.stop();
      await stopRelay?.().catch(() => {});
    },
  };
}
