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
  sensorAssignmentHistory,
  sensorMetricHistory,
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
    .mutation(({ ctx, input }) => createSensor(ctx.stores.db, ctx.siteId, input, { userId: ctx.user.id, now: ctx.now() })),
  update: siteProcedure("editor")
    .input(updateSensorInput)
    .mutation(({ ctx, input }) => updateSensor(ctx.stores.db, ctx.siteId, input, { userId: ctx.user.id, now: ctx.now() })),
  assign: siteProcedure("editor")
    .input(assignSensorInput)
    .mutation(({ ctx, input }) => assignSensor(ctx.stores.db, ctx.siteId, input.sensorId, input.plantId, { userId: ctx.user.id, now: ctx.now() })),
  unassign: siteProcedure("editor")
    .input(sensorIdInput)
    .mutation(({ ctx, input }) => assignSensor(ctx.stores.db, ctx.siteId, input.sensorId, null, { userId: ctx.user.id, now: ctx.now() })),
  /** Which plants the sensor measured and when (the current assignment has `to: null`). */
  assignmentHistory: siteProcedure("viewer")
    .input(sensorIdInput)
    .query(({ ctx, input }) => sensorAssignmentHistory(ctx.stores.db, ctx.siteId, input.sensorId)),
  /** What the sensor measured over time (the current metric has `to: null`). */
  metricHistory: siteProcedure("viewer")
    .input(sensorIdInput)
    .query(({ ctx, input }) => sensorMetricHistory(ctx.stores.db, ctx.siteId, input.sensorId)),
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
