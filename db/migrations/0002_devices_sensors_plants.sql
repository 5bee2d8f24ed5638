CREATE TYPE "public"."actuator_kind" AS ENUM('pump', 'lamp', 'relay');--> statement-breakpoint
CREATE TYPE "public"."device_kind" AS ENUM('sensor', 'actuator', 'combined');--> statement-breakpoint
CREATE TYPE "public"."pot_material" AS ENUM('plastic', 'terracotta', 'ceramic', 'glazed', 'fabric', 'wood', 'metal', 'concrete', 'other');--> statement-breakpoint
CREATE TABLE "actuators" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"site_id" uuid NOT NULL,
	"device_id" uuid NOT NULL,
	"key" text NOT NULL,
	"kind" "actuator_kind" NOT NULL,
	"name" text,
	"plant_id" uuid,
	"flow_rate_ml_per_second" double precision,
	"max_run_seconds" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "actuators_flow_rate_positive" CHECK ("actuators"."flow_rate_ml_per_second" is null or "actuators"."flow_rate_ml_per_second" > 0)
);
--> statement-breakpoint
CREATE TABLE "sensor_calibrations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"sensor_id" uuid NOT NULL,
	"raw_low" double precision,
	"value_low" double precision,
	"raw_high" double precision,
	"value_high" double precision,
	"changed_by" uuid,
	"changed_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sensors" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"site_id" uuid NOT NULL,
	"device_id" uuid NOT NULL,
	"key" text NOT NULL,
	"metric" text NOT NULL,
	"unit" text NOT NULL,
	"name" text,
	"plant_id" uuid,
	"calibration_raw_low" double precision,
	"calibration_value_low" double precision,
	"calibration_raw_high" double precision,
	"calibration_value_high" double precision,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "plants" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"site_id" uuid NOT NULL,
	"name" text NOT NULL,
	"species_id" uuid,
	"location" text,
	"pot_size_cm" integer,
	"pot_material" "pot_material",
	"indoor" boolean DEFAULT true NOT NULL,
	"photo_url" text,
	"notes" text,
	"threshold_overrides" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"archived_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "devices" ADD COLUMN "kind" "device_kind" DEFAULT 'sensor' NOT NULL;--> statement-breakpoint
ALTER TABLE "devices" ADD COLUMN "hardware_id" text;--> statement-breakpoint
ALTER TABLE "devices" ADD COLUMN "firmware" text;--> statement-breakpoint
ALTER TABLE "devices" ADD COLUMN "location" text;--> statement-breakpoint
ALTER TABLE "devices" ADD COLUMN "expected_report_interval_seconds" integer DEFAULT 300 NOT NULL;--> statement-breakpoint
ALTER TABLE "devices" ADD COLUMN "battery_percent" double precision;--> statement-breakpoint
ALTER TABLE "devices" ADD COLUMN "last_seen_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "actuators" ADD CONSTRAINT "actuators_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "actuators" ADD CONSTRAINT "actuators_device_id_devices_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."devices"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "actuators" ADD CONSTRAINT "actuators_plant_id_plants_id_fk" FOREIGN KEY ("plant_id") REFERENCES "public"."plants"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sensor_calibrations" ADD CONSTRAINT "sensor_calibrations_sensor_id_sensors_id_fk" FOREIGN KEY ("sensor_id") REFERENCES "public"."sensors"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sensor_calibrations" ADD CONSTRAINT "sensor_calibrations_changed_by_users_id_fk" FOREIGN KEY ("changed_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sensors" ADD CONSTRAINT "sensors_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sensors" ADD CONSTRAINT "sensors_device_id_devices_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."devices"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sensors" ADD CONSTRAINT "sensors_plant_id_plants_id_fk" FOREIGN KEY ("plant_id") REFERENCES "public"."plants"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "plants" ADD CONSTRAINT "plants_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "plants" ADD CONSTRAINT "plants_species_id_species_id_fk" FOREIGN KEY ("species_id") REFERENCES "public"."species"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "actuators_device_key_idx" ON "actuators" USING btree ("device_id","key");--> statement-breakpoint
CREATE INDEX "actuators_site_id_idx" ON "actuators" USING btree ("site_id");--> statement-breakpoint
CREATE INDEX "sensor_calibrations_sensor_id_idx" ON "sensor_calibrations" USING btree ("sensor_id","changed_at");--> statement-breakpoint
CREATE UNIQUE INDEX "sensors_device_key_idx" ON "sensors" USING btree ("device_id","key");--> statement-breakpoint
CREATE INDEX "sensors_site_id_idx" ON "sensors" USING btree ("site_id");--> statement-breakpoint
CREATE INDEX "sensors_plant_id_idx" ON "sensors" USING btree ("plant_id");--> statement-breakpoint
CREATE INDEX "plants_site_id_idx" ON "plants" USING btree ("site_id");--> statement-breakpoint
CREATE UNIQUE INDEX "devices_site_hardware_id_idx" ON "devices" USING btree ("site_id","hardware_id");