import { z } from "zod";

export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 256;

export const emailSchema = z
  .string()
  .trim()
  .max(254, "must be at most 254 characters")
  .pipe(z.email("must be a valid email address"))
  .transform((email) => email.toLowerCase());

export const passwordSchema = z
  .string()
  .min(PASSWORD_MIN_LENGTH, `must be at least ${PASSWORD_MIN_LENGTH} characters`)
  .max(PASSWORD_MAX_LENGTH, `must be at most ${PASSWORD_MAX_LENGTH} characters`);

export const displayNameSchema = z.string().trim().min(1, "must not be empty").max(100, "must be at most 100 characters");

/** IANA time zone names as the runtime knows them, e.g. "Europe/Berlin". */
export const timezoneSchema = z.string().refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat("en", { timeZone: tz });
      return tz.length > 0;
    } catch {
      return false;
    }
  },
  { message: "must be an IANA time zone such as Europe/Berlin" },
);

export const SITE_ROLES = ["owner", "editor", "viewer"] as const;
export type SiteRole = (typeof SITE_ROLES)[number];
export const siteRoleSchema = z.enum(SITE_ROLES);

/**
 * "web" clients get an HttpOnly session cookie and never see the token; "app" clients (mobile,
 * scripts) get the token in the response and send it as `Authorization: Bearer`.
 */
export const clientKindSchema = z.enum(["web", "app"]).default("web");

export const registerInput = z.object({
  email: emailSchema,
  password: passwordSchema,
  displayName: displayNameSchema,
  timezone: timezoneSchema.optional(),
  client: clientKindSchema,
});

export const loginInput = z.object({
  email: emailSchema,
  // No length rules at login: a wrong password is just wrong, whatever its length.
  password: z.string().min(1, "must not be empty").max(PASSWORD_MAX_LENGTH),
  client: clientKindSchema,
});

export const changePasswordInput = z.object({
  currentPassword: z.string().min(1, "must not be empty").max(PASSWORD_MAX_LENGTH),
  newPassword: passwordSchema,
});

export const siteNameSchema = z.string().trim().min(1, "must not be empty").max(100, "must be at most 100 characters");
export const uuidSchema = z.uuid("must be a UUID");

export const siteIdInput = z.object({ siteId: uuidSchema });
export const createSiteInput = z.object({ name: siteNameSchema, timezone: timezoneSchema.default("UTC") });
export const updateSiteInput = z.object({ name: siteNameSchema.optional(), timezone: timezoneSchema.optional() });
export const inviteMemberInput = z.object({ email: emailSchema, role: siteRoleSchema });
export const memberInput = z.object({ userId: uuidSchema });
export const changeRoleInput = z.object({ userId: uuidSchema, role: siteRoleSchema });

export const deviceNameSchema = z.string().trim().min(1, "must not be empty").max(100, "must be at most 100 characters");
export const provisionDeviceInput = z.object({ name: deviceNameSchema });
export const deviceIdInput = z.object({ deviceId: uuidSchema });
