CREATE TABLE "sensor_assignments" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"site_id" uuid NOT NULL,
	"sensor_id" uuid NOT NULL,
	"plant_id" uuid NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"ended_at" timestamp with time zone,
	"assigned_by" uuid,
	"ended_by" uuid,
	CONSTRAINT "sensor_assignments_ordered" CHECK ("sensor_assignments"."ended_at" is null or "sensor_assignments"."ended_at" >= "sensor_assignments"."started_at")
);
--> statement-breakpoint
CREATE TABLE "sensor_metric_periods" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"site_id" uuid NOT NULL,
	"sensor_id" uuid NOT NULL,
	"metric" text NOT NULL,
	"unit" text NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"ended_at" timestamp with time zone NOT NULL,
	"changed_by" uuid,
	CONSTRAINT "sensor_metric_periods_ordered" CHECK ("sensor_metric_periods"."ended_at" >= "sensor_metric_periods"."started_at")
);
--> statement-breakpoint
ALTER TABLE "species" DROP CONSTRAINT "species_slug_unique";--> statement-breakpoint
ALTER TABLE "care_tasks" ADD COLUMN "care_plan_line" text;--> statement-breakpoint
ALTER TABLE "plants" ADD COLUMN "repotted_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "species" ADD COLUMN "site_id" uuid;--> statement-breakpoint
ALTER TABLE "species" ADD COLUMN "ph_min" double precision;--> statement-breakpoint
ALTER TABLE "species" ADD COLUMN "ph_max" double precision;--> statement-breakpoint
ALTER TABLE "species" ADD COLUMN "fertilize_interval_days" integer;--> statement-breakpoint
ALTER TABLE "species" ADD COLUMN "repot_interval_months" integer;--> statement-breakpoint
ALTER TABLE "sensor_assignments" ADD CONSTRAINT "sensor_assignments_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sensor_assignments" ADD CONSTRAINT "sensor_assignments_sensor_id_sensors_id_fk" FOREIGN KEY ("sensor_id") REFERENCES "public"."sensors"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sensor_assignments" ADD CONSTRAINT "sensor_assignments_plant_id_plants_id_fk" FOREIGN KEY ("plant_id") REFERENCES "public"."plants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sensor_assignments" ADD CONSTRAINT "sensor_assignments_assigned_by_users_id_fk" FOREIGN KEY ("assigned_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sensor_assignments" ADD CONSTRAINT "sensor_assignments_ended_by_users_id_fk" FOREIGN KEY ("ended_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sensor_metric_periods" ADD CONSTRAINT "sensor_metric_periods_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sensor_metric_periods" ADD CONSTRAINT "sensor_metric_periods_sensor_id_sensors_id_fk" FOREIGN KEY ("sensor_id") REFERENCES "public"."sensors"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sensor_metric_periods" ADD CONSTRAINT "sensor_metric_periods_changed_by_users_id_fk" FOREIGN KEY ("changed_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "sensor_assignments_sensor_idx" ON "sensor_assignments" USING btree ("sensor_id","started_at");--> statement-breakpoint
CREATE INDEX "sensor_assignments_plant_idx" ON "sensor_assignments" USING btree ("plant_id","started_at");--> statement-breakpoint
CREATE INDEX "sensor_assignments_site_idx" ON "sensor_assignments" USING btree ("site_id");--> statement-breakpoint
CREATE UNIQUE INDEX "sensor_assignments_open_idx" ON "sensor_assignments" USING btree ("sensor_id") WHERE "sensor_assignments"."ended_at" is null;--> statement-breakpoint
CREATE INDEX "sensor_metric_periods_sensor_idx" ON "sensor_metric_periods" USING btree ("sensor_id","ended_at");--> statement-breakpoint
CREATE INDEX "sensor_metric_periods_site_idx" ON "sensor_metric_periods" USING btree ("site_id");--> statement-breakpoint
ALTER TABLE "species" ADD CONSTRAINT "species_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "care_tasks_plan_line_idx" ON "care_tasks" USING btree ("plant_id","care_plan_line");--> statement-breakpoint
CREATE UNIQUE INDEX "species_catalog_slug_idx" ON "species" USING btree ("slug") WHERE "species"."site_id" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "species_site_slug_idx" ON "species" USING btree ("site_id","slug") WHERE "species"."site_id" is not null;