CREATE TABLE "flag_changes" (
	"ring" text NOT NULL,
	"revision" bigint NOT NULL,
	"kind" text NOT NULL,
	"name" text NOT NULL,
	"segment_id" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "flag_changes_ring_revision_kind_name_pk" PRIMARY KEY("ring","revision","kind","name")
);
--> statement-breakpoint
CREATE TABLE "flag_metrics" (
	"flag" text NOT NULL,
	"ring" text NOT NULL,
	"hour" timestamp with time zone NOT NULL,
	"yes" bigint DEFAULT 0 NOT NULL,
	"no" bigint DEFAULT 0 NOT NULL,
	"variants" jsonb DEFAULT '{}'::jsonb NOT NULL,
	CONSTRAINT "flag_metrics_flag_ring_hour_pk" PRIMARY KEY("flag","ring","hour")
);
--> statement-breakpoint
CREATE TABLE "flag_ring_revisions" (
	"ring" text PRIMARY KEY NOT NULL,
	"revision" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "flag_ring_states" (
	"flag_key" text NOT NULL,
	"ring" text NOT NULL,
	"enabled" boolean NOT NULL,
	"strategies" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "flag_ring_states_flag_key_ring_pk" PRIMARY KEY("flag_key","ring")
);
--> statement-breakpoint
CREATE TABLE "flags" (
	"key" text PRIMARY KEY NOT NULL,
	"project" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"type" text NOT NULL,
	"owner" text,
	"tags" text[] DEFAULT '{}' NOT NULL,
	"impression_data" boolean DEFAULT false NOT NULL,
	"stale" boolean DEFAULT false NOT NULL,
	"archived" boolean DEFAULT false NOT NULL,
	"variants" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"dependencies" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sdk_registrations" (
	"ring" text NOT NULL,
	"kind" text NOT NULL,
	"app_name" text NOT NULL,
	"instance_id" text NOT NULL,
	"sdk_version" text,
	"strategies" text[] DEFAULT '{}' NOT NULL,
	"started_at" timestamp with time zone,
	"interval_ms" integer,
	"seen_at" timestamp with time zone NOT NULL,
	CONSTRAINT "sdk_registrations_ring_kind_app_name_instance_id_pk" PRIMARY KEY("ring","kind","app_name","instance_id")
);
--> statement-breakpoint
CREATE TABLE "segments" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "segments_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"constraints" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "api_tokens" ADD COLUMN "ring" text;--> statement-breakpoint
ALTER TABLE "flag_ring_states" ADD CONSTRAINT "flag_ring_states_flag_key_flags_key_fk" FOREIGN KEY ("flag_key") REFERENCES "public"."flags"("key") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "flag_ring_states" ADD CONSTRAINT "flag_ring_states_ring_rings_name_fk" FOREIGN KEY ("ring") REFERENCES "public"."rings"("name") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "flag_ring_states_ring_idx" ON "flag_ring_states" USING btree ("ring");--> statement-breakpoint
CREATE INDEX "flags_project_idx" ON "flags" USING btree ("project");--> statement-breakpoint
CREATE UNIQUE INDEX "segments_name_unique" ON "segments" USING btree ("name");