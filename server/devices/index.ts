/** Devices and what they have: credentials (tokens shown once, stored hashed), details, sensors with their calibration, and actuators. */
export { getDevice, listDevices, provisionDevice, revokeDevice, rotateDeviceToken } from "./credentials";
export { DEFAULT_PUMP_MAX_RUN_SECONDS, assignActuator, createActuator, listActuators, requireActuator, type Actuator, updateActuator } from "./actuators";
export { requireDevice, updateDevice } from "./devices";
export { assignSensor, calibrationHistory, createSensor, getSensor, listSensors, previewCalibration, sensorAssignmentHistory, sensorMetricHistory, setCalibration, updateSensor } from "./sensors";
