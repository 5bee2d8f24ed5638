import { messageOf, type EventHub, type Logger, type MqttConfig, type Stores } from "../../platform";
import type { SiteDirectory } from "../../sites";
import type { Ingest } from "../ingest";
import { BrokerBridge } from "./bridge";
import { EmbeddedBroker } from "./broker";
import { MqttCommands, type Publisher } from "./commands";
import { DiscoveryRecorder } from "./discovery";
import { MessageHandler } from "./handler";
import { DeliveryJournal } from "./journal";

/**
 * MQTT: the bridge to the user's broker (MQTT_URL) and the embedded broker (MQTT_LISTEN), both
 * feeding the ingest pipeline through one message handler (./handler.ts), commands out to MQTT
 * devices (./commands.ts), presence for the offline rules (./presence.ts), topics nobody bound yet
 * (./discovery.ts). Bindings are site facts: the handler reads them from the site directory, and
 * people manage them through tRPC (server/mqtt-bindings). The composition root (server/start.ts)
 * calls `start` once the stores, the change relay and the directory are up, and `stop` on shutdown,
 * before ingest drains. Nothing runs without MQTT_URL or MQTT_LISTEN.
 */

export { pulseTimeOf } from "./commands";
export { decodePreset, defaultPrefixes, presenceOf, recognise } from "./presets";

export interface MqttDeps {
  config: MqttConfig;
  stores: Stores;
  ingest: Ingest;
  directory: SiteDirectory;
  events: EventHub;
  log: Logger;
  limits: { maxClockSkewMs: number; rawRetentionDays: number };
  now: () => Date;
}

export interface MqttService {
  /** Starts the brokers (the stores must be up): the embedded broker listens, the bridge connects in the background. */
  start(): Promise<void>;
  /** The embedded broker's port, once started (undefined without MQTT_LISTEN). */
  readonly brokerPort: number | undefined;
  /** Resolves when the bridge first connected and subscribed (never without MQTT_URL). */
  readonly bridgeConnected: Promise<void> | undefined;
  /**
   * Reads the site's facts again and subscribes to what its bindings need now (the bridge also does
   * so by itself when the bindings change, and every few seconds): a message on a new generic
   * pattern reaches Verdant only once it is subscribed to.
   */
  refresh(siteId: string): Promise<void>;
  /** Stops taking messages, lets the ones in flight become durable and be acknowledged, disconnects. */
  stop(): Promise<void>;
}

const JOURNAL_PRUNE_MS = 6 * 3_600_000;

export function createMqtt(deps: MqttDeps): MqttService {
  const { config, stores, events, directory, now } = deps;
  const log = deps.log.child({ component: "mqtt" });
  const enabled = config.bridge !== null || config.listen !== null;
  const discovery = new DiscoveryRecorder(() => stores.db, log);
  const journal = new DeliveryJournal(() => stores.db);
  const publishers: Publisher[] = [];
  const commands = new MqttCommands({ db: () => stores.db, events, directory, publishers, log, now });
  const handler = new MessageHandler({
    db: () => stores.db,
    directory,
    ingest: deps.ingest,
    journal,
    discovery,
    commands,
    log,
    limits: { maxClockSkewMs: deps.limits.maxClockSkewMs, maxAgeMs: deps.limits.rawRetentionDays * 86_400_000 },
  });
  const broker = config.listen ? new EmbeddedBroker(config.listen, { handler, directory, log }) : undefined;
  const bridge = config.bridge
    ? new BrokerBridge(config.bridge, { handler, directory, log, onConnect: () => void commands.catchUp([config.bridge!.siteId]).catch(() => {}) })
    : undefined;
  if (broker) publishers.push(broker);
  if (bridge) publishers.push(bridge);
  const serves = (siteId: string) => publishers.some((p) => p.serves(siteId));

  let stopped = false;
  let pruneTimer: ReturnType<typeof setInterval> | undefined;
  const unsubscribe: (() => void)[] = [];
  const prune = () => void journal.prune(new Date(now().getTime() - deps.limits.rawRetentionDays * 86_400_000)).catch((error) => log.warn({ err: messageOf(error) }, "mqtt: pruning the delivery journal failed"));

  /**
   * A site's facts changed on some server (bindings among them; the directory has marked it stale
   * before this runs): subscribe to what its bindings need now, and deliver the commands waiting
   * for a device that may just have been bound. Null: every site (the relay reconnected).
   */
  const onSiteChanged = ({ siteId }: { siteId: string | null }) => {
    if (siteId !== null && !serves(siteId)) return;
    if (bridge && (siteId === null || bridge.serves(siteId))) void bridge.refresh().catch(() => {});
    void commands.catchUp(siteId === null ? "all" : [siteId]).catch((error) => log.warn({ err: messageOf(error) }, "mqtt: delivering waiting commands failed"));
  };

  async function start(): Promise<void> {
    if (!enabled || stopped) return;
    try {
      await stores.start();
      if (stopped || !stores.ready) return;
      discovery.start();
      commands.start();
      unsubscribe.push(events.on("site.changed", onSiteChanged));
      prune();
      pruneTimer = setInterval(prune, JOURNAL_PRUNE_MS);
      pruneTimer.unref?.();
      if (broker) {
        await broker.start();
        if (stopped) return void (await broker.stop());
        await commands.catchUp("all");
      }
      if (bridge) void connectWhenSiteExists(bridge);
    } catch (error) {
      log.error({ err: messageOf(error) }, "mqtt did not start");
    }
  }

  /**
   * The bridge consumes only for an existing site: until MQTT_SITE_ID names one, it stays away,
   * which loses nothing (the broker keeps our session's messages until we come).
   */
  async function connectWhenSiteExists(b: BrokerBridge): Promise<void> {
    const siteId = config.bridge!.siteId;
    for (let attempt = 0; !stopped; attempt++) {
      const site = await directory.site(siteId).catch(() => undefined);
      if (site) return b.start();
      if (attempt === 0) log.error({ siteId }, "MQTT_SITE_ID names no site of this server: the bridge connects once it exists");
      await new Promise((resolve) => setTimeout(resolve, Math.min(500 * 2 ** attempt, 10_000)).unref?.());
    }
  }

  return {
    start,
    get brokerPort() {
      return broker?.port;
    },
    get bridgeConnected() {
      return bridge?.connected;
    },
    async refresh(siteId: string) {
      await directory.refresh(siteId);
      await bridge?.refresh();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const off of unsubscribe.splice(0)) off();
      if (pruneTimer) clearInterval(pruneTimer);
      // Not waiting for `start`: the stores may never come up, and shutdown must not hang on them.
      await Promise.allSettled([bridge?.stop(), broker?.stop()]);
      await commands.stop();
      await discovery.stop();
    },
  };
}
