import { sql } from "drizzle-orm";
import type { Database, Db } from "../../db/client";
import type { Logger } from "./logger";
import type { AlertChanged, CommandChanged, DevicePresence, EventHub } from "./events";

/**
 * Changes that must reach every server: a command queued on server A wakes the device's long poll
 * on server B; an alert raised by B's automation reaches a dashboard subscribed on A. They travel
 * by PostgreSQL NOTIFY, sent in the transaction that makes the change, so listeners hear of it
 * exactly when it commits (a rolled-back change is never announced). Each server LISTENs once and
 * re-emits what it hears on its own EventHub, its own changes included: one path for all.
 */

export const CHANGES_CHANNEL = "verdant_changes";

type Change =
  | ({ kind: "command" } & CommandChanged)
  | ({ kind: "alert" } & AlertChanged)
  | ({ kind: "presence" } & DevicePresence)
  | { kind: "access" }
  /** Sent by triggers on the tables of site facts (see the site directory); siteId null: every site. */
  | { kind: "site"; siteId: string | null; sensorsCreated?: string[] }
  /** A server's marker: it knows every change committed before it has arrived (SiteDirectory.settle). */
  | { kind: "barrier"; id: string };

/** Postgres refuses NOTIFY payloads of 8,000 bytes or more; titles are the only free text we carry. */
const MAX_TITLE = 500;

export async function announceCommand(db: Db, change: CommandChanged): Promise<void> {
  await notify(db, { kind: "command", ...change, detail: change.detail?.slice(0, MAX_TITLE) ?? null });
}

export async function announceAlert(db: Db, change: AlertChanged): Promise<void> {
  await notify(db, { kind: "alert", ...change, title: change.title.slice(0, MAX_TITLE), subject: change.subject.slice(0, MAX_TITLE) });
}

/** A device's presence changed (MQTT); call inside the transaction that records it. */
export async function announcePresence(db: Db, change: DevicePresence): Promise<void> {
  await notify(db, { kind: "presence", ...change });
}

/**
 * Someone lost access (signed out, lost a role, a site was deleted): every server forgets the
 * sessions and memberships it had cached (server/auth/access-cache.ts). Sent on `db`, which may
 * be the transaction making the change, so servers hear of it once it commits.
 */
export async function announceAccessChange(db: Db): Promise<void> {
  await notify(db, { kind: "access" });
}

async function notify(db: Db, change: Change): Promise<void> {
  await db.execute(sql`select pg_notify(${CHANGES_CHANNEL}, ${JSON.stringify(change)})`);
}

/** LISTENs on the changes channel and re-emits each change on the hub; resolves to the stop function. */
export async function relayChanges(database: Database, events: EventHub, log?: Logger): Promise<() => Promise<void>> {
  let listened = false;
  const onListen = () => {
    // Re-established after a dropped connection: what was notified meanwhile is lost, so every
    // site's facts must be read again.
    if (listened) events.emit("site.changed", { siteId: null });
    listened = true;
  };
  return database.listen(CHANGES_CHANNEL, onListen, (payload) => {
    let change: Change;
    try {
      change = JSON.parse(payload) as Change;
    } catch (error) {
      log?.warn({ err: error, payload: payload.slice(0, 200) }, "ignored a malformed change notification");
      return;
    }
    const { kind, ...rest } = change;
    if (kind === "command") events.emit("command.changed", rest as CommandChanged);
    else if (kind === "alert") events.emit("alert.changed", rest as AlertChanged);
    else if (kind === "presence") events.emit("device.presence", rest as DevicePresence);
    else if (kind === "access") events.emit("access.changed", {});
    else if (kind === "site") events.emit("site.changed", rest as { siteId: string | null; sensorsCreated?: string[] });
    else if (kind === "barrier") events.emit("changes.barrier", { id: (rest as { id: string }).id });
  });
}
