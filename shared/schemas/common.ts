import { z } from "zod";

/**
 * Lists are cursor-paginated: pass the `nextCursor` of one page to get the next; `null` means the
 * last page. Cursors are opaque strings.
 */
export const pageInput = z.object({
  cursor: z.string().min(1, "must not be empty").max(500, "must be at most 500 characters").optional(),
  limit: z.number().int("must be a whole number").min(1, "must be at least 1").max(100, "must be at most 100").default(50),
});

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** An optional text field on update: a string sets it, `null` clears it, absent leaves it. */
export const optionalText = (max: number) =>
  z.string().trim().max(max, `must be at most ${max} characters`).nullable().optional();

export const nameSchema = z.string().trim().min(1, "must not be empty").max(100, "must be at most 100 characters");
