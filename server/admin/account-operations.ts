import { asc, eq, or } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../../db/client";
import { devices, sites } from "../../db/schema";
import { displayNameSchema, emailSchema, passwordSchema, deviceNameSchema, uuidSchema } from "../../shared/schemas/accounts";
import { registerUser } from "../accounts";
import { listDevices, provisionDevice, revokeDevice, rotateDeviceToken } from "../devices";
import { AdminCommandError, type AdminArgs, type AdminCommand, type AdminTarget } from "./types";

/** CLI commands for accounts and device credentials (`user:create`, `device:create`, …). */

function parse<T>(schema: z.ZodType<T>, args: AdminArgs, hint: string): T {
  const result = schema.safeParse(args);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `--${i.path.join(".")}: ${i.message}`).join("; ");
    throw new AdminCommandError(`${problems} (usage: ${hint})`);
  }
  return result.data;
}

/** `--site` accepts an id or a name; without it: the only site, else the demo site. */
async function resolveSite(db: Db, site: string | undefined): Promise<{ id: string; name: string }> {
  if (site) {
    const isId = uuidSchema.safeParse(site).success;
    const matches = await db
      .select({ id: sites.id, name: sites.name })
      .from(sites)
      .where(isId ? or(eq(sites.id, site), eq(sites.name, site)) : eq(sites.name, site));
    if (matches.length === 1) return matches[0]!;
    if (matches.length > 1) throw new AdminCommandError(`several sites are named ${JSON.stringify(site)}: pass the site id`);
    throw new AdminCommandError(`no site with id or name ${JSON.stringify(site)}`);
  }
  const all = await db.select({ id: sites.id, name: sites.name, isDemo: sites.isDemo }).from(sites).orderBy(asc(sites.createdAt));
  if (all.length === 1) return all[0]!;
  const demo = all.find((s) => s.isDemo);
  if (demo) return demo;
  if (all.length === 0) throw new AdminCommandError("there is no site yet: create a user (user:create) or run seed");
  throw new AdminCommandError(`several sites exist; choose one with --site: ${all.map((s) => `${s.name} (${s.id})`).join(", ")}`);
}

async function deviceInSite(db: Db, id: string): Promise<{ id: string; siteId: string }> {
  const [device] = await db.select({ id: devices.id, siteId: devices.siteId }).from(devices).where(eq(devices.id, id));
  if (!device) throw new AdminCommandError(`no device with id ${id}`);
  return device;
}

const idArgs = z.object({ id: uuidSchema });

export const accountCommands: Record<string, AdminCommand> = {
  "user:create": {
    summary: "create a user and their personal site: --email E --password P (or --password-stdin) [--name N]",
    whileServing: true,
    run: async (target: AdminTarget, args) => {
      const input = parse(
        z.object({ email: emailSchema, password: passwordSchema, name: displayNameSchema.optional() }),
        args,
        "user:create --email you@example.com --password-stdin [--name Ada]",
      );
      const { user, siteId } = await registerUser(target.postgres.db, {
        email: input.email,
        password: input.password,
        displayName: input.name ?? input.email.split("@")[0]!,
      });
      return { id: user.id, email: user.email, displayName: user.displayName, personalSiteId: siteId };
    },
  },
  "device:create": {
    summary: "provision a device and print its token once: --name N [--site <id or name>]",
    whileServing: true,
    run: async (target, args) => {
      const input = parse(z.object({ name: deviceNameSchema, site: z.string().optional() }), args, "device:create --name balcony-esp32 [--site Home]");
      const site = await resolveSite(target.postgres.db, input.site);
      const { device, token } = await provisionDevice(target.postgres.db, site.id, { name: input.name });
      return { id: device.id, token, name: device.name, siteId: site.id, siteName: site.name };
    },
  },
  "device:list": {
    summary: "list devices: [--site <id or name>]",
    whileServing: true,
    run: async (target, args) => {
      const input = parse(z.object({ site: z.string().optional() }), args, "device:list [--site Home]");
      const site = await resolveSite(target.postgres.db, input.site);
      return { siteId: site.id, devices: await listDevices(target.postgres.db, site.id) };
    },
  },
  "device:rotate": {
    summary: "replace a device's token (the old one stops working) and print the new one: --id ID",
    whileServing: true,
    run: async (target, args) => {
      const { id } = parse(idArgs, args, "device:rotate --id <device id>");
      const device = await deviceInSite(target.postgres.db, id);
      const rotated = await rotateDeviceToken(target.postgres.db, device.siteId, id, target.now ?? new Date());
      return { id, token: rotated.token };
    },
  },
  "device:revoke": {
    summary: "revoke a device's token: --id ID",
    whileServing: true,
    run: async (target, args) => {
      const { id } = parse(idArgs, args, "device:revoke --id <device id>");
      const device = await deviceInSite(target.postgres.db, id);
      const revoked = await revokeDevice(target.postgres.db, device.siteId, id, target.now ?? new Date());
      return { id, revokedAt: revoked.device.revokedAt };
    },
  },
};
