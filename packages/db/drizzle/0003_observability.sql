CREATE TABLE "incidents" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"service_id" uuid NOT NULL,
	"severity" text NOT NULL,
	"title" text NOT NULL,
	"ring" text,
	"scale_units" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"traffic_share" double precision NOT NULL,
	"release_id" bigint,
	"halt_id" bigint,
	"started_at" timestamp with time zone NOT NULL,
	"detected_at" timestamp with time zone NOT NULL,
	"mitigated_at" timestamp with time zone,
	"resolved_at" timestamp with time zone,
	"review_url" text,
	"notes" text DEFAULT '' NOT NULL,
	"created_by" text NOT NULL,
	"trace_id" text DEFAULT replace(gen_random_uuid()::text, '-', '') NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rollout_spans" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"trace_id" text NOT NULL,
	"span_id" text NOT NULL,
	"parent_span_id" text,
	"step" text NOT NULL,
	"name" text NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"ended_at" timestamp with time zone NOT NULL,
	"status" text NOT NULL,
	"error_type" text,
	"status_message" text,
	"facts" jsonb NOT NULL,
	"links" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"lease_until" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "deployments" ADD COLUMN "requested_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
ALTER TABLE "release_stages" ADD COLUMN "state_since" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "release_stages" ADD COLUMN "wave_started_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "releases" ADD COLUMN "trace_id" text DEFAULT replace(gen_random_uuid()::text, '-', '') NOT NULL;--> statement-breakpoint
ALTER TABLE "releases" ADD COLUMN "incident_id" bigint;--> statement-breakpoint
ALTER TABLE "scale_units" ADD COLUMN "traffic_weight" double precision DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "incidents" ADD CONSTRAINT "incidents_service_id_services_id_fk" FOREIGN KEY ("service_id") REFERENCES "public"."services"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "incidents" ADD CONSTRAINT "incidents_release_id_releases_id_fk" FOREIGN KEY ("release_id") REFERENCES "public"."releases"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "incidents" ADD CONSTRAINT "incidents_halt_id_halts_id_fk" FOREIGN KEY ("halt_id") REFERENCES "public"."halts"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "incidents_service_id_detected_at_idx" ON "incidents" USING btree ("service_id","detected_at");--> statement-breakpoint
CREATE INDEX "incidents_release_id_idx" ON "incidents" USING btree ("release_id");--> statement-breakpoint
CREATE UNIQUE INDEX "rollout_spans_trace_id_span_id_unique" ON "rollout_spans" USING btree ("trace_id","span_id");--> statement-breakpoint
CREATE INDEX "rollout_spans_lease_until_idx" ON "rollout_spans" USING btree ("lease_until");--> statement-breakpoint
ALTER TABLE "releases" ADD CONSTRAINT "releases_incident_id_incidents_id_fk" FOREIGN KEY ("incident_id") REFERENCES "public"."incidents"("id") ON DELETE set null ON UPDATE no action;