import { deviceIdInput, provisionDeviceInput } from "../../../../shared/schemas/accounts";
import { updateDeviceInput } from "../../../../shared/schemas/hardware";
import { getDevice, listDevices, provisionDevice, revokeDevice, rotateDeviceToken, updateDevice } from "../../../devices";
import { router, siteProcedure } from "../core";

export const devicesRouter = router({
  list: siteProcedure("viewer").query(({ ctx }) => listDevices(ctx.stores.db, ctx.siteId)),
  get: siteProcedure("viewer")
    .input(deviceIdInput)
    .query(({ ctx, input }) => getDevice(ctx.stores.db, ctx.siteId, input.deviceId)),
  /** Returns the device token once; it cannot be shown again (rotate to get a new one). */
  provision: siteProcedure("editor")
    .input(provisionDeviceInput)
    .mutation(({ ctx, input }) => provisionDevice(ctx.stores.db, ctx.siteId, { name: input.name })),
  /** Kind, hardware id (e.g. a MAC), firmware, location and expected report interval. */
  update: siteProcedure("editor")
    .input(updateDeviceInput)
    .mutation(({ ctx, input }) => {
      const { siteId: _, deviceId, ...details } = input;
      return updateDevice(ctx.stores.db, ctx.siteId, deviceId, details);
    }),
  rotateToken: siteProcedure("editor")
    .input(deviceIdInput)
    .mutation(async ({ ctx, input }) => {
      const { device, token } = await rotateDeviceToken(ctx.stores.db, ctx.siteId, input.deviceId, ctx.now());
      return { device, token };
    }),
  revoke: siteProcedure("editor")
    .input(deviceIdInput)
    .mutation(async ({ ctx, input }) => (await revokeDevice(ctx.stores.db, ctx.siteId, input.deviceId, ctx.now())).device),
});
