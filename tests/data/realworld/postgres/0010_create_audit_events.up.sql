CREATE TABLE audit_events (
	id bigserial PRIMARY KEY,
	org_id uuid REFERENCES orgs (id) ON DELETE SET NULL,
	actor_id bigint REFERENCES users (id) ON DELETE SET NULL,
	action text NOT NULL,
	target_type text,
	target_id text,
	metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
	created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX audit_events_org_created_idx
	ON audit_events (org_id, created_at DESC);
CREATE INDEX audit_events_metadata_idx
	ON audit_events USING gin (metadata jsonb_path_ops);
