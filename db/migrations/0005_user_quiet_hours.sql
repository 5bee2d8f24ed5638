ALTER TABLE "users" ADD COLUMN "quiet_start" text;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "quiet_end" text;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "quiet_timezone" text;--> statement-breakpoint
ALTER TABLE "webhook_endpoints" ADD COLUMN "recipient_user_id" uuid;--> statement-breakpoint
ALTER TABLE "webhook_endpoints" ADD CONSTRAINT "webhook_endpoints_recipient_user_id_users_id_fk" FOREIGN KEY ("recipient_user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;