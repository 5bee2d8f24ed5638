import { and, eq } from "drizzle-orm";
import type { Db } from "../../db/client";
import { plants } from "../../db/schema";
import { AppError } from "../errors";

/**
 * The plant with this id in this site. A plant of another site is "not found" like a missing one,
 * with the input field it came from, so callers cannot probe other sites' ids.
 */
export async function requirePlant(db: Db, siteId: string, plantId: string, options: { path?: string; active?: boolean } = {}) {
  const path = options.path ?? "plantId";
  const [plant] = await db
    .select()
    .from(plants)
    .where(and(eq(plants.id, plantId), eq(plants.siteId, siteId)));
  if (!plant) throw new AppError("NOT_FOUND", "plant not found", { path });
  if (options.active && plant.archivedAt) throw new AppError("CONFLICT", "the plant is archived: restore it first", { path });
  return plant;
}
