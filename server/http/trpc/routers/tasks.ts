import {
  careTaskIdInput,
  completeCareTaskInput,
  createCareTaskInput,
  listCareTasksInput,
  snoozeCareTaskInput,
  upcomingInput,
  updateCareTaskInput,
} from "../../../../shared/schemas/care";
import {
  completeCareTask,
  createCareTask,
  deleteCareTask,
  getCareTask,
  listCareTasks,
  skipCareTask,
  snoozeCareTask,
  upcomingOccurrences,
  updateCareTask,
} from "../../../care";
import { router, siteProcedure } from "../core";

export const tasksRouter = router({
  list: siteProcedure("viewer")
    .input(listCareTasksInput)
    .query(({ ctx, input }) => listCareTasks(ctx.stores.db, ctx.siteId, input)),
  get: siteProcedure("viewer")
    .input(careTaskIdInput)
    .query(({ ctx, input }) => getCareTask(ctx.stores.db, ctx.siteId, input.taskId)),
  /** The calendar: occurrences of open tasks in [from, to), expanded in the site's time zone. */
  upcoming: siteProcedure("viewer")
    .input(upcomingInput)
    .query(({ ctx, input }) => upcomingOccurrences(ctx.stores.db, ctx.siteId, input, ctx.now())),
  create: siteProcedure("editor")
    .input(createCareTaskInput)
    .mutation(({ ctx, input }) => createCareTask(ctx.stores.db, ctx.siteId, input, { userId: ctx.user.id, now: ctx.now() })),
  update: siteProcedure("editor")
    .input(updateCareTaskInput)
    .mutation(({ ctx, input }) => updateCareTask(ctx.stores.db, ctx.siteId, input, ctx.now())),
  delete: siteProcedure("editor")
    .input(careTaskIdInput)
    .mutation(async ({ ctx, input }) => {
      await deleteCareTask(ctx.stores.db, ctx.siteId, input.taskId);
      return { ok: true as const };
    }),
  complete: siteProcedure("editor")
    .input(completeCareTaskInput)
    .mutation(({ ctx, input }) => completeCareTask(ctx.stores.db, ctx.siteId, input, { userId: ctx.user.id, now: ctx.now() })),
  skip: siteProcedure("editor")
    .input(careTaskIdInput)
    .mutation(({ ctx, input }) => skipCareTask(ctx.stores.db, ctx.siteId, input, { userId: ctx.user.id, now: ctx.now() })),
  snooze: siteProcedure("editor")
    .input(snoozeCareTaskInput)
    .mutation(({ ctx, input }) => snoozeCareTask(ctx.stores.db, ctx.siteId, input, { userId: ctx.user.id, now: ctx.now() })),
});
