CREATE TABLE org_settings (
	org_id INTEGER PRIMARY KEY REFERENCES orgs (id) ON DELETE CASCADE,
	default_ai_model TEXT NOT NULL DEFAULT 'gpt-4o',
	max_concurrent_tasks INTEGER NOT NULL DEFAULT 4,
	settings TEXT NOT NULL DEFAULT '{}'
);

INSERT INTO org_settings (org_id) SELECT id FROM orgs;
