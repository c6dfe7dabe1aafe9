ALTER TABLE "organizations" ADD COLUMN "tier" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "organizations" ADD COLUMN "minutes_balance_ms" bigint;--> statement-breakpoint
ALTER TABLE "organizations" ADD COLUMN "max_concurrent_streams" integer;--> statement-breakpoint
ALTER TABLE "organizations" ADD CONSTRAINT "organizations_tier_check" CHECK ("organizations"."tier" >= 0);--> statement-breakpoint
ALTER TABLE "organizations" ADD CONSTRAINT "organizations_max_concurrent_streams_check" CHECK ("organizations"."max_concurrent_streams" >= 0);