import { and, asc, eq, inArray, isNull, lt, lte, or, sql } from "drizzle-orm";
import type { Db } from "../../../db/client";
import { notificationDeliveries, sites, users, webhookEndpoints } from "../../../db/schema";
import { type DispatcherConfig, type Logger, messageOf } from "../../platform";
import { enqueueDueDigests } from "./digest";
import { heldUntil, recipientQuietHours, SIGNATURE_HEADER, signatureHeader } from "../../notifications";

/**
 * Sends the outbox. Each tick claims due deliveries atomically (`FOR UPDATE SKIP LOCKED`, then a
 * lease in `lockedUntil`), so several servers share the work and none sends a row another is
 * sending; a server that dies mid-send leaves a lease that runs out and the row is taken over.
 * A delivery is therefore at least once: receivers dedup by the `X-Verdant-Delivery` id.
 *
 * A non-2xx answer, a timeout or a network error is retried after an exponential delay with
 * jitter (half fixed, half random, so retries of many deliveries spread out) until
 * `maxAttempts`; then the delivery is marked failed, with the last status and error kept.
 * Deliveries to one endpoint are sent in queueing order; a retry may overtake, so receivers that
 * care about order compare the body's `createdAt`.
 */


export type { DispatcherConfig };

export interface DispatcherDeps {
  db: () => Db;
  now: () => Date;
  log: Logger;
  config: DispatcherConfig;
  fetch?: typeof fetch;
  random?: () => number;
}

export interface TickResult {
  delivered: number;
  retrying: number;
  failed: number;
  /** Due, but the endpoint's quiet hours began meanwhile (a retry, or settings changed): held again. */
  held: number;
  digests: number;
}

const BATCH = 50;
const DIGEST_CHECK_MS = 60_000;

/** Delay before the attempt after `attempts` failed ones: [d/2, d) with d = base·2^(attempts−1), capped. */
export function backoffMs(attempts: number, config: Pick<DispatcherConfig, "backoffBaseMs" | "backoffMaxMs">, random: () => number): number {
  const ceiling = Math.min(config.backoffMaxMs, config.backoffBaseMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

export class NotificationDispatcher {
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running: Promise<unknown> | undefined;
  #stopped = true;
  #lastDigestCheck = -Infinity;
  readonly #fetch: typeof fetch;
  readonly #random: () => number;

  constructor(private readonly deps: DispatcherDeps) {
    this.#fetch = deps.fetch ?? fetch;
    this.#random = deps.random ?? Math.random;
  }

  /** Ticks every `intervalMs` until stop(). */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    const loop = () => {
      if (this.#stopped) return;
      this.#running = this.tick(this.deps.now())
        .catch((error) => this.deps.log.warn({ err: messageOf(error) }, "notification dispatch failed"))
        .finally(() => {
          this.#running = undefined;
          if (!this.#stopped) this.#timer = setTimeout(loop, this.deps.config.intervalMs);
        });
    };
    loop();
  }

  /** Stops ticking and waits for the tick in progress (its sends are bounded by timeoutMs). */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  /** Queues due digests, then sends every due delivery once. */
  async tick(now: Date): Promise<TickResult> {
    const db = this.deps.db();
    let digests = 0;
    if (now.getTime() - this.#lastDigestCheck >= DIGEST_CHECK_MS || now.getTime() < this.#lastDigestCheck) {
      this.#lastDigestCheck = now.getTime();
      digests = await enqueueDueDigests(db, now);
    }
    const result: TickResult = { delivered: 0, retrying: 0, failed: 0, held: 0, digests };
    for (;;) {
      const claimed = await this.#claim(db, now);
      if (claimed.length === 0) return result;
      // Endpoints in parallel; each endpoint's deliveries one after another, in queueing order.
      const byEndpoint = new Map<string, typeof claimed>();
      for (const delivery of claimed.sort((a, b) => a.seq - b.seq)) {
        byEndpoint.set(delivery.endpointId, [...(byEndpoint.get(delivery.endpointId) ?? []), delivery]);
      }
      await Promise.all(
        [...byEndpoint.values()].map(async (deliveries) => {
          for (const delivery of deliveries) result[await this.#deliver(db, delivery, now)] += 1;
        }),
      );
      if (claimed.length < BATCH) return result;
    }
  }

  async #claim(db: Db, now: Date) {
    const leaseUntil = new Date(now.getTime() + this.deps.config.timeoutMs * 2 + 5_000);
    const due = db
      .select({ id: notificationDeliveries.id })
      .from(notificationDeliveries)
      .where(
        and(
          eq(notificationDeliveries.status, "pending"),
          lte(notificationDeliveries.nextAttemptAt, now),
          or(isNull(notificationDeliveries.lockedUntil), lt(notificationDeliveries.lockedUntil, now)),
        ),
      )
      .orderBy(asc(notificationDeliveries.nextAttemptAt), asc(notificationDeliveries.seq))
      .limit(BATCH)
      .for("update", { skipLocked: true });
    return db
      .update(notificationDeliveries)
      .set({ lockedUntil: leaseUntil, attempts: sql`${notificationDeliveries.attempts} + 1`, lastAttemptAt: now })
      .where(inArray(notificationDeliveries.id, due))
      .returning();
  }

  async #deliver(db: Db, delivery: typeof notificationDeliveries.$inferSelect, now: Date): Promise<"delivered" | "retrying" | "failed" | "held"> {
    const [found] = await db
      .select({ endpoint: webhookEndpoints, timezone: sites.timezone, recipient: recipientQuietHours })
      .from(webhookEndpoints)
      .innerJoin(sites, eq(sites.id, webhookEndpoints.siteId))
      .leftJoin(users, eq(users.id, webhookEndpoints.recipientUserId))
      .where(eq(webhookEndpoints.id, delivery.endpointId));
    const endpoint = found?.endpoint;
    const finish = (set: Partial<typeof notificationDeliveries.$inferInsert>) =>
      db.update(notificationDeliveries).set({ lockedUntil: null, ...set }).where(eq(notificationDeliveries.id, delivery.id));
    if (!endpoint || !endpoint.enabled) {
      await finish({ status: "failed", lastError: "endpoint disabled before delivery" });
      return "failed";
    }
    // Quiet hours are checked again now: a retry may fall into them, or they were set after queueing.
    const quietApplies = delivery.event === "alert.raised" || delivery.event === "alert.resolved" || delivery.event === "notification";
    const held = quietApplies ? heldUntil(now, delivery.severity, endpoint, found!.timezone, found!.recipient) : null;
    if (held) {
      // Not an attempt: give back the one the claim counted.
      await finish({ nextAttemptAt: held, heldUntil: held, attempts: delivery.attempts - 1 });
      return "held";
    }
    const body = JSON.stringify({
      id: delivery.id,
      event: delivery.event,
      severity: delivery.severity,
      siteId: delivery.siteId,
      createdAt: delivery.createdAt.toISOString(),
      data: delivery.payload,
    });
    let status: number | null = null;
    let error: string | null = null;
    try {
      const response = await this.#fetch(endpoint.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": "Verdant-Webhooks/1",
          "x-verdant-event": delivery.event,
          "x-verdant-delivery": delivery.id,
          [SIGNATURE_HEADER]: signatureHeader(endpoint.secret, body, now),
        },
        body,
        redirect: "manual",
        signal: AbortSignal.timeout(this.deps.config.timeoutMs),
      });
      status = response.status;
      const text = await response.text().catch(() => "");
      if (response.ok) {
        await finish({ status: "delivered", deliveredAt: now, lastStatus: status, lastError: null });
        return "delivered";
      }
      error = `HTTP ${status}${text ? `: ${text.slice(0, 300)}` : ""}`;
    } catch (cause) {
      error = cause instanceof Error && cause.name === "TimeoutError" ? `no answer within ${this.deps.config.timeoutMs} ms` : messageOf(cause);
    }
    if (delivery.attempts >= this.deps.config.maxAttempts) {
      await finish({ status: "failed", lastStatus: status, lastError: error });
      this.deps.log.warn({ deliveryId: delivery.id, endpointId: endpoint.id, attempts: delivery.attempts, error }, "webhook delivery failed for good");
      return "failed";
    }
    const nextAttemptAt = new Date(now.getTime() + backoffMs(delivery.attempts, this.deps.config, this.#random));
    await finish({ lastStatus: status, lastError: error, nextAttemptAt });
    return "retrying";
  }
}
