import { createServer, type Server } from "node:net";
import { Aedes, type AuthenticateError, type Client } from "aedes";
import { messageOf, type Logger } from "../../platform";
import type { SiteDirectory } from "../../sites";
import type { Publisher } from "./commands";
import { isPermanent, type MessageHandler } from "./handler";

/**
 * The embedded broker (MQTT_LISTEN): aedes in this process, for people without a broker of their
 * own. Devices connect with a device token as the password (any user name), and everything they
 * do stays inside the token's site: topics are kept under "<site id>/" inside the broker and
 * handed out without it, so a device sees and reaches only its own site's topics, and client ids
 * are per site too (a client of another site cannot take a session over).
 *
 * A device's message is taken in `authorizePublish`, which aedes runs before it answers a QoS 1
 * PUBLISH with PUBACK: the readings are made durable first (ingest's write-ahead log, synced to
 * disk), so the device's PUBACK means "stored". A message that cannot be made durable is refused,
 * which closes the device's connection without a PUBACK; a device that keeps its QoS 1 messages
 * sends it again when it reconnects.
 *
 * Persistence: aedes' in-memory persistence. It keeps, while Verdant runs, retained messages,
 * wills, persistent sessions' subscriptions and the QoS 1 messages queued for subscribers that are
 * offline (commands for a device away for a moment); a restart of Verdant loses them. Readings do
 * not depend on it: they are durable before the device gets its PUBACK.
 */

interface Session {
  siteId: string;
  deviceId: string;
}

/** Errors aedes passes to a refused CONNECT: code 4 "bad user name or password". */
function refused(message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode: 4 }) as AuthenticateError;
}

export class EmbeddedBroker implements Publisher {
  #aedes: Aedes | undefined;
  #server: Server | undefined;
  #sessions = new WeakMap<Client, Session>();
  #stopping = false;
  #inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly options: { port: number; host: string },
    private readonly deps: { handler: MessageHandler; directory: SiteDirectory; log: Logger },
  ) {}

  /** The port it listens on (resolved when 0 was asked for). */
  get port(): number {
    const address = this.#server?.address();
    return typeof address === "object" && address ? address.port : this.options.port;
  }

  async start(): Promise<void> {
    const aedes = await Aedes.createBroker({ drainTimeout: 30_000, heartbeatInterval: 60_000 });
    aedes.authenticate = (client, _username, password, done) => {
      void this.deps.directory
        .authenticate(password?.toString("utf8"))
        .then((result) => {
          if (!result.ok) return done(refused(`device token ${result.reason}`), false);
          const { id: deviceId, siteId } = result.device;
          // Client ids, and the persistent sessions aedes keys by them, are per site.
          (client as { id: string }).id = `${siteId}/${client.id}`;
          this.#sessions.set(client, { siteId, deviceId });
          done(null, true);
        })
        .catch((error) => done(Object.assign(new Error(messageOf(error)), { returnCode: 3 }) as AuthenticateError, false));
    };
    aedes.authorizePublish = (client, packet, done) => {
      const session = client ? this.#sessions.get(client) : undefined;
      if (!client || !session) return done(new Error("not authenticated"));
      if (packet.topic.startsWith("$")) return done(new Error("topics starting with $ are reserved"));
      if (this.#stopping) return done(new Error("shutting down"));
      const topic = packet.topic;
      const work = this.deps.handler
        .handle({
          siteId: session.siteId,
          topic,
          payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload),
          receivedAt: Date.now(),
          // A client's packet ids are its own: the session is the (site-scoped) client id.
          delivery: packet.qos > 0 && packet.messageId !== undefined ? { session: `embedded:${client.id}`, messageId: packet.messageId, dup: packet.dup === true } : undefined,
        })
        .then(
          () => {
            packet.topic = `${session.siteId}/${topic}`;
            done(null);
          },
          (error) => {
            if (isPermanent(error)) {
              this.deps.log.error({ err: messageOf(error), topic }, "mqtt message cannot be stored; acknowledged and dropped");
              packet.topic = `${session.siteId}/${topic}`;
              return done(null);
            }
            this.deps.log.warn({ err: messageOf(error), topic }, "mqtt message not stored; closing the client's connection without PUBACK");
            done(new Error(`not stored: ${messageOf(error)}`));
          },
        );
      this.#inFlight.add(work);
      void work.finally(() => this.#inFlight.delete(work));
    };
    aedes.authorizeSubscribe = (client, subscription, done) => {
      const session = this.#sessions.get(client);
      if (!session) return done(new Error("not authenticated"));
      const prefix = `${session.siteId}/`;
      // A restored persistent session brings its subscriptions as they were stored: already scoped.
      if (!subscription.topic.startsWith(prefix)) {
        if (subscription.topic.startsWith("$")) return done(null, null);
        subscription.topic = prefix + subscription.topic;
      }
      done(null, subscription);
    };
    aedes.authorizeForward = (client, packet) => {
      const session = this.#sessions.get(client);
      const prefix = session ? `${session.siteId}/` : undefined;
      if (!prefix || !packet.topic.startsWith(prefix)) return null;
      // A copy: the same packet goes to other subscribers (aedes wraps what we return).
      return { ...packet, topic: packet.topic.slice(prefix.length) };
    };
    aedes.on("clientError", (client, error) => this.deps.log.debug({ clientId: client.id, err: error.message }, "mqtt broker: client error"));
    const server = createServer(aedes.handle);
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.options.port, this.options.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    this.#aedes = aedes;
    this.#server = server;
    this.deps.log.info({ port: this.port, host: this.options.host }, "mqtt broker listening");
  }

  serves(): boolean {
    return true;
  }

  publish(siteId: string, topic: string, payload: string): Promise<void> {
    const aedes = this.#aedes;
    if (!aedes) return Promise.reject(new Error("the MQTT broker is not started"));
    return new Promise((resolve, reject) =>
      aedes.publish({ cmd: "publish", topic: `${siteId}/${topic}`, payload: Buffer.from(payload), qos: 1, retain: false, dup: false }, (error) =>
        error ? reject(error) : resolve(),
      ),
    );
  }

  /** Stops taking messages and connections, lets messages in flight become durable (their PUBACKs go out), then closes. */
  async stop(): Promise<void> {
    this.#stopping = true;
    const server = this.#server;
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    await Promise.allSettled([...this.#inFlight]);
    // Let the last PUBACKs be written before the connections close.
    await new Promise((resolve) => setTimeout(resolve, 20));
    await new Promise<void>((resolve) => (this.#aedes ? this.#aedes.close(() => resolve()) : resolve()));
    await closed;
  }
}
