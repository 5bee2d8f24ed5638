import { and, asc, count, eq } from "drizzle-orm";
import type { Db } from "../../db/client";
import { siteMembers, sites, users } from "../../db/schema";
import type { SiteRole } from "../../shared/schemas/accounts";
import { AppError, notFound } from "../platform";

/**
 * Sites and their members. Every resource belongs to a site; a user's role in it decides what
 * they may do: owner (everything, members), editor (change plants, devices, rules), viewer (read).
 */

const RANK: Record<SiteRole, number> = { viewer: 1, editor: 2, owner: 3 };

export function roleAllows(role: SiteRole, required: SiteRole): boolean {
  return RANK[role] >= RANK[required];
}

export async function membershipOf(db: Db, siteId: string, userId: string): Promise<SiteRole | undefined> {
  const [row] = await db
    .select({ role: siteMembers.role })
    .from(siteMembers)
    .where(and(eq(siteMembers.siteId, siteId), eq(siteMembers.userId, userId)));
  return row?.role;
}

export async function createSite(db: Db, ownerId: string, input: { name: string; timezone: string }) {
  return db.transaction(async (tx) => {
    const [site] = await tx.insert(sites).values({ name: input.name, timezone: input.timezone }).returning();
    await tx.insert(siteMembers).values({ siteId: site!.id, userId: ownerId, role: "owner" });
    return site!;
  });
}

/** The site every new account starts with. Runs inside the registration transaction. */
export async function createPersonalSite(db: Db, user: { id: string; displayName: string }, timezone: string): Promise<string> {
  const [site] = await db.insert(sites).values({ name: `${user.displayName}'s plants`, timezone }).returning({ id: sites.id });
  await db.insert(siteMembers).values({ siteId: site!.id, userId: user.id, role: "owner" });
  return site!.id;
}

export async function listSitesOf(db: Db, userId: string) {
  return db
    .select({ id: sites.id, name: sites.name, timezone: sites.timezone, role: siteMembers.role, createdAt: sites.createdAt })
    .from(siteMembers)
    .innerJoin(sites, eq(sites.id, siteMembers.siteId))
    .where(eq(siteMembers.userId, userId))
    .orderBy(asc(sites.createdAt), asc(sites.id));
}

export async function getSite(db: Db, siteId: string) {
  const [site] = await db.select().from(sites).where(eq(sites.id, siteId));
  if (!site) throw notFound("site");
  return site;
}

export async function updateSite(db: Db, siteId: string, input: { name?: string | undefined; timezone?: string | undefined }) {
  const changes = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
  if (Object.keys(changes).length === 0) return getSite(db, siteId);
  const [site] = await db.update(sites).set(changes).where(eq(sites.id, siteId)).returning();
  if (!site) throw notFound("site");
  return site;
}

export async function deleteSite(db: Db, siteId: string): Promise<void> {
  await db.delete(sites).where(eq(sites.id, siteId));
}

export async function listMembers(db: Db, siteId: string) {
  return db
    .select({ userId: users.id, email: users.email, displayName: users.displayName, role: siteMembers.role, since: siteMembers.createdAt })
    .from(siteMembers)
    .innerJoin(users, eq(users.id, siteMembers.userId))
    .where(eq(siteMembers.siteId, siteId))
    .orderBy(asc(siteMembers.createdAt));
}

/** Adds an existing user by email. Unknown emails get the same NOT_FOUND as any missing thing. */
export async function inviteMember(db: Db, siteId: string, input: { email: string; role: SiteRole }) {
  const [user] = await db.select({ id: users.id }).from(users).where(eq(users.email, input.email));
  if (!user) throw new AppError("NOT_FOUND", "no account with this email", { path: "email" });
  const inserted = await db
    .insert(siteMembers)
    .values({ siteId, userId: user.id, role: input.role })
    .onConflictDoNothing()
    .returning({ userId: siteMembers.userId });
  if (inserted.length === 0) throw new AppError("CONFLICT", "already a member of this site", { path: "email" });
  // Servers may remember that this user was not a member.
  return { userId: user.id, role: input.role };
}

async function ownerCount(db: Db, siteId: string): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(siteMembers)
    .where(and(eq(siteMembers.siteId, siteId), eq(siteMembers.role, "owner")));
  return Number(row?.n ?? 0);
}

/**
 * Role changes and removals keep at least one owner. Each runs in a transaction that locks the
 * site's member rows, so two owners demoting each other at once cannot leave the site ownerless.
 */
async function withMembersLocked<T>(db: Db, siteId: string, fn: (tx: Db) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.select({ userId: siteMembers.userId }).from(siteMembers).where(eq(siteMembers.siteId, siteId)).for("update");
    return fn(tx as unknown as Db);
  });
}

export async function changeMemberRole(db: Db, siteId: string, input: { userId: string; role: SiteRole }) {
  return withMembersLocked(db, siteId, async (tx) => {
    const current = await membershipOf(tx, siteId, input.userId);
    if (!current) throw new AppError("NOT_FOUND", "member not found", { path: "userId" });
    if (current === "owner" && input.role !== "owner" && (await ownerCount(tx, siteId)) <= 1) {
      throw new AppError("CONFLICT", "a site must keep at least one owner", { path: "role" });
    }
    await tx
      .update(siteMembers)
      .set({ role: input.role })
      .where(and(eq(siteMembers.siteId, siteId), eq(siteMembers.userId, input.userId)));
    return { userId: input.userId, role: input.role };
  });
}

export async function removeMember(db: Db, siteId: string, userId: string): Promise<void> {
  await withMembersLocked(db, siteId, async (tx) => {
    const current = await membershipOf(tx, siteId, userId);
    if (!current) throw new AppError("NOT_FOUND", "member not found", { path: "userId" });
    if (current === "owner" && (await ownerCount(tx, siteId)) <= 1) {
      throw new AppError("CONFLICT", "a site must keep at least one owner: make someone else owner first");
    }
    await tx.delete(siteMembers).where(and(eq(siteMembers.siteId, siteId), eq(siteMembers.userId, userId)));
  });
}
