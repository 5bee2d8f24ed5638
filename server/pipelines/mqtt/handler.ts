import { randomUUID } from "node:crypto";
import type { Db } from "../../../db/client";
import type { Logger } from "../../platform";
import type { SiteDirectory } from "../../sites";
import { SensorLimitError, type Ingest, type ParsedBatch } from "../ingest";
import type { MqttCommands } from "./commands";
import type { DiscoveryRecorder } from "./discovery";
import { decodeGeneric } from "./generic";
import { digestOf, type Delivery, type DeliveryJournal } from "./journal";
import { recordPresence } from "./presence";
import { decodePreset, type Decoded } from "./presets";
import { routeOf } from "./routing";

/**
 * One MQTT message, from whichever broker, to what it means: readings made durable through the
 * same ingest pipeline as POST /v1/ingest (calibration, new sensors, the write-ahead log, then
 * ClickHouse and the automation), a presence change, a command's outcome, or a "discovered" topic
 * when nobody bound it. Where it belongs comes from the bindings in the site directory. `handle`
 * resolves only once the message's readings are in the write-ahead log, synced to disk: the broker
 * gets its PUBACK after that.
 *
 * Batch ids make a message delivered twice land once:
 * - a payload with its own time (Zigbee2MQTT last_seen, Tasmota Time with its offset, a generic
 *   timePath) is stored at that time under a batch id made of its topic and payload: a
 *   redelivery, or the same message published twice, is a retry of the same batch, which ingest
 *   recognises (its batch ledger, and ClickHouse beyond it) as a duplicate;
 * - any other QoS 1 message is journaled (session, packet id → batch id, time) before it goes to
 *   ingest; a redelivery (DUP set, same packet id and content) is stored under the journaled batch
 *   id and time, so ingest recognises it;
 * - a QoS 0 message is never delivered twice by the broker: a fresh batch id.
 */

export interface MqttMessage {
  siteId: string;
  topic: string;
  payload: Buffer;
  receivedAt: number;
  /** QoS 1 and 2: the session and packet id it came with, and whether the broker marked it a redelivery. */
  delivery: Delivery | undefined;
  /**
   * The broker sent it from its retained store (on subscribing), not as it was published: its
   * readings are of an unknown age and were most likely stored when they were new.
   */
  retained?: boolean;
}

export type Outcome = "stored" | "duplicate" | "discovered" | "presence" | "reported" | "ignored";

/** Failures that a redelivery cannot fix: the message is acknowledged (and logged) instead of blocking its session. */
export function isPermanent(error: unknown): boolean {
  return error instanceof SensorLimitError;
}

/** Messages over this size are not sensor data. */
const MAX_PAYLOAD_BYTES = 64 * 1024;

export interface HandlerDeps {
  db: () => Db;
  directory: SiteDirectory;
  ingest: Ingest;
  journal: DeliveryJournal;
  discovery: DiscoveryRecorder;
  commands: MqttCommands;
  log: Logger;
  limits: { maxClockSkewMs: number; maxAgeMs: number };
}

export class MessageHandler {
  constructor(private readonly deps: HandlerDeps) {}

  async handle(message: MqttMessage): Promise<Outcome> {
    const { siteId, topic, receivedAt } = message;
    if (message.payload.byteLength > MAX_PAYLOAD_BYTES) return "ignored";
    const site = await this.deps.directory.site(siteId);
    const route = site ? routeOf(site, topic) : undefined;
    if (!site || !route) return "ignored";
    const payload = message.payload.toString("utf8");
    if (!route.bound) {
      this.deps.discovery.record(siteId, route.recognised, topic, payload, receivedAt);
      return "discovered";
    }
    if (route.revoked) return "ignored";
    const { binding } = route;
    const decoded: Decoded = route.recognised ? decodePreset(route.recognised, topic, payload) : decodeGeneric(binding.mapping, topic, payload);
    const deviceId = binding.deviceId;
    const { activity } = this.deps.ingest;

    if (decoded.presence) {
      await recordPresence(this.deps.db(), { siteId, deviceId, state: decoded.presence, at: receivedAt });
      if (decoded.presence === "online") activity.record(deviceId, receivedAt, undefined);
      return "presence";
    }
    if (decoded.power.length > 0) await this.deps.commands.report(deviceId, binding, decoded.power);
    if (decoded.readings.length === 0) {
      // A heartbeat (Tasmota STATE) or a state echo still says the device is there.
      if (route.recognised?.kind === "state" || decoded.power.length > 0) activity.record(deviceId, receivedAt, undefined);
      return decoded.power.length > 0 ? "reported" : "ignored";
    }

    // A retained value (ESPHome retains its states) comes again on every subscription: only one
    // that says when it was measured can be stored, and is then recognised as the same reading.
    if (message.retained && decoded.ts === undefined) return "ignored";
    const batch = await this.#batchOf(message, decoded);
    const device = { id: deviceId, siteId, name: site.devices.get(deviceId)?.name ?? "" };
    const receipt = await this.deps.ingest.pipeline.ingest(device, batch, receivedAt);
    return receipt.accepted > 0 ? "stored" : "duplicate";
  }

  /** The batch a message's readings are stored as (see the comment at the top for its id and time). */
  async #batchOf(message: MqttMessage, decoded: Decoded): Promise<ParsedBatch> {
    const { receivedAt, delivery } = message;
    const build = (batchId: string, ts: number, attempt: number | undefined): ParsedBatch => ({
      batchId,
      attempt,
      readings: decoded.readings.map((r) => ({ sensor: r.sensor, value: r.value, metric: r.metric, ts })),
      // Every reading has a time (its own, at most the clock skew ahead of its first arrival, or
      // the first arrival's, kept in the journal), so ingest's ledger can bound when a first copy
      // could have been stored, as for a device's fully timestamped batch.
      timestamped: true,
    });
    const own = decoded.ts;
    const { maxClockSkewMs, maxAgeMs } = this.deps.limits;
    if (own !== undefined && own <= receivedAt + maxClockSkewMs && own >= Math.max(Date.UTC(2000, 0, 1), receivedAt - maxAgeMs)) {
      return build(`mqtt:${digestOf(message.topic, message.payload).slice(0, 40)}`, own, undefined);
    }
    if (!delivery) return build(`mqtt:${randomUUID()}`, receivedAt, 1);
    const digest = digestOf(message.topic, message.payload);
    if (delivery.dup) {
      const before = await this.deps.journal.find(delivery, digest);
      // Journaled: its first delivery may have been made durable; ingest recognises the batch.
      if (before) return build(before.batchId, before.ts, 2);
    }
    const entry = { batchId: `mqtt:${randomUUID()}`, ts: receivedAt };
    await this.deps.journal.write(delivery, digest, entry, receivedAt);
    return build(entry.batchId, entry.ts, 1);
  }
}
