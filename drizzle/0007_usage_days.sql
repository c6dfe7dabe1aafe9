CREATE TABLE "usage_days" (
	"organization_id" text NOT NULL,
	"day" date NOT NULL,
	"live_ms" bigint DEFAULT 0 NOT NULL,
	"test_ms" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "usage_days_organization_id_day_pk" PRIMARY KEY("organization_id","day")
);
--> statement-breakpoint
ALTER TABLE "usage_days" ADD CONSTRAINT "usage_days_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;