CREATE TYPE "public"."watering_paused_by" AS ENUM('user', 'engine');--> statement-breakpoint
ALTER TYPE "public"."automation_rule_kind" ADD VALUE 'daily_light';--> statement-breakpoint
ALTER TABLE "alerts" ADD COLUMN "rule_id" uuid;--> statement-breakpoint
ALTER TABLE "alerts" ADD COLUMN "metric" text;--> statement-breakpoint
ALTER TABLE "alerts" ADD COLUMN "triggered_value" double precision;--> statement-breakpoint
ALTER TABLE "alerts" ADD COLUMN "bound" double precision;--> statement-breakpoint
ALTER TABLE "alerts" ADD COLUMN "direction" "automation_rule_comparison";--> statement-breakpoint
ALTER TABLE "alerts" ADD COLUMN "first_value" double precision;--> statement-breakpoint
ALTER TABLE "alerts" ADD COLUMN "last_value" double precision;--> statement-breakpoint
ALTER TABLE "alerts" ADD COLUMN "last_value_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "sites" ADD COLUMN "built_in_rules" boolean DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE "automation_rules" ADD COLUMN "built_in" text;--> statement-breakpoint
ALTER TABLE "watering_safety" ADD COLUMN "paused_by" "watering_paused_by";--> statement-breakpoint
ALTER TABLE "watering_safety" ADD COLUMN "paused_by_user" uuid;--> statement-breakpoint
ALTER TABLE "watering_safety" ADD COLUMN "paused_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "alerts" ADD CONSTRAINT "alerts_rule_id_automation_rules_id_fk" FOREIGN KEY ("rule_id") REFERENCES "public"."automation_rules"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "watering_safety" ADD CONSTRAINT "watering_safety_paused_by_user_users_id_fk" FOREIGN KEY ("paused_by_user") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "alerts_site_plant_created_idx" ON "alerts" USING btree ("site_id","plant_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "automation_rules_built_in_idx" ON "automation_rules" USING btree ("plant_id","built_in") WHERE "automation_rules"."built_in" is not null;