CREATE TABLE "health_reports" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"scale_unit" text NOT NULL,
	"service" text NOT NULL,
	"status" text NOT NULL,
	"signals" jsonb NOT NULL,
	"reported_by" text NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "installed_versions" (
	"service" text NOT NULL,
	"scale_unit" text NOT NULL,
	"version" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "installed_versions_service_scale_unit_pk" PRIMARY KEY("service","scale_unit")
);
--> statement-breakpoint
CREATE TABLE "freeze_windows" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"scope" text NOT NULL,
	"target" text,
	"starts_at" timestamp with time zone,
	"ends_at" timestamp with time zone,
	"schedule" jsonb,
	"reason" text NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "halts" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"scope" text NOT NULL,
	"target" text,
	"reason" text NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"lifted_by" text,
	"lifted_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "approvals" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"release_id" bigint NOT NULL,
	"stage_id" bigint NOT NULL,
	"ring" text NOT NULL,
	"gate" text NOT NULL,
	"subject" text NOT NULL,
	"role" text NOT NULL,
	"decision" text NOT NULL,
	"comment" text DEFAULT '' NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "deployments" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"release_id" bigint NOT NULL,
	"stage_id" bigint NOT NULL,
	"ring" text NOT NULL,
	"service" text NOT NULL,
	"scale_unit" text NOT NULL,
	"wave" integer NOT NULL,
	"kind" text NOT NULL,
	"version" text,
	"previous_version" text,
	"state" text NOT NULL,
	"attempt" integer DEFAULT 1 NOT NULL,
	"message" text,
	"logs_url" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "release_stages" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"release_id" bigint NOT NULL,
	"position" integer NOT NULL,
	"ring" text NOT NULL,
	"ring_order" integer NOT NULL,
	"policy" jsonb NOT NULL,
	"waves" jsonb NOT NULL,
	"state" text NOT NULL,
	"current_wave" integer DEFAULT -1 NOT NULL,
	"gate" text,
	"started_at" timestamp with time zone,
	"deployed_at" timestamp with time zone,
	"bake_until" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"freeze_override" jsonb
);
--> statement-breakpoint
CREATE TABLE "releases" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"service_id" uuid NOT NULL,
	"version" text NOT NULL,
	"commit" text,
	"commit_time" timestamp with time zone,
	"build_url" text,
	"notes" text DEFAULT '' NOT NULL,
	"kind" text NOT NULL,
	"reason" text,
	"requester" text NOT NULL,
	"ring_from" text NOT NULL,
	"ring_to" text NOT NULL,
	"state" text NOT NULL,
	"halt" jsonb,
	"outcome" text,
	"next_check_at" timestamp with time zone,
	"lease_owner" text,
	"lease_until" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "webhook_deliveries" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"webhook_id" bigint NOT NULL,
	"event" text NOT NULL,
	"payload" jsonb NOT NULL,
	"state" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"lease_until" timestamp with time zone,
	"last_status" integer,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"delivered_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "webhooks" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"service_id" uuid NOT NULL,
	"url" text NOT NULL,
	"secret" text NOT NULL,
	"events" text[] DEFAULT '{}' NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"disabled_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "approvals" ADD CONSTRAINT "approvals_release_id_releases_id_fk" FOREIGN KEY ("release_id") REFERENCES "public"."releases"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "approvals" ADD CONSTRAINT "approvals_stage_id_release_stages_id_fk" FOREIGN KEY ("stage_id") REFERENCES "public"."release_stages"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deployments" ADD CONSTRAINT "deployments_release_id_releases_id_fk" FOREIGN KEY ("release_id") REFERENCES "public"."releases"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deployments" ADD CONSTRAINT "deployments_stage_id_release_stages_id_fk" FOREIGN KEY ("stage_id") REFERENCES "public"."release_stages"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "release_stages" ADD CONSTRAINT "release_stages_release_id_releases_id_fk" FOREIGN KEY ("release_id") REFERENCES "public"."releases"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "releases" ADD CONSTRAINT "releases_service_id_services_id_fk" FOREIGN KEY ("service_id") REFERENCES "public"."services"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_webhook_id_webhooks_id_fk" FOREIGN KEY ("webhook_id") REFERENCES "public"."webhooks"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhooks" ADD CONSTRAINT "webhooks_service_id_services_id_fk" FOREIGN KEY ("service_id") REFERENCES "public"."services"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "health_reports_service_scale_unit_at_idx" ON "health_reports" USING btree ("service","scale_unit","at");--> statement-breakpoint
CREATE INDEX "halts_active_idx" ON "halts" USING btree ("id") WHERE "halts"."lifted_at" is null;--> statement-breakpoint
CREATE INDEX "approvals_stage_id_idx" ON "approvals" USING btree ("stage_id");--> statement-breakpoint
CREATE INDEX "approvals_release_id_idx" ON "approvals" USING btree ("release_id");--> statement-breakpoint
CREATE UNIQUE INDEX "deployments_stage_id_scale_unit_kind_unique" ON "deployments" USING btree ("stage_id","scale_unit","kind");--> statement-breakpoint
CREATE INDEX "deployments_scale_unit_state_idx" ON "deployments" USING btree ("scale_unit","state");--> statement-breakpoint
CREATE INDEX "deployments_release_id_idx" ON "deployments" USING btree ("release_id");--> statement-breakpoint
CREATE INDEX "deployments_stage_id_wave_idx" ON "deployments" USING btree ("stage_id","wave");--> statement-breakpoint
CREATE UNIQUE INDEX "release_stages_release_id_position_unique" ON "release_stages" USING btree ("release_id","position");--> statement-breakpoint
CREATE INDEX "release_stages_ring_state_idx" ON "release_stages" USING btree ("ring","state");--> statement-breakpoint
CREATE INDEX "releases_service_id_state_idx" ON "releases" USING btree ("service_id","state");--> statement-breakpoint
CREATE INDEX "releases_state_next_check_at_idx" ON "releases" USING btree ("state","next_check_at");--> statement-breakpoint
CREATE INDEX "webhook_deliveries_state_next_attempt_at_idx" ON "webhook_deliveries" USING btree ("state","next_attempt_at");--> statement-breakpoint
CREATE INDEX "webhook_deliveries_webhook_id_idx" ON "webhook_deliveries" USING btree ("webhook_id");--> statement-breakpoint
CREATE INDEX "webhooks_service_id_idx" ON "webhooks" USING btree ("service_id");