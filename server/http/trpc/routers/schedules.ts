import {
  createScheduleInput,
  listSchedulesInput,
  scheduleIdInput,
  scheduleRunsInput,
  setEnabledScheduleInput,
  updateScheduleInput,
} from "../../../../shared/schemas/automation";
import { createSchedule, deleteSchedule, listSchedules, requireSchedule, upcomingRuns, updateSchedule } from "../../../rules";
import { router, siteProcedure } from "../core";

/** Time-based automation: RRULEs in the site's time zone with their actions. */
export const schedulesRouter = router({
  list: siteProcedure("viewer")
    .input(listSchedulesInput)
    .query(({ ctx, input }) => listSchedules(ctx.stores.db, ctx.siteId, input)),
  get: siteProcedure("viewer")
    .input(scheduleIdInput)
    .query(({ ctx, input }) => requireSchedule(ctx.stores.db, ctx.siteId, input.scheduleId)),
  /** The next runs from a date, in the site's time zone. */
  upcoming: siteProcedure("viewer")
    .input(scheduleRunsInput)
    .query(({ ctx, input }) => upcomingRuns(ctx.stores.db, ctx.siteId, input)),
  create: siteProcedure("editor")
    .input(createScheduleInput)
    .mutation(({ ctx, input }) => createSchedule(ctx.stores.db, ctx.siteId, input, { userId: ctx.user.id, now: ctx.now() })),
  update: siteProcedure("editor")
    .input(updateScheduleInput)
    .mutation(({ ctx, input }) => updateSchedule(ctx.stores.db, ctx.siteId, input, ctx.now())),
  setEnabled: siteProcedure("editor")
    .input(setEnabledScheduleInput)
    .mutation(({ ctx, input }) => updateSchedule(ctx.stores.db, ctx.siteId, { scheduleId: input.scheduleId, enabled: input.enabled }, ctx.now())),
  delete: siteProcedure("editor")
    .input(scheduleIdInput)
    .mutation(async ({ ctx, input }) => {
      await deleteSchedule(ctx.stores.db, ctx.siteId, input.scheduleId);
      return { ok: true as const };
    }),
});
