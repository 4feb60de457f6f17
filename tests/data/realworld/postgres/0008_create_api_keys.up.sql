CREATE TABLE api_keys (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	org_id uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	name text NOT NULL,
	prefix char(8) NOT NULL,
	hashed_key bytea NOT NULL,
	last_used_at timestamptz,
	revoked_at timestamptz,
	created_at timestamptz NOT NULL DEFAULT now()
);

-- a prefix is unique among live keys only
CREATE UNIQUE INDEX api_keys_prefix_live_key ON api_keys (prefix)
	WHERE revoked_at IS NULL;
CREATE INDEX api_keys_org_id_idx ON api_keys (org_id);
