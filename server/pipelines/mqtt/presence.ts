import { sql } from "drizzle-orm";
import type { Db } from "../../../db/client";
import { devicePresence } from "../../../db/schema";
import { announcePresence, type DevicePresence } from "../../platform";

/**
 * A device's own word on its presence (Tasmota LWT, Zigbee2MQTT availability, ESPHome status):
 * kept in Postgres for the automation's scheduled checks on any server, and announced (NOTIFY, in
 * the same transaction) so that every server's engine judges the device's offline rules at once.
 * Retained presence messages repeat on every reconnect: an unchanged state is written again (cheap)
 * but only a newer one wins.
 */
export async function recordPresence(db: Db, change: DevicePresence): Promise<void> {
  const at = new Date(change.at).toISOString();
  await db.transaction(async (tx) => {
    await tx.execute(sql`
      insert into ${devicePresence} (device_id, state, changed_at) values (${change.deviceId}::uuid, ${change.state}, ${at}::timestamptz)
      on conflict (device_id) do update set state = excluded.state, changed_at = excluded.changed_at
      where ${devicePresence}.changed_at <= excluded.changed_at`);
    await announcePresence(tx as unknown as Db, change);
  });
}
