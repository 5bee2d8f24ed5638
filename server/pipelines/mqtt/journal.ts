import { createHash } from "node:crypto";
import { and, eq, lt } from "drizzle-orm";
import type { Db } from "../../../db/client";
import { mqttDeliveries } from "../../../db/schema";

/**
 * The delivery journal (see db/schema/mqtt.ts): for messages without a time of their own, the
 * batch id and time their readings were stored under, written before they go to ingest. A message
 * the broker delivers again (DUP set, same session and packet id, same topic and payload) is stored
 * under the same batch id and time, so ingest recognises it as a retry of the same batch.
 */

export interface Delivery {
  /** Which MQTT session brought the message ("external:<client id>", "embedded:<client id>"). */
  session: string;
  messageId: number;
  dup: boolean;
}

export interface JournalEntry {
  batchId: string;
  ts: number;
}

export function digestOf(topic: string, payload: Uint8Array): string {
  return createHash("sha256").update(topic).update("\u0000").update(payload).digest("hex");
}

export class DeliveryJournal {
  constructor(private readonly db: () => Db) {}

  /** How this very message was stored before, if it was journaled. */
  async find(delivery: Delivery, digest: string): Promise<JournalEntry | undefined> {
    const [row] = await this.db()
      .select({ digest: mqttDeliveries.digest, batchId: mqttDeliveries.batchId, ts: mqttDeliveries.ts })
      .from(mqttDeliveries)
      .where(and(eq(mqttDeliveries.session, delivery.session), eq(mqttDeliveries.messageId, delivery.messageId)));
    return row && row.digest === digest ? { batchId: row.batchId, ts: Number(row.ts) } : undefined;
  }

  /** Records the batch id and time before the readings go to ingest (replacing the packet id's last use). */
  async write(delivery: Delivery, digest: string, entry: JournalEntry, receivedAt: number): Promise<void> {
    const values = { digest, batchId: entry.batchId, ts: entry.ts, receivedAt: new Date(receivedAt) };
    await this.db()
      .insert(mqttDeliveries)
      .values({ session: delivery.session, messageId: delivery.messageId, ...values })
      .onConflictDoUpdate({ target: [mqttDeliveries.session, mqttDeliveries.messageId], set: values });
  }

  /** Entries older than the raw retention can no longer match anything stored. */
  async prune(before: Date): Promise<void> {
    await this.db().delete(mqttDeliveries).where(lt(mqttDeliveries.receivedAt, before));
  }
}
