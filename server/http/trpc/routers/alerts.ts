import { alertIdInput, alertIdsInput, listAlertsInput } from "../../../../shared/schemas/alerts";
import { acknowledgeAlert, acknowledgeAlerts, getAlert, listAlerts, resolveAlert, resolveAlerts } from "../../../alerts";
import { router, siteProcedure } from "../core";

/** Alerts are raised by rules (server/alerts/alerts.ts `raiseAlert`); people acknowledge and resolve them. */
export const alertsRouter = router({
  list: siteProcedure("viewer")
    .input(listAlertsInput)
    .query(({ ctx, input }) => listAlerts(ctx.stores.db, ctx.siteId, input)),
  get: siteProcedure("viewer")
    .input(alertIdInput)
    .query(({ ctx, input }) => getAlert(ctx.stores.db, ctx.siteId, input.alertId)),
  acknowledge: siteProcedure("editor")
    .input(alertIdInput)
    .mutation(({ ctx, input }) => acknowledgeAlert(ctx.stores.db, ctx.siteId, input.alertId, { userId: ctx.user.id, now: ctx.now() })),
  resolve: siteProcedure("editor")
    .input(alertIdInput)
    .mutation(({ ctx, input }) => resolveAlert(ctx.stores.db, ctx.siteId, input.alertId, { userId: ctx.user.id, now: ctx.now() })),
  /** A selection of the inbox: the active ones become acknowledged; returns every named alert as it is now. */
  acknowledgeMany: siteProcedure("editor")
    .input(alertIdsInput)
    .mutation(async ({ ctx, input }) => ({ items: await acknowledgeAlerts(ctx.stores.db, ctx.siteId, input.alertIds, { userId: ctx.user.id, now: ctx.now() }) })),
  /** A selection of the inbox: the open ones become resolved; returns every named alert as it is now. */
  resolveMany: siteProcedure("editor")
    .input(alertIdsInput)
    .mutation(async ({ ctx, input }) => ({ items: await resolveAlerts(ctx.stores.db, ctx.siteId, input.alertIds, { userId: ctx.user.id, now: ctx.now() }) })),
});
