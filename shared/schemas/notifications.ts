import { z } from "zod";
import { timezoneSchema, uuidSchema } from "./accounts";
import { ALERT_SEVERITIES } from "./alerts";
import { nameSchema, pageInput } from "./common";

/**
 * What a webhook endpoint can subscribe to. The daily digest is on when `digestTime` is set, and
 * "test" deliveries are sent on request, whatever the filter.
 */
export const WEBHOOK_EVENTS = ["alert.raised", "alert.resolved", "notification"] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number] | "digest" | "test";

const localTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a local time "HH:MM" (00:00 to 23:59)');

const webhookUrl = z
  .string()
  .trim()
  .max(2000, "must be at most 2000 characters")
  .refine(
    (value) => {
      try {
        const u = new URL(value);
        return u.protocol === "https:" || u.protocol === "http:";
      } catch {
        return false;
      }
    },
    { message: "must be an http:// or https:// URL" },
  );

const webhookFields = {
  name: nameSchema,
  url: webhookUrl,
  events: z.array(z.enum(WEBHOOK_EVENTS)).min(1, "must name at least one event").max(WEBHOOK_EVENTS.length),
  minSeverity: z.enum(ALERT_SEVERITIES),
  enabled: z.boolean(),
  quietStart: localTime.nullable(),
  quietEnd: localTime.nullable(),
  criticalBypassesQuiet: z.boolean(),
  digestTime: localTime.nullable(),
  /** The member this endpoint reaches: their own quiet hours (auth.setQuietHours) apply to it too. */
  recipientUserId: uuidSchema.nullable(),
};

const quietBoth = (v: { quietStart?: string | null | undefined; quietEnd?: string | null | undefined }) =>
  (v.quietStart == null) === (v.quietEnd == null);
const quietMessage = { message: "quiet hours need both quietStart and quietEnd (or neither)", path: ["quietEnd"] };

export const createWebhookInput = z
  .object({
    ...webhookFields,
    events: webhookFields.events.default([...WEBHOOK_EVENTS]),
    minSeverity: webhookFields.minSeverity.default("info"),
    enabled: webhookFields.enabled.default(true),
    quietStart: webhookFields.quietStart.default(null),
    quietEnd: webhookFields.quietEnd.default(null),
    criticalBypassesQuiet: webhookFields.criticalBypassesQuiet.default(true),
    digestTime: webhookFields.digestTime.default(null),
    recipientUserId: webhookFields.recipientUserId.default(null),
  })
  .refine(quietBoth, quietMessage);

export const updateWebhookInput = z
  .object({ webhookId: uuidSchema, ...Object.fromEntries(Object.entries(webhookFields).map(([k, v]) => [k, v.optional()])) } as {
    webhookId: typeof uuidSchema;
  } & { [K in keyof typeof webhookFields]: z.ZodOptional<(typeof webhookFields)[K]> })
  .refine((v) => (v.quietStart === undefined) === (v.quietEnd === undefined) ? quietBoth(v) : false, {
    message: "change quietStart and quietEnd together (both times, or both null)",
    path: ["quietEnd"],
  });

export const webhookIdInput = z.object({ webhookId: uuidSchema });

export const listDeliveriesInput = pageInput.extend({
  webhookId: uuidSchema.optional(),
  status: z.enum(["pending", "delivered", "failed"]).optional(),
});

/** A person's quiet hours: both times or neither; in `timezone`, or the site's zone when null. */
export const quietHoursInput = z
  .object({ quietStart: localTime.nullable(), quietEnd: localTime.nullable(), timezone: timezoneSchema.nullable().default(null) })
  .refine(quietBoth, quietMessage);
