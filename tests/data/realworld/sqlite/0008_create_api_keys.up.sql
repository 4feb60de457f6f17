CREATE TABLE api_keys (
	id INTEGER PRIMARY KEY,
	org_id INTEGER NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	name TEXT NOT NULL,
	prefix TEXT NOT NULL,
	hashed_key BLOB NOT NULL,
	last_used_at TEXT,
	revoked_at TEXT,
	created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE UNIQUE INDEX api_keys_prefix ON api_keys (prefix);
-- only live keys are looked up by org
CREATE INDEX api_keys_org_id ON api_keys (org_id) WHERE revoked_at IS NULL;
