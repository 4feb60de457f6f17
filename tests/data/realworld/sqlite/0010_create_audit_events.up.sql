CREATE TABLE audit_events (
	id INTEGER PRIMARY KEY,
	org_id INTEGER REFERENCES orgs (id) ON DELETE SET NULL,
	actor_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
	action TEXT NOT NULL,
	target_type TEXT,
	target_id TEXT,
	metadata TEXT NOT NULL DEFAULT '{}',
	created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX audit_events_org_created ON audit_events (org_id, created_at DESC);
