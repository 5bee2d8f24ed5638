import mqtt, { type IPublishPacket, type MqttClient } from "mqtt";
import { messageOf, type Logger } from "../../platform";
import type { SiteDirectory } from "../../sites";
import type { Publisher } from "./commands";
import { isPermanent, type MessageHandler } from "./handler";
import { filtersOf } from "./routing";

/**
 * The bridge to the user's broker (MQTT_URL): one client with a persistent session (clean: false;
 * on MQTT 5 a session that never expires), subscribed with QoS 1 to every preset's topics and
 * every generic binding's pattern, so what is published while Verdant is down waits in the broker.
 *
 * A message is acknowledged (PUBACK) only once its readings are durable (ingest's write-ahead log,
 * synced to disk): mqtt.js sends the PUBACK of a QoS 1 message when `handleMessage` calls back, and
 * we call back after that. mqtt.js handles one message at a time on a connection, so a message that
 * could not be made durable is never acknowledged: the connection is dropped and made again after a
 * pause, and the broker delivers every unacknowledged message again (DUP set), which the journal
 * recognises.
 */

export interface BridgeConfig {
  url: string;
  username: string | undefined;
  password: string | undefined;
  clientId: string;
  protocolVersion: 4 | 5;
  /** The site whose devices publish on this broker. */
  siteId: string;
}

const RECONNECT_MS = 2_000;
const FILTER_REFRESH_MS = 5_000;

export class BrokerBridge implements Publisher {
  #client: MqttClient | undefined;
  #stopping = false;
  #inFlight = new Set<Promise<unknown>>();
  #subscribed = new Set<string>();
  #refresh: ReturnType<typeof setInterval> | undefined;
  #connected: Promise<void>;
  #onConnected: () => void = () => {};

  constructor(
    private readonly config: BridgeConfig,
    private readonly deps: { handler: MessageHandler; directory: SiteDirectory; log: Logger; onConnect?: () => void },
  ) {
    this.#connected = new Promise((resolve) => (this.#onConnected = resolve));
  }

  /** The MQTT session this bridge's deliveries come in, for the journal. */
  get session(): string {
    return `external:${this.config.clientId}`;
  }

  /** Resolves on the first successful connection (tests wait for it). */
  get connected(): Promise<void> {
    return this.#connected;
  }

  start(): void {
    if (this.#stopping || this.#client) return;
    const { url, username, password, clientId, protocolVersion } = this.config;
    const client = mqtt.connect(url, {
      clientId,
      username,
      password,
      clean: false,
      protocolVersion,
      // MQTT 5: the session (our subscriptions and the messages queued for them) outlives any downtime.
      ...(protocolVersion === 5 ? { properties: { sessionExpiryInterval: 0xffffffff } } : {}),
      reconnectPeriod: RECONNECT_MS,
      connectTimeout: 10_000,
      // Our subscriptions live in the broker's session; we subscribe again on every connect anyway.
      resubscribe: false,
    });
    client.handleMessage = (packet, done) => this.#receive(client, packet, done);
    client.on("connect", (connack) => {
      this.deps.log.info({ url: redact(url), clientId, sessionPresent: connack.sessionPresent }, "mqtt bridge connected");
      this.#subscribed.clear();
      void this.#subscribe()
        .then(() => {
          this.#onConnected();
          this.deps.onConnect?.();
        })
        .catch((error) => this.deps.log.warn({ err: messageOf(error) }, "mqtt bridge: subscribing failed"));
    });
    client.on("error", (error) => this.deps.log.warn({ err: messageOf(error) }, "mqtt bridge error"));
    client.on("offline", () => this.deps.log.warn({ url: redact(url) }, "mqtt bridge offline; reconnecting"));
    this.#client = client;
    // New generic bindings (other patterns) need their subscriptions.
    this.#refresh = setInterval(() => void this.#subscribe().catch(() => {}), FILTER_REFRESH_MS);
    this.#refresh.unref?.();
  }

  serves(siteId: string): boolean {
    return siteId === this.config.siteId;
  }

  async publish(_siteId: string, topic: string, payload: string): Promise<void> {
    if (!this.#client) throw new Error("the MQTT bridge is not started");
    await this.#client.publishAsync(topic, payload, { qos: 1 });
  }

  /** Bindings changed: subscribe to what they need now rather than at the next refresh. */
  async refresh(): Promise<void> {
    await this.#subscribe();
  }

  async #subscribe(): Promise<void> {
    const client = this.#client;
    if (!client?.connected || this.#stopping) return;
    const site = await this.deps.directory.site(this.config.siteId);
    if (!site) return;
    const wanted = filtersOf(site).filter((f) => !this.#subscribed.has(f));
    if (wanted.length === 0) return;
    // MQTT 5: retained messages only for a subscription the session did not have yet (rh 1).
    const options = this.config.protocolVersion === 5 ? { qos: 1 as const, rh: 1 } : { qos: 1 as const };
    await client.subscribeAsync(Object.fromEntries(wanted.map((f) => [f, options])));
    for (const f of wanted) this.#subscribed.add(f);
  }

  #receive(client: MqttClient, packet: IPublishPacket, done: (error?: Error) => void): void {
    // Stopping: not taken, not acknowledged; the broker delivers it again after the restart.
    if (this.#stopping) return;
    const work = this.deps.handler
      .handle({
        siteId: this.config.siteId,
        topic: packet.topic,
        payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload),
        receivedAt: Date.now(),
        delivery: packet.qos > 0 && packet.messageId !== undefined ? { session: this.session, messageId: packet.messageId, dup: packet.dup === true } : undefined,
        retained: packet.retain === true,
      })
      .then(
        () => done(),
        (error) => {
          if (isPermanent(error)) {
            this.deps.log.error({ err: messageOf(error), topic: packet.topic }, "mqtt message cannot be stored; acknowledged and dropped");
            done();
            return;
          }
          // Not acknowledged: drop the connection so the broker delivers it again (with every
          // later unacknowledged message) once we are back.
          this.deps.log.warn({ err: messageOf(error), topic: packet.topic }, "mqtt message not stored; reconnecting for redelivery");
          if (client === this.#client && !this.#stopping) client.stream?.destroy();
        },
      );
    this.#inFlight.add(work);
    void work.finally(() => this.#inFlight.delete(work));
  }

  /** Stops taking messages, lets the messages in flight become durable (and be acknowledged), then disconnects. */
  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#refresh) clearInterval(this.#refresh);
    await Promise.allSettled([...this.#inFlight]);
    const client = this.#client;
    if (!client) return;
    // A clean DISCONNECT keeps the session: what arrives later waits in the broker for us.
    const ended = client.endAsync(false).then(() => true);
    const timedOut = new Promise<false>((resolve) => setTimeout(() => resolve(false), 3_000).unref?.());
    if (!(await Promise.race([ended, timedOut]))) await client.endAsync(true);
  }
}

function redact(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = "***";
  return u.toString();
}
