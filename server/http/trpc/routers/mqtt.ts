import { adoptInput, bindInput, discoveredInput, listBindingsInput, unbindInput } from "../../../../shared/schemas/mqtt";
import { adoptDiscovered, bindTopic, listBindings, listDiscovered, unbindTopic } from "../../../mqtt-bindings";
import { router, siteProcedure } from "../core";

/**
 * MQTT topics bound to devices, and the topics that arrived unbound (server/mqtt-bindings). A
 * change reaches the MQTT pipeline on every server through the site directory (a trigger on the
 * bindings table), and this server's before the mutation answers (the core settles writes).
 */
export const mqttRouter = router({
  bindings: siteProcedure("viewer")
    .input(listBindingsInput)
    .query(({ ctx, input }) => listBindings(ctx.stores.db, ctx.siteId, input.deviceId)),
  bind: siteProcedure("editor")
    .input(bindInput)
    .mutation(({ ctx, input }) => {
      const { siteId: _, deviceId, ...target } = input;
      return bindTopic(ctx.stores.db, ctx.siteId, deviceId, target);
    }),
  unbind: siteProcedure("editor")
    .input(unbindInput)
    .mutation(({ ctx, input }) => unbindTopic(ctx.stores.db, ctx.siteId, input.bindingId)),
  discovered: siteProcedure("viewer")
    .input(discoveredInput)
    .query(({ ctx, input }) => listDiscovered(ctx.stores.db, ctx.siteId, input.limit)),
  /** Binds a discovered topic to a device, or to a new one (its token is returned once). */
  adopt: siteProcedure("editor")
    .input(adoptInput)
    .mutation(({ ctx, input }) => adoptDiscovered(ctx.stores.db, ctx.siteId, input)),
});
