CREATE TABLE "call_idempotency_keys" (
	"organization_id" text NOT NULL,
	"key" text NOT NULL,
	"route" text NOT NULL,
	"request_hash" text NOT NULL,
	"state" text NOT NULL,
	"response_status" integer,
	"response_body" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	CONSTRAINT "call_idempotency_keys_organization_id_key_pk" PRIMARY KEY("organization_id","key")
);
--> statement-breakpoint
CREATE TABLE "call_recordings" (
	"id" text PRIMARY KEY NOT NULL,
	"session_id" text NOT NULL,
	"organization_id" text NOT NULL,
	"channel" text NOT NULL,
	"status" text NOT NULL,
	"format" text DEFAULT 'wav' NOT NULL,
	"channels" integer NOT NULL,
	"sample_rate_hz" integer NOT NULL,
	"duration_ms" integer DEFAULT 0 NOT NULL,
	"size_bytes" bigint DEFAULT 0 NOT NULL,
	"path" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "call_sessions" (
	"id" text PRIMARY KEY NOT NULL,
	"organization_id" text NOT NULL,
	"created_by_key_id" text NOT NULL,
	"mode" text NOT NULL,
	"status" text NOT NULL,
	"source_language" text NOT NULL,
	"target_language" text NOT NULL,
	"provider" json,
	"recording_enabled" boolean DEFAULT false NOT NULL,
	"recording_channels" text DEFAULT 'dual' NOT NULL,
	"transcription" json,
	"ai_agent" json,
	"metadata" json,
	"webhook_url" text,
	"stream_token" text NOT NULL,
	"stream_expires_at" timestamp with time zone NOT NULL,
	"end_reason" text,
	"key_mode" text DEFAULT 'live' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"ended_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "call_transcript_segments" (
	"id" text PRIMARY KEY NOT NULL,
	"session_id" text NOT NULL,
	"sequence" integer NOT NULL,
	"speaker" text NOT NULL,
	"language" text NOT NULL,
	"text" text NOT NULL,
	"translation_language" text,
	"translation" text,
	"start_ms" integer NOT NULL,
	"end_ms" integer NOT NULL,
	"confidence" real,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "call_webhook_attempts" (
	"event_id" text NOT NULL,
	"attempt" integer NOT NULL,
	"status_code" integer,
	"error" text,
	"duration_ms" integer NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "call_webhook_attempts_event_id_attempt_pk" PRIMARY KEY("event_id","attempt")
);
--> statement-breakpoint
CREATE TABLE "call_webhook_endpoints" (
	"id" text PRIMARY KEY NOT NULL,
	"organization_id" text NOT NULL,
	"url" text,
	"secret" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "call_webhook_endpoints_organization_id_unique" UNIQUE("organization_id")
);
--> statement-breakpoint
CREATE TABLE "call_webhook_events" (
	"id" text PRIMARY KEY NOT NULL,
	"organization_id" text NOT NULL,
	"session_id" text,
	"type" text NOT NULL,
	"body" text NOT NULL,
	"url" text NOT NULL,
	"status" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"delivered_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "call_recordings" ADD CONSTRAINT "call_recordings_session_id_call_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."call_sessions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "call_sessions" ADD CONSTRAINT "call_sessions_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "call_transcript_segments" ADD CONSTRAINT "call_transcript_segments_session_id_call_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."call_sessions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "call_webhook_attempts" ADD CONSTRAINT "call_webhook_attempts_event_id_call_webhook_events_id_fk" FOREIGN KEY ("event_id") REFERENCES "public"."call_webhook_events"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "call_webhook_endpoints" ADD CONSTRAINT "call_webhook_endpoints_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "call_idempotency_expires_idx" ON "call_idempotency_keys" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "call_recordings_session_idx" ON "call_recordings" USING btree ("session_id");--> statement-breakpoint
CREATE INDEX "call_sessions_org_idx" ON "call_sessions" USING btree ("organization_id","created_at");--> statement-breakpoint
CREATE INDEX "call_transcript_session_idx" ON "call_transcript_segments" USING btree ("session_id","sequence");--> statement-breakpoint
CREATE INDEX "call_webhook_events_org_idx" ON "call_webhook_events" USING btree ("organization_id","created_at");--> statement-breakpoint
CREATE INDEX "call_webhook_events_due_idx" ON "call_webhook_events" USING btree ("status","next_attempt_at");