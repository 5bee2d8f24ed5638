CREATE TYPE "public"."notification_delivery_status" AS ENUM('pending', 'delivered', 'failed');--> statement-breakpoint
CREATE TYPE "public"."automation_event" AS ENUM('fired', 'cleared', 'action', 'skipped', 'failed', 'paused', 'resumed', 'detected');--> statement-breakpoint
CREATE TYPE "public"."automation_missed_run_policy" AS ENUM('skip', 'catch_up');--> statement-breakpoint
CREATE TYPE "public"."automation_aggregate" AS ENUM('avg', 'min', 'max');--> statement-breakpoint
CREATE TYPE "public"."automation_rule_comparison" AS ENUM('below', 'above');--> statement-breakpoint
CREATE TYPE "public"."automation_rule_kind" AS ENUM('threshold', 'aggregate', 'offline', 'battery');--> statement-breakpoint
CREATE TYPE "public"."automation_rule_status" AS ENUM('clear', 'pending', 'firing');--> statement-breakpoint
CREATE TYPE "public"."automation_threshold_from" AS ENUM('value', 'plant_min', 'plant_max');--> statement-breakpoint
CREATE TYPE "public"."watering_check_status" AS ENUM('waiting', 'rose', 'did_not_rise', 'command_failed');--> statement-breakpoint
CREATE TABLE "notification_deliveries" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"seq" bigserial NOT NULL,
	"site_id" uuid NOT NULL,
	"endpoint_id" uuid NOT NULL,
	"event" text NOT NULL,
	"severity" "alert_severity" NOT NULL,
	"dedup_key" text,
	"payload" jsonb NOT NULL,
	"status" "notification_delivery_status" DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone NOT NULL,
	"held_until" timestamp with time zone,
	"locked_until" timestamp with time zone,
	"last_status" integer,
	"last_error" text,
	"last_attempt_at" timestamp with time zone,
	"delivered_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "webhook_endpoints" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"site_id" uuid NOT NULL,
	"name" text NOT NULL,
	"url" text NOT NULL,
	"secret" text NOT NULL,
	"secret_hint" text NOT NULL,
	"events" text[] NOT NULL,
	"min_severity" "alert_severity" DEFAULT 'info' NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"quiet_start" text,
	"quiet_end" text,
	"critical_bypasses_quiet" boolean DEFAULT true NOT NULL,
	"digest_time" text,
	"created_by" uuid,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "automation_log" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"site_id" uuid NOT NULL,
	"rule_id" uuid,
	"schedule_id" uuid,
	"plant_id" uuid,
	"subject" text,
	"event" "automation_event" NOT NULL,
	"message" text NOT NULL,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "automation_rule_states" (
	"rule_id" uuid NOT NULL,
	"subject" text NOT NULL,
	"status" "automation_rule_status" NOT NULL,
	"pending_since" timestamp with time zone,
	"sample_at" timestamp with time zone,
	"last_value" double precision,
	"firings" integer DEFAULT 0 NOT NULL,
	"changed_at" timestamp with time zone NOT NULL,
	"version" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "automation_rule_states_rule_id_subject_pk" PRIMARY KEY("rule_id","subject")
);
--> statement-breakpoint
CREATE TABLE "automation_rules" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"site_id" uuid NOT NULL,
	"name" text NOT NULL,
	"kind" "automation_rule_kind" NOT NULL,
	"plant_id" uuid,
	"sensor_id" uuid,
	"device_id" uuid,
	"metric" text,
	"comparison" "automation_rule_comparison",
	"threshold_from" "automation_threshold_from",
	"threshold" double precision,
	"hysteresis" double precision DEFAULT 0 NOT NULL,
	"min_duration_seconds" integer DEFAULT 0 NOT NULL,
	"aggregate" "automation_aggregate",
	"window_minutes" integer,
	"stale_factor" double precision,
	"battery_days" double precision,
	"actions" jsonb NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"created_by" uuid,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "automation_rules_one_target" CHECK ((case when "automation_rules"."plant_id" is null then 0 else 1 end) + (case when "automation_rules"."sensor_id" is null then 0 else 1 end) + (case when "automation_rules"."device_id" is null then 0 else 1 end) = 1)
);
--> statement-breakpoint
CREATE TABLE "automation_schedules" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"site_id" uuid NOT NULL,
	"name" text NOT NULL,
	"plant_id" uuid,
	"starts_at" timestamp with time zone NOT NULL,
	"rrule" text NOT NULL,
	"missed_run_policy" "automation_missed_run_policy" DEFAULT 'skip' NOT NULL,
	"actions" jsonb NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"last_run_at" timestamp with time zone,
	"next_run_at" timestamp with time zone,
	"created_by" uuid,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "watering_checks" (
	"watering_id" uuid PRIMARY KEY NOT NULL,
	"site_id" uuid NOT NULL,
	"plant_id" uuid NOT NULL,
	"command_id" uuid NOT NULL,
	"moisture_before" double precision,
	"status" "watering_check_status" DEFAULT 'waiting' NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"checked_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "watering_safety" (
	"plant_id" uuid PRIMARY KEY NOT NULL,
	"site_id" uuid NOT NULL,
	"cooldown_minutes" integer NOT NULL,
	"daily_volume_cap_ml" double precision,
	"rise_window_minutes" integer NOT NULL,
	"min_rise" double precision NOT NULL,
	"detect_jump" double precision NOT NULL,
	"auto_watering_paused" boolean DEFAULT false NOT NULL,
	"paused_reason" text,
	"paused_at" timestamp with time zone,
	"detection_scanned_until" timestamp with time zone,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "notification_deliveries" ADD CONSTRAINT "notification_deliveries_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "notification_deliveries" ADD CONSTRAINT "notification_deliveries_endpoint_id_webhook_endpoints_id_fk" FOREIGN KEY ("endpoint_id") REFERENCES "public"."webhook_endpoints"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhook_endpoints" ADD CONSTRAINT "webhook_endpoints_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhook_endpoints" ADD CONSTRAINT "webhook_endpoints_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "automation_log" ADD CONSTRAINT "automation_log_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "automation_log" ADD CONSTRAINT "automation_log_rule_id_automation_rules_id_fk" FOREIGN KEY ("rule_id") REFERENCES "public"."automation_rules"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "automation_log" ADD CONSTRAINT "automation_log_schedule_id_automation_schedules_id_fk" FOREIGN KEY ("schedule_id") REFERENCES "public"."automation_schedules"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "automation_log" ADD CONSTRAINT "automation_log_plant_id_plants_id_fk" FOREIGN KEY ("plant_id") REFERENCES "public"."plants"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "automation_rule_states" ADD CONSTRAINT "automation_rule_states_rule_id_automation_rules_id_fk" FOREIGN KEY ("rule_id") REFERENCES "public"."automation_rules"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "automation_rules" ADD CONSTRAINT "automation_rules_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "automation_rules" ADD CONSTRAINT "automation_rules_plant_id_plants_id_fk" FOREIGN KEY ("plant_id") REFERENCES "public"."plants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "automation_rules" ADD CONSTRAINT "automation_rules_sensor_id_sensors_id_fk" FOREIGN KEY ("sensor_id") REFERENCES "public"."sensors"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "automation_rules" ADD CONSTRAINT "automation_rules_device_id_devices_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."devices"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "automation_rules" ADD CONSTRAINT "automation_rules_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "automation_schedules" ADD CONSTRAINT "automation_schedules_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "automation_schedules" ADD CONSTRAINT "automation_schedules_plant_id_plants_id_fk" FOREIGN KEY ("plant_id") REFERENCES "public"."plants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "automation_schedules" ADD CONSTRAINT "automation_schedules_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "watering_checks" ADD CONSTRAINT "watering_checks_watering_id_waterings_id_fk" FOREIGN KEY ("watering_id") REFERENCES "public"."waterings"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "watering_checks" ADD CONSTRAINT "watering_checks_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "watering_checks" ADD CONSTRAINT "watering_checks_plant_id_plants_id_fk" FOREIGN KEY ("plant_id") REFERENCES "public"."plants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "watering_checks" ADD CONSTRAINT "watering_checks_command_id_commands_id_fk" FOREIGN KEY ("command_id") REFERENCES "public"."commands"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "watering_safety" ADD CONSTRAINT "watering_safety_plant_id_plants_id_fk" FOREIGN KEY ("plant_id") REFERENCES "public"."plants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "watering_safety" ADD CONSTRAINT "watering_safety_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "notification_deliveries_due_idx" ON "notification_deliveries" USING btree ("status","next_attempt_at");--> statement-breakpoint
CREATE INDEX "notification_deliveries_site_created_idx" ON "notification_deliveries" USING btree ("site_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "notification_deliveries_dedup_idx" ON "notification_deliveries" USING btree ("endpoint_id","dedup_key");--> statement-breakpoint
CREATE INDEX "webhook_endpoints_site_idx" ON "webhook_endpoints" USING btree ("site_id");--> statement-breakpoint
CREATE INDEX "automation_log_site_at_idx" ON "automation_log" USING btree ("site_id","at");--> statement-breakpoint
CREATE INDEX "automation_log_plant_at_idx" ON "automation_log" USING btree ("plant_id","at");--> statement-breakpoint
CREATE INDEX "automation_rules_site_idx" ON "automation_rules" USING btree ("site_id");--> statement-breakpoint
CREATE INDEX "automation_schedules_site_idx" ON "automation_schedules" USING btree ("site_id");--> statement-breakpoint
CREATE INDEX "automation_schedules_next_run_idx" ON "automation_schedules" USING btree ("next_run_at");--> statement-breakpoint
CREATE INDEX "watering_checks_status_idx" ON "watering_checks" USING btree ("status");