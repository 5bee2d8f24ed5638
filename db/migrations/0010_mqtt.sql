CREATE TABLE "device_presence" (
	"device_id" uuid PRIMARY KEY NOT NULL,
	"state" text NOT NULL,
	"changed_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "mqtt_bindings" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"site_id" uuid NOT NULL,
	"device_id" uuid NOT NULL,
	"preset" text NOT NULL,
	"prefix" text DEFAULT '' NOT NULL,
	"base" text NOT NULL,
	"mapping" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "mqtt_deliveries" (
	"session" text NOT NULL,
	"message_id" integer NOT NULL,
	"digest" text NOT NULL,
	"batch_id" text NOT NULL,
	"ts" bigint NOT NULL,
	"received_at" timestamp with time zone NOT NULL,
	CONSTRAINT "mqtt_deliveries_session_message_id_pk" PRIMARY KEY("session","message_id")
);
--> statement-breakpoint
CREATE TABLE "mqtt_discovered" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"site_id" uuid NOT NULL,
	"preset" text NOT NULL,
	"prefix" text DEFAULT '' NOT NULL,
	"base" text NOT NULL,
	"topic" text NOT NULL,
	"sample" text NOT NULL,
	"messages" integer DEFAULT 0 NOT NULL,
	"first_seen_at" timestamp with time zone NOT NULL,
	"last_seen_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "device_presence" ADD CONSTRAINT "device_presence_device_id_devices_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."devices"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "mqtt_bindings" ADD CONSTRAINT "mqtt_bindings_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "mqtt_bindings" ADD CONSTRAINT "mqtt_bindings_device_id_devices_id_fk" FOREIGN KEY ("device_id") REFERENCES "public"."devices"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "mqtt_discovered" ADD CONSTRAINT "mqtt_discovered_site_id_sites_id_fk" FOREIGN KEY ("site_id") REFERENCES "public"."sites"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "mqtt_bindings_target_idx" ON "mqtt_bindings" USING btree ("site_id","preset","prefix","base");--> statement-breakpoint
CREATE INDEX "mqtt_bindings_device_idx" ON "mqtt_bindings" USING btree ("device_id");--> statement-breakpoint
CREATE INDEX "mqtt_deliveries_received_idx" ON "mqtt_deliveries" USING btree ("received_at");--> statement-breakpoint
CREATE UNIQUE INDEX "mqtt_discovered_target_idx" ON "mqtt_discovered" USING btree ("site_id","preset","prefix","base");--> statement-breakpoint
CREATE INDEX "mqtt_discovered_site_seen_idx" ON "mqtt_discovered" USING btree ("site_id","last_seen_at");