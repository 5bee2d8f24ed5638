import { sql } from "drizzle-orm";
import { check, doublePrecision, index, integer, pgEnum, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { users } from "./accounts";
import { plants } from "./plants";
import { sites } from "./sites";

export const deviceKind = pgEnum("device_kind", ["sensor", "actuator", "combined"]);

/** A device (an ESP32, a Raspberry Pi, a pump controller) that posts readings with its own token. */
export const devices = pgTable(
  "devices",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    siteId: uuid("site_id")
      .notNull()
      .references(() => sites.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    kind: deviceKind("kind").notNull().default("sensor"),
    /** What the hardware calls itself, e.g. a MAC address. */
    hardwareId: text("hardware_id"),
    firmware: text("firmware"),
    location: text("location"),
    /** How often the device is expected to report; staleness is judged against it. */
    expectedReportIntervalSeconds: integer("expected_report_interval_seconds").notNull().default(300),
    /** Last battery reading (metric `battery`), %, and when the device last posted anything. */
    batteryPercent: doublePrecision("battery_percent"),
    lastSeenAt: timestamp("last_seen_at", { withTimezone: true }),
    /** SHA-256 (hex) of the device token; the token is shown once, at provisioning or rotation. */
    tokenHash: text("token_hash").notNull().unique(),
    /** The first characters of the token, so a person can tell which token a device holds. */
    tokenHint: text("token_hint").notNull(),
    tokenRotatedAt: timestamp("token_rotated_at", { withTimezone: true }),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("devices_site_id_idx").on(t.siteId),
    uniqueIndex("devices_site_hardware_id_idx").on(t.siteId, t.hardwareId),
  ],
);

/**
 * A sensor as the device names it (`key`, e.g. "soil1"). Created by the first reading that uses a
 * new key, so a device works before anyone configures it; then assigned to a plant by a person.
 */
export const sensors = pgTable(
  "sensors",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    siteId: uuid("site_id")
      .notNull()
      .references(() => sites.id, { onDelete: "cascade" }),
    deviceId: uuid("device_id")
      .notNull()
      .references(() => devices.id, { onDelete: "cascade" }),
    key: text("key").notNull(),
    /** soil_moisture, temperature, humidity, light, water_level, battery, ec, ph, … or unknown. */
    metric: text("metric").notNull(),
    unit: text("unit").notNull(),
    name: text("name"),
    plantId: uuid("plant_id").references(() => plants.id, { onDelete: "set null" }),
    /**
     * Two-point calibration raw → value (e.g. dry and wet soil readings); null when uncalibrated.
     * value = valueLow + (raw - rawLow) * (valueHigh - valueLow) / (rawHigh - rawLow).
     */
    calibrationRawLow: doublePrecision("calibration_raw_low"),
    calibrationValueLow: doublePrecision("calibration_value_low"),
    calibrationRawHigh: doublePrecision("calibration_raw_high"),
    calibrationValueHigh: doublePrecision("calibration_value_high"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("sensors_device_key_idx").on(t.deviceId, t.key),
    index("sensors_site_id_idx").on(t.siteId),
    index("sensors_plant_id_idx").on(t.plantId),
  ],
);

/** Every calibration a sensor ever had, so a change in its readings can be explained. */
export const sensorCalibrations = pgTable(
  "sensor_calibrations",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    sensorId: uuid("sensor_id")
      .notNull()
      .references(() => sensors.id, { onDelete: "cascade" }),
    rawLow: doublePrecision("raw_low"),
    valueLow: doublePrecision("value_low"),
    rawHigh: doublePrecision("raw_high"),
    valueHigh: doublePrecision("value_high"),
    /** Null when the calibration was cleared. */
    changedBy: uuid("changed_by").references(() => users.id, { onDelete: "set null" }),
    changedAt: timestamp("changed_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("sensor_calibrations_sensor_id_idx").on(t.sensorId, t.changedAt)],
);

export const actuatorKind = pgEnum("actuator_kind", ["pump", "lamp", "relay"]);

export const actuators = pgTable(
  "actuators",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    siteId: uuid("site_id")
      .notNull()
      .references(() => sites.id, { onDelete: "cascade" }),
    deviceId: uuid("device_id")
      .notNull()
      .references(() => devices.id, { onDelete: "cascade" }),
    /** How the device names the output, e.g. "pump1". */
    key: text("key").notNull(),
    kind: actuatorKind("kind").notNull(),
    name: text("name"),
    plantId: uuid("plant_id").references(() => plants.id, { onDelete: "set null" }),
    /** Pumps: measured flow, ml/s, to turn "N ml" into a run time. */
    flowRateMlPerSecond: doublePrecision("flow_rate_ml_per_second"),
    /** Pumps: the device stops by itself after this long, whatever it was told. */
    maxRunSeconds: integer("max_run_seconds"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("actuators_device_key_idx").on(t.deviceId, t.key),
    index("actuators_site_id_idx").on(t.siteId),
    check("actuators_flow_rate_positive", sql`${t.flowRateMlPerSecond} is null or ${t.flowRateMlPerSecond} > 0`),
  ],
);
