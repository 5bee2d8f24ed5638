import { and, eq, inArray } from "drizzle-orm";
import type { Db } from "../../../db/client";
import { commands, mqttBindings } from "../../../db/schema";
import { acknowledgeCommand, claimPendingCommands, openCommandsOf, type Command } from "../../commands";
import type { Actuator } from "../../devices";
import { AppError, type EventHub, type Logger } from "../../platform";
import type { MqttBindingFacts, SiteDirectory } from "../../sites";
import { bindingsOfDevice } from "./routing";

/**
 * Commands out to MQTT devices, and their outcome back from what the devices report.
 *
 * Out: a command queued for a device bound through Tasmota or Zigbee2MQTT is claimed (pending →
 * sent) and published. Every "on" with a duration carries it to the device itself (Tasmota
 * PulseTime, Zigbee2MQTT on_time), so a pump stops on its own after the command's run, within the
 * safety envelope's maximum, even if Verdant dies right after sending.
 *
 * Back: the device's reported output state moves the oldest open command of that output through
 * the command state machine: a timed "on" is acknowledged by ON and succeeds on the OFF that ends
 * it; a plain "on" succeeds on ON, an "off" on OFF.
 */

export interface Publisher {
  /** Whether this broker carries the site's devices. */
  serves(siteId: string): boolean;
  publish(siteId: string, topic: string, payload: string): Promise<void>;
}

/**
 * Tasmota's PulseTime value for a run of `seconds`: 1–111 are tenths of a second (0.1–11.1 s),
 * 112–64900 are whole seconds plus 100 (12–64800 s). Rounded down, so the device never runs
 * longer than asked; runs between 11.1 and 12 s become 11.1 s, longer ones stop at 64800 s.
 */
export function pulseTimeOf(seconds: number): number {
  if (!(seconds > 0)) return 0;
  const tenths = Math.floor(seconds * 10 + 1e-9);
  if (tenths <= 111) return Math.max(1, tenths);
  const whole = Math.floor(seconds + 1e-9);
  if (whole < 12) return 111;
  return Math.min(whole + 100, 64_900);
}

/** Tasmota relay number of an actuator: the digits its key ends with ("pump2", "POWER2" → 2), else 1. */
export function relayOf(actuatorKey: string): number {
  const digits = /(\d+)$/.exec(actuatorKey)?.[1];
  const n = digits ? Number(digits) : 1;
  return n >= 1 && n <= 32 ? n : 1;
}

/** The output name reports use for this actuator: Tasmota "POWER<n>", Zigbee2MQTT "state" or "state_<endpoint>". */
export function outputOf(binding: MqttBindingFacts, actuator: Pick<Actuator, "key">): string {
  if (binding.preset === "tasmota") return `POWER${relayOf(actuator.key)}`;
  return /^state(_[A-Za-z0-9]+)?$/.test(actuator.key) ? actuator.key : "state";
}

/** How long the command keeps its output on, if it is a timed "on". */
const timedRun = (command: Command) => (command.action === "pump" || command.state === "on" ? command.durationSeconds : null);

/** The message that carries a command to a device. */
export function outgoingFor(binding: MqttBindingFacts, command: Command, actuator: Actuator): { topic: string; payload: string } {
  const on = command.action === "pump" || command.state === "on";
  const seconds = timedRun(command);
  if (binding.preset === "tasmota") {
    const n = relayOf(actuator.key);
    if (!on) return { topic: `cmnd/${binding.base}/Power${n}`, payload: "OFF" };
    // One Backlog, so the pulse time and the switching arrive together or not at all; PulseTime 0
    // clears a pulse left from an earlier timed command.
    return { topic: `cmnd/${binding.base}/Backlog`, payload: `PulseTime${n} ${seconds ? pulseTimeOf(seconds) : 0};Power${n} ON` };
  }
  const output = outputOf(binding, actuator);
  const body: Record<string, unknown> = { [output]: on ? "ON" : "OFF" };
  // Zigbee on-with-timed-off counts tenths of a second up to 6553.5 s.
  if (on && seconds) body.on_time = Math.min(Math.floor(seconds * 10 + 1e-9) / 10, 6553.5);
  return { topic: `${binding.prefix}/${binding.base}/set`, payload: JSON.stringify(body) };
}

const COMMANDABLE = new Set(["tasmota", "zigbee2mqtt"]);

export class MqttCommands {
  #chains = new Map<string, Promise<void>>();
  #off: (() => void) | undefined;

  constructor(
    private readonly deps: {
      db: () => Db;
      events: EventHub;
      directory: SiteDirectory;
      publishers: Publisher[];
      log: Logger;
      now: () => Date;
    },
  ) {}

  start(): void {
    this.#off ??= this.deps.events.on("command.changed", (change) => {
      if (change.status === "pending") this.deliver(change.siteId, change.deviceId);
    });
  }

  /** Waits for deliveries in progress. */
  async stop(): Promise<void> {
    this.#off?.();
    this.#off = undefined;
    while (this.#chains.size > 0) await Promise.all([...this.#chains.values()]);
  }

  /** Delivers the device's pending commands, one device at a time, in order. */
  deliver(siteId: string, deviceId: string): Promise<void> {
    const previous = this.#chains.get(deviceId) ?? Promise.resolve();
    const next = previous
      .then(() => this.#deliver(siteId, deviceId))
      .catch((error) => this.deps.log.error({ err: error, deviceId }, "mqtt: delivering commands failed"))
      .finally(() => {
        if (this.#chains.get(deviceId) === next) this.#chains.delete(deviceId);
      });
    this.#chains.set(deviceId, next);
    return next;
  }

  async #deliver(siteId: string, deviceId: string): Promise<void> {
    const site = await this.deps.directory.site(siteId);
    const binding = site && bindingsOfDevice(site, deviceId).find((b) => COMMANDABLE.has(b.preset));
    const publishers = this.deps.publishers.filter((p) => p.serves(siteId));
    if (!binding || publishers.length === 0) return;
    for (const { command, actuator } of await claimPendingCommands(this.deps.db(), deviceId, this.deps.now())) {
      const message = outgoingFor(binding, command, actuator);
      for (const publisher of publishers) {
        await publisher.publish(siteId, message.topic, message.payload).catch((error) => {
          // The command stays "sent"; it expires if the device never reports on it.
          this.deps.log.warn({ err: error instanceof Error ? error.message : String(error), commandId: command.id, topic: message.topic }, "mqtt: publishing a command failed");
        });
      }
      this.deps.log.info({ commandId: command.id, topic: message.topic, payload: message.payload }, "mqtt: command sent");
    }
  }

  /**
   * Commands queued while no broker was connected, or for a device bound just now: delivered once
   * it is. A Postgres query, not the site directory: pending commands are not site facts.
   */
  async catchUp(siteIds: string[] | "all"): Promise<void> {
    if (siteIds !== "all" && siteIds.length === 0) return;
    const rows = await this.deps
      .db()
      .selectDistinct({ siteId: commands.siteId, deviceId: commands.deviceId })
      .from(commands)
      .innerJoin(mqttBindings, eq(mqttBindings.deviceId, commands.deviceId))
      .where(and(eq(commands.status, "pending"), siteIds === "all" ? undefined : inArray(commands.siteId, siteIds)));
    await Promise.all(rows.map((r) => this.deliver(r.siteId, r.deviceId)));
  }

  /** A device reported its outputs: each moves the oldest open command of that output along. */
  async report(deviceId: string, binding: MqttBindingFacts, power: { output: string; on: boolean }[]): Promise<void> {
    if (power.length === 0 || !COMMANDABLE.has(binding.preset)) return;
    const open = await openCommandsOf(this.deps.db(), deviceId);
    for (const { output, on } of power) {
      const match = open.find((c) => outputOf(binding, c.actuator) === output && c.command.status !== "succeeded");
      if (!match) continue;
      const { command } = match;
      const timed = timedRun(command) !== null;
      const wantsOn = command.action === "pump" || command.state === "on";
      let status: "acknowledged" | "succeeded" | undefined;
      if (timed) status = on ? (command.status === "sent" ? "acknowledged" : undefined) : command.status === "acknowledged" ? "succeeded" : undefined;
      else status = on === wantsOn ? "succeeded" : undefined;
      if (!status) continue;
      try {
        await acknowledgeCommand(this.deps.db(), deviceId, command.id, { status, detail: `device reported ${output} ${on ? "ON" : "OFF"}` }, this.deps.now());
        command.status = status;
      } catch (error) {
        // Expired or cancelled meanwhile: the report changes nothing.
        if (!(error instanceof AppError && error.code === "CONFLICT")) throw error;
      }
    }
  }
}
