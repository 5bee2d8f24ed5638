import {
  assignSensorInput,
  calibrationInput,
  createSensorInput,
  listSensorsInput,
  previewCalibrationInput,
  sensorIdInput,
  updateSensorInput,
} from "../../../../shared/schemas/hardware";
import {
  assignSensor,
  calibrationHistory,
  createSensor,
  getSensor,
  listSensors,
  previewCalibration,
  setCalibration,
  updateSensor,
} from "../../../devices";
import { router, siteProcedure } from "../core";

export const sensorsRouter = router({
  list: siteProcedure("viewer")
    .input(listSensorsInput)
    .query(({ ctx, input }) => listSensors(ctx.stores.db, ctx.siteId, input)),
  get: siteProcedure("viewer")
    .input(sensorIdInput)
    .query(({ ctx, input }) => getSensor(ctx.stores.db, ctx.siteId, input.sensorId)),
  create: siteProcedure("editor")
    .input(createSensorInput)
    .mutation(({ ctx, input }) => createSensor(ctx.stores.db, ctx.siteId, input, ctx.now())),
  update: siteProcedure("editor")
    .input(updateSensorInput)
    .mutation(({ ctx, input }) => updateSensor(ctx.stores.db, ctx.siteId, input, ctx.now())),
  assign: siteProcedure("editor")
    .input(assignSensorInput)
    .mutation(({ ctx, input }) => assignSensor(ctx.stores.db, ctx.siteId, input.sensorId, input.plantId, ctx.now())),
  unassign: siteProcedure("editor")
    .input(sensorIdInput)
    .mutation(({ ctx, input }) => assignSensor(ctx.stores.db, ctx.siteId, input.sensorId, null, ctx.now())),
  setCalibration: siteProcedure("editor")
    .input(calibrationInput)
    .mutation(({ ctx, input }) => {
      const { siteId: _, sensorId, ...calibration } = input;
      return setCalibration(ctx.stores.db, ctx.siteId, sensorId, calibration, { userId: ctx.user.id, now: ctx.now() });
    }),
  clearCalibration: siteProcedure("editor")
    .input(sensorIdInput)
    .mutation(({ ctx, input }) =>
      setCalibration(ctx.stores.db, ctx.siteId, input.sensorId, null, { userId: ctx.user.id, now: ctx.now() }),
    ),
  calibrationHistory: siteProcedure("viewer")
    .input(sensorIdInput)
    .query(({ ctx, input }) => calibrationHistory(ctx.stores.db, ctx.siteId, input.sensorId)),
  /** What a raw reading means under the current calibration (for calibration screens). */
  previewCalibration: siteProcedure("viewer")
    .input(previewCalibrationInput)
    .query(({ ctx, input }) => previewCalibration(ctx.stores.db, ctx.siteId, input.sensorId, input.raw)),
});
