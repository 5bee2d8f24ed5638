import type { Clickhouse } from "../../../clickhouse/client";
import type { Db } from "../../../db/client";
import type { AutomationAction } from "../../../shared/schemas/automation";
import { type AlertNumbers, raiseAlert } from "../../alerts";
import { queueCommand } from "../../commands";
import type { Notification } from "../../notifications";
import { type LogInput, renderTemplate, type TemplateValues, writeLog } from "../../rules";
import { AppError } from "../../platform";
import type { SiteFacts } from "../../sites";
import { AUTOMATIC_COMMAND_EXPIRY_SECONDS, waterSafely } from "./watering";

/**
 * What a firing rule or a due schedule does: raise an alert, queue a command (pump commands go
 * through the plant's safety envelope), notify. Each action is logged with its outcome; one
 * failing action does not stop the others.
 */

/** The notify action's message: what the notification outbox takes (server/notifications). */
export type NotifyRequest = Notification;
export type Notify = (request: NotifyRequest) => Promise<void>;

export interface ActionContext {
  db: Db;
  clickhouse: Clickhouse;
  notify: Notify;
  /** The site's facts (the site directory): its actuators, sensors and time zone. */
  site: SiteFacts;
  siteId: string;
  ruleId?: string | null;
  scheduleId?: string | null;
  plantId: string | null;
  /** Alert dedup: the rule name and subject, plus what the alert concerns and, from a rule, its numbers. */
  alert: { rule: string; subject: string; sensorId?: string | null; deviceId?: string | null; numbers?: AlertNumbers };
  values: TemplateValues;
  /** Deterministic per firing or run, so a second evaluation cannot act twice. */
  idempotencyKey: string;
  wateringSource: "automatic" | "scheduled";
  /** "rule:<id>" or "schedule:<id>", for notifications. */
  source: string;
  now: Date;
}

export async function runActions(ctx: ActionContext, actions: AutomationAction[]): Promise<void> {
  const log = (entry: Omit<LogInput, "siteId" | "ruleId" | "scheduleId" | "plantId" | "subject">) =>
    writeLog(ctx.db, { siteId: ctx.siteId, ruleId: ctx.ruleId, scheduleId: ctx.scheduleId, plantId: ctx.plantId, subject: ctx.alert.subject, ...entry }, ctx.now);
  for (const [index, action] of actions.entries()) {
    try {
      if (action.type === "alert") {
        const title = renderTemplate(action.title, ctx.values);
        const message = action.message ? renderTemplate(action.message, ctx.values) : null;
        const { alert, created } = await raiseAlert(
          ctx.db,
          {
            siteId: ctx.siteId,
            rule: ctx.alert.rule,
            subject: ctx.alert.subject,
            severity: action.severity,
            title,
            message,
            plantId: ctx.plantId,
            sensorId: ctx.alert.sensorId ?? null,
            deviceId: ctx.alert.deviceId ?? null,
            numbers: ctx.alert.numbers,
          },
          ctx.now,
        );
        await log({ event: "action", message: `${created ? "alert raised" : "alert occurred again"}: ${title}`, details: { action: "alert", alertId: alert.id, severity: action.severity } });
      } else if (action.type === "notify") {
        const title = renderTemplate(action.title, ctx.values);
        const message = action.message ? renderTemplate(action.message, ctx.values) : null;
        await ctx.notify({ siteId: ctx.siteId, severity: action.severity, title, message, plantId: ctx.plantId, source: ctx.source });
        await log({ event: "action", message: `notified: ${title}`, details: { action: "notify", severity: action.severity, message } });
      } else {
        const key = `${ctx.idempotencyKey}:${index}`;
        const actuator = ctx.site.actuators.get(action.actuatorId);
        if (!actuator) throw new AppError("NOT_FOUND", "actuator not found", { path: "actuatorId" });
        if (action.command.action === "pump") {
          const outcome = await waterSafely(
            ctx.db,
            ctx.clickhouse,
            {
              siteId: ctx.siteId,
              actuator,
              soilSensorIds: ctx.site.sensorList.filter((s) => s.plantId === actuator.plantId && s.metric === "soil_moisture").map((s) => s.id),
              command: action.command,
              idempotencyKey: key,
              source: ctx.wateringSource,
              timeZone: ctx.site.timezone,
            },
            ctx.now,
          );
          if (!outcome.queued) {
            await log({ event: "skipped", message: `watering skipped: ${outcome.reason}`, details: { action: "command", actuatorId: actuator.id, command: action.command } });
          } else if (!outcome.created) {
            await log({ event: "skipped", message: "watering already queued for this firing", details: { action: "command", commandId: outcome.command.id } });
          } else {
            await log({
              event: "action",
              message: `pump ${actuator.name ?? actuator.key} queued: ${outcome.command.durationSeconds} s (stops by itself after ${outcome.command.maxRunSeconds} s)`,
              details: { action: "command", commandId: outcome.command.id, moistureBefore: outcome.moistureBefore, volumeMl: outcome.command.volumeMl },
            });
          }
        } else {
          const { command, created } = await queueCommand(
            ctx.db,
            ctx.siteId,
            { actuatorId: actuator.id, command: action.command, idempotencyKey: key, expiresInSeconds: AUTOMATIC_COMMAND_EXPIRY_SECONDS },
            { userId: null, now: ctx.now },
          );
          await log({
            event: created ? "action" : "skipped",
            message: created ? `${actuator.kind} ${actuator.name ?? actuator.key} switched ${command.state}` : "command already queued for this firing",
            details: { action: "command", commandId: command.id },
          });
        }
      }
    } catch (error) {
      await log({ event: "failed", message: `action ${action.type} failed: ${error instanceof Error ? error.message : String(error)}`, details: { action: action.type, index } }).catch(
        () => {},
      );
    }
  }
}
