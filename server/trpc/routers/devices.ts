import { deviceIdInput, provisionDeviceInput } from "../../../shared/schemas/accounts";
import { updateDeviceInput } from "../../../shared/schemas/hardware";
import { updateDevice } from "../../devices/devices";
import { getDevice, listDevices, provisionDevice, revokeDevice, rotateDeviceToken } from "../../devices/credentials";
import { router, siteProcedure } from "../trpc";

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
      const { device, token, previousTokenHash } = await rotateDeviceToken(ctx.stores.db, ctx.siteId, input.deviceId, ctx.now());
      ctx.deviceAuth.invalidate(previousTokenHash);
      return { device, token };
    }),
  revoke: siteProcedure("editor")
    .input(deviceIdInput)
    .mutation(async ({ ctx, input }) => {
      const { device, tokenHash } = await revokeDevice(ctx.stores.db, ctx.siteId, input.deviceId, ctx.now());
      ctx.deviceAuth.invalidate(tokenHash);
      return device;
    }),
});
