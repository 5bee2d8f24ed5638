import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { deviceCommands, ingestReceipt, type CommandReport, type DeviceCommand, type IngestBody } from "../shared/schemas/device";

export type { DeviceCommand } from "../shared/schemas/device";

/**
 * The device SDK for Bun/Node devices (a Raspberry Pi next to the plants). It buffers readings,
 * sends them in batches, and makes sure every reading the server acknowledged is stored exactly
 * once: a batch keeps its batchId until the server answers 2xx, so retries after timeouts, 5xx,
 * 429 or a server restart are recognised as duplicates instead of stored twice.
 *
 *   const device = new DeviceClient({ url: "http://verdant.local:3000", token: process.env.VERDANT_TOKEN! });
 *   device.start();                       // flush every 5 s (and whenever a batch fills up)
 *   device.record("soil1", 41.7);         // ts defaults to now
 *   await device.stop();                  // flush what is left
 *
 * Commands to the device's actuators: `runCommands(handler)` long-polls, and for each command
 * acknowledges it first (after which the server never delivers it again), runs the handler once,
 * and reports succeeded or failed, retrying the report until the server has it. Commands are
 * remembered by id (in `commandStateFile` too, when given), so a re-delivery or a lost answer
 * never runs a command twice, even across a restart of the device program.
 */

export interface Reading {
  sensor: string;
  value: number;
  /** Epoch milliseconds. */
  ts: number;
  metric?: string;
}

/** What a command handler may return: a detail for the report (e.g. "ran 10.0 s"). Throwing reports failed. */
export type CommandHandler = (command: DeviceCommand) => Promise<string | void> | string | void;

type ReportStatus = CommandReport["status"];

/** A command this device took on: running, or finished with a report the server may still need. */
interface HandledCommand {
  state: "running" | "succeeded" | "failed";
  detail?: string;
  /** Whether the server has the final report. */
  reported: boolean;
}

export interface DeviceClientOptions {
  /** Base URL of the Verdant server. */
  url: string;
  /** The device token (`vdt_…`) from provisioning. */
  token: string;
  /** Readings per request (default 1,000; the server's limit is 10,000 by default). */
  batchSize?: number;
  /** How often `start()` flushes (default 5,000 ms). */
  flushIntervalMs?: number;
  /** Most readings kept while the server is unreachable; beyond it the oldest are dropped (default 100,000). */
  maxBufferedReadings?: number;
  /** Keep the buffer in this file too, so readings survive a restart of the device program. */
  bufferFile?: string;
  /** Compress request bodies (default true). */
  gzip?: boolean;
  /** Backoff between retries: full jitter over an exponentially growing ceiling. */
  retry?: { initialDelayMs?: number; maxDelayMs?: number };
  /** Told whenever readings had to be dropped, with how many and why. */
  onDrop?: (count: number, reason: string) => void;
  /** Told about failed attempts (they are retried). */
  onError?: (error: Error) => void;
  /** Keep the ids of commands taken on (and unsent reports) in this file, so a restart never runs one twice. */
  commandStateFile?: string;
  /** How many handled command ids to remember (default 1,000; the oldest are forgotten first). */
  rememberCommands?: number;
  fetch?: typeof fetch;
  random?: () => number;
}

export interface DeviceClientStats {
  recorded: number;
  /** Readings the server acknowledged as newly stored. */
  accepted: number;
  /** Readings the server already had (a retry of an acknowledged batch). */
  duplicates: number;
  dropped: number;
  retries: number;
  buffered: number;
}

interface Batch {
  batchId: string;
  readings: Reading[];
  /** Sends so far. The server skips its duplicate check for attempt 1, so resends must count. */
  attempts: number;
}

interface Persisted {
  inFlight: Batch | null;
  buffer: Reading[];
}

/** Thrown by flush() for answers no retry can fix: a bad or revoked token. */
export class DeviceAuthError extends Error {
  override name = "DeviceAuthError";
  constructor(
    message: string,
    public readonly status: number,
  ) {
    super(message);
  }
}

export class DeviceClient {
  readonly stats: DeviceClientStats = { recorded: 0, accepted: 0, duplicates: 0, dropped: 0, retries: 0, buffered: 0 };
  #buffer: Reading[] = [];
  /** The batch being sent: it keeps its id (and its readings) until the server acknowledges it. */
  #inFlight: Batch | null = null;
  #batchSize: number;
  #timer: ReturnType<typeof setInterval> | undefined;
  #flushing: Promise<void> | undefined;
  #stopped = false;
  #wake: (() => void) | undefined;
  #lastSave = 0;
  /** Commands taken on, by id, oldest first. */
  #handled = new Map<string, HandledCommand>();
  readonly #base: string;
  readonly #fetch: typeof fetch;
  readonly #random: () => number;

  constructor(private readonly options: DeviceClientOptions) {
    this.#base = options.url.replace(/\/+$/, "");
    this.#fetch = options.fetch ?? fetch;
    this.#random = options.random ?? Math.random;
    this.#batchSize = options.batchSize ?? 1000;
    if (options.bufferFile && existsSync(options.bufferFile)) {
      const saved = JSON.parse(readFileSync(options.bufferFile, "utf8")) as Persisted;
      // A batch found in flight may have been sent before the restart: never call it a first attempt.
      this.#inFlight = saved.inFlight ? { ...saved.inFlight, attempts: Math.max(1, saved.inFlight.attempts ?? 1) } : null;
      this.#buffer = saved.buffer;
    }
    this.stats.buffered = this.#pendingCount();
    if (options.commandStateFile && existsSync(options.commandStateFile)) {
      const saved = JSON.parse(readFileSync(options.commandStateFile, "utf8")) as [string, HandledCommand][];
      this.#handled = new Map(saved);
    }
  }

  /** Buffers one reading; a full batch is sent at once when started. */
  record(sensor: string, value: number, ts: number = Date.now(), metric?: string): void {
    this.#buffer.push(metric ? { sensor, value, ts, metric } : { sensor, value, ts });
    this.stats.recorded += 1;
    const max = this.options.maxBufferedReadings ?? 100_000;
    if (this.#pendingCount() > max) {
      const excess = this.#pendingCount() - max;
      this.#buffer.splice(0, excess);
      this.stats.dropped += excess;
      this.options.onDrop?.(excess, `buffer full (${max} readings): dropped the oldest`);
    }
    this.stats.buffered = this.#pendingCount();
    // With a buffer file, at most a second of recorded readings is lost if the program dies.
    if (this.options.bufferFile && Date.now() - this.#lastSave > 1000) this.#save();
    if (this.#timer && this.#buffer.length >= this.#batchSize) void this.flush().catch(() => {});
  }

  /** Flushes on an interval until stop(). */
  start(): void {
    this.#stopped = false;
    this.#timer ??= setInterval(() => void this.flush().catch(() => {}), this.options.flushIntervalMs ?? 5000);
  }

  /** Stops the interval and sends what is buffered (retrying until acknowledged, or `timeoutMs`). */
  async stop(timeoutMs = 30_000): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    const done = this.flush();
    const timer = new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref?.());
    await Promise.race([done.catch(() => {}), timer]);
    this.#stopped = true;
    this.#wake?.();
    this.#save();
  }

  /** Sends everything buffered, retrying with backoff, and resolves when all is acknowledged. */
  flush(): Promise<void> {
    this.#flushing ??= this.#flushLoop().finally(() => {
      this.#flushing = undefined;
    });
    return this.#flushing;
  }

  async #flushLoop(): Promise<void> {
    let attempt = 0;
    while (!this.#stopped) {
      if (!this.#inFlight) {
        if (this.#buffer.length === 0) break;
        this.#inFlight = { batchId: newBatchId(), readings: this.#buffer.splice(0, this.#batchSize), attempts: 0 };
        this.#save();
      }
      const batch = this.#inFlight;
      let retryAfterMs = 0;
      try {
        const response = await this.#send(batch);
        if (response.ok) {
          const receipt = ingestReceipt.parse(await response.json());
          this.stats.accepted += receipt.accepted;
          this.stats.duplicates += receipt.duplicates;
          this.#inFlight = null;
          this.stats.buffered = this.#pendingCount();
          this.#save();
          attempt = 0;
          continue;
        }
        const body = await response.text();
        if (response.status === 401 || response.status === 403) {
          throw new DeviceAuthError(`server refused the device token (${response.status}): ${body}`, response.status);
        }
        if (response.status === 413 && batch.readings.length > 1) {
          // Never acknowledged, so it may be split under new ids.
          this.#batchSize = Math.max(1, Math.floor(batch.readings.length / 2));
          this.#buffer.unshift(...batch.readings);
          this.#inFlight = null;
          continue;
        }
        if (response.status >= 400 && response.status < 500 && response.status !== 429 && response.status !== 408) {
          // The server will never take this batch (invalid readings): keep the rest flowing.
          this.stats.dropped += batch.readings.length;
          this.options.onDrop?.(batch.readings.length, `server refused batch ${batch.batchId} (${response.status}): ${body}`);
          this.#inFlight = null;
          this.stats.buffered = this.#pendingCount();
          this.#save();
          continue;
        }
        retryAfterMs = Number(response.headers.get("retry-after") ?? "0") * 1000 || 0;
        this.options.onError?.(new Error(`ingest answered ${response.status}: ${body}`));
      } catch (error) {
        if (error instanceof DeviceAuthError) throw error;
        this.options.onError?.(error instanceof Error ? error : new Error(String(error)));
      }
      this.stats.retries += 1;
      await this.#sleep(Math.max(retryAfterMs, this.#backoff(attempt++)));
    }
  }

  async #send(batch: Batch): Promise<Response> {
    batch.attempts += 1;
    const body: IngestBody = { batchId: batch.batchId, attempt: batch.attempts, readings: batch.readings };
    const json = JSON.stringify(body);
    const gzip = this.options.gzip ?? true;
    return this.#fetch(`${this.#base}/v1/ingest`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${this.options.token}`,
        "content-type": "application/json",
        ...(gzip ? { "content-encoding": "gzip" } : {}),
      },
      body: (gzip ? gzipSync(json) : json) as BodyInit,
      signal: AbortSignal.timeout(30_000),
    });
  }

  /** Commands queued for this device's actuators. `waitSeconds` long-polls (up to 30 s). */
  async pollCommands(waitSeconds = 0, signal?: AbortSignal): Promise<DeviceCommand[]> {
    const wait = Math.max(0, Math.min(30, Math.floor(waitSeconds)));
    const timeout = AbortSignal.timeout((wait + 15) * 1000);
    const response = await this.#fetch(`${this.#base}/v1/commands${wait > 0 ? `?wait=${wait}` : ""}`, {
      headers: { authorization: `Bearer ${this.options.token}` },
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    if (response.status === 401 || response.status === 403) throw new DeviceAuthError(await response.text(), response.status);
    if (!response.ok) throw new Error(`GET /v1/commands answered ${response.status}: ${await response.text()}`);
    // Checked against the wire contract: a command that does not parse is an error, not a guess.
    return deviceCommands.parse(await response.json()).commands;
  }

  /** Reports a command's progress: acknowledged when received, then succeeded or failed. Throws unless 2xx. */
  async ack(commandId: string, status: ReportStatus, detail?: string): Promise<unknown> {
    const response = await this.#report(commandId, status, detail);
    if (!response.ok) throw new Error(`ack answered ${response.status}: ${await response.text()}`);
    return response.json();
  }

  #report(commandId: string, status: ReportStatus, detail?: string): Promise<Response> {
    return this.#fetch(`${this.#base}/v1/commands/${encodeURIComponent(commandId)}/ack`, {
      method: "POST",
      headers: { authorization: `Bearer ${this.options.token}`, "content-type": "application/json" },
      body: JSON.stringify(detail === undefined ? { status } : { status, detail }),
      signal: AbortSignal.timeout(30_000),
    });
  }

  /**
   * Long-polls for commands and runs each once with `handler`, until `signal` aborts. Network
   * errors and 5xx are retried with backoff; a bad token throws DeviceAuthError.
   */
  async runCommands(handler: CommandHandler, options: { signal?: AbortSignal; waitSeconds?: number } = {}): Promise<void> {
    const signal = options.signal ?? new AbortController().signal;
    let attempt = 0;
    while (!signal.aborted) {
      try {
        await this.#sendUnreportedResults();
        const commands = await this.pollCommands(options.waitSeconds ?? 30, signal);
        for (const command of commands) {
          if (signal.aborted) break;
          await this.handleCommand(command, handler);
        }
        attempt = 0;
      } catch (error) {
        if (error instanceof DeviceAuthError) throw error;
        if (signal.aborted) break;
        this.options.onError?.(error instanceof Error ? error : new Error(String(error)));
        await new Promise((resolve) => {
          const timer = setTimeout(resolve, this.#backoff(attempt++));
          signal.addEventListener("abort", () => (clearTimeout(timer), resolve(undefined)), { once: true });
        });
      }
    }
  }

  /**
   * Takes one command on: acknowledge, run, report. A command already taken on is not run again;
   * its report is re-sent if the server may not have it. Returns what happened to it.
   */
  async handleCommand(command: DeviceCommand, handler: CommandHandler): Promise<"ran" | "already handled" | "refused"> {
    const known = this.#handled.get(command.id);
    if (known) {
      if (known.state !== "running" && !known.reported) await this.#sendResult(command.id, known);
      return "already handled";
    }
    // Acknowledged first: from then on the server never delivers it again, even after a crash.
    // Retried on this command (not left to a re-delivery): an acknowledgement whose answer was
    // lost is not delivered again, and the retry's "changed: false" says it is still ours to run.
    const ack = await this.#reportRetrying(command.id, "acknowledged");
    if (ack.status === 409 || ack.status === 404) {
      // Expired, cancelled or finished meanwhile (or not ours): nothing to run.
      await ack.body?.cancel();
      return "refused";
    }
    if (ack.status === 401 || ack.status === 403) throw new DeviceAuthError(await ack.text(), ack.status);
    if (!ack.ok) throw new Error(`acknowledging ${command.id} answered ${ack.status}: ${await ack.text()}`);
    await ack.body?.cancel();
    this.#remember(command.id, { state: "running", reported: false });
    let result: HandledCommand;
    try {
      const detail = await handler(command);
      result = { state: "succeeded", reported: false, ...(typeof detail === "string" ? { detail } : {}) };
    } catch (error) {
      result = { state: "failed", reported: false, detail: error instanceof Error ? error.message : String(error) };
    }
    this.#remember(command.id, result);
    await this.#sendResult(command.id, result).catch((error) => this.options.onError?.(error instanceof Error ? error : new Error(String(error))));
    return "ran";
  }

  async #reportRetrying(id: string, status: ReportStatus, tries = 5): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      try {
        const response = await this.#report(id, status);
        if (response.status < 500 && response.status !== 429) return response;
        if (attempt + 1 >= tries) return response;
        await response.body?.cancel();
      } catch (error) {
        if (attempt + 1 >= tries) throw error;
        this.options.onError?.(error instanceof Error ? error : new Error(String(error)));
      }
      this.stats.retries += 1;
      await new Promise((resolve) => setTimeout(resolve, this.#backoff(attempt)));
    }
  }

  /** Final reports the server did not confirm (server down, or the device restarted). */
  async #sendUnreportedResults(): Promise<void> {
    for (const [id, handled] of this.#handled) {
      if (handled.state !== "running" && !handled.reported) await this.#sendResult(id, handled);
    }
  }

  async #sendResult(id: string, handled: HandledCommand): Promise<void> {
    const response = await this.#report(id, handled.state as "succeeded" | "failed", handled.detail);
    await response.body?.cancel();
    // 2xx: recorded (or already was: a retry changes nothing). 409/404: the server will never take it.
    if (response.ok || response.status === 409 || response.status === 404) {
      this.#remember(id, { ...handled, reported: true });
      return;
    }
    throw new Error(`reporting ${id} answered ${response.status}`);
  }

  #remember(id: string, handled: HandledCommand): void {
    this.#handled.delete(id);
    this.#handled.set(id, handled);
    const limit = this.options.rememberCommands ?? 1000;
    for (const [oldId, old] of this.#handled) {
      if (this.#handled.size <= limit) break;
      // Never forget a command whose report the server still needs.
      if (old.state !== "running" && !old.reported) continue;
      this.#handled.delete(oldId);
    }
    const file = this.options.commandStateFile;
    if (file) {
      writeFileSync(`${file}.tmp`, JSON.stringify([...this.#handled]));
      renameSync(`${file}.tmp`, file);
    }
  }

  #pendingCount(): number {
    return this.#buffer.length + (this.#inFlight?.readings.length ?? 0);
  }

  #backoff(attempt: number): number {
    const initial = this.options.retry?.initialDelayMs ?? 500;
    const max = this.options.retry?.maxDelayMs ?? 60_000;
    return this.#random() * Math.min(max, initial * 2 ** attempt);
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** Atomic snapshot (write, then rename) so a crash mid-write never corrupts the file. */
  #save(): void {
    const file = this.options.bufferFile;
    if (!file) return;
    this.#lastSave = Date.now();
    const state: Persisted = { inFlight: this.#inFlight, buffer: this.#buffer };
    writeFileSync(`${file}.tmp`, JSON.stringify(state));
    renameSync(`${file}.tmp`, file);
  }
}

function newBatchId(): string {
  return `${Date.now().toString(36)}-${crypto.randomUUID()}`;
}
