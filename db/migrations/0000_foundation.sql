CREATE TABLE "sites" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"timezone" text DEFAULT 'UTC' NOT NULL,
	"is_demo" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "species" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"slug" text NOT NULL,
	"scientific_name" text NOT NULL,
	"common_names" text[] NOT NULL,
	"family" text NOT NULL,
	"category" text NOT NULL,
	"soil_moisture_min" double precision NOT NULL,
	"soil_moisture_max" double precision NOT NULL,
	"temperature_min" double precision NOT NULL,
	"temperature_max" double precision NOT NULL,
	"humidity_min" double precision NOT NULL,
	"humidity_max" double precision NOT NULL,
	"light_lux_min" double precision NOT NULL,
	"light_lux_max" double precision NOT NULL,
	"dli_min" double precision NOT NULL,
	"dli_max" double precision NOT NULL,
	"watering_interval_days" integer NOT NULL,
	"ec_min" double precision NOT NULL,
	"ec_max" double precision NOT NULL,
	"toxic_to_pets" boolean NOT NULL,
	"care_notes" text NOT NULL,
	"search_text" text NOT NULL,
	CONSTRAINT "species_slug_unique" UNIQUE("slug")
);
--> statement-breakpoint
CREATE INDEX "species_scientific_name_idx" ON "species" USING btree ("scientific_name");