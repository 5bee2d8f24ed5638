import { alertIdInput, listAlertsInput } from "../../../../shared/schemas/alerts";
import { acknowledgeAlert, getAlert, listAlerts, resolveAlert } from "../../../alerts";
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
});
