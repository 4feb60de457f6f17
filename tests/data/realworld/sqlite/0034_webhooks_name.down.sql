-- Webhooks lose their name.
-- A hand-written rebuild as SQLite's documentation shows it: its
-- own transaction, foreign keys off around it.
PRAGMA foreign_keys = OFF;
BEGIN TRANSACTION;

CREATE TABLE webhooks_new (
	id INTEGER PRIMARY KEY,
	project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
	url TEXT NOT NULL CHECK (url LIKE 'https://%'),
	secret TEXT NOT NULL,
	events TEXT NOT NULL DEFAULT '["task.finished"]',
	active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
	created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);

INSERT INTO webhooks_new (id, project_id, url, secret, events, active, created_at)
	SELECT id, project_id, url, secret, events, active, created_at FROM webhooks;
DROP TABLE webhooks;
ALTER TABLE webhooks_new RENAME TO webhooks;
CREATE INDEX webhooks_project_id ON webhooks (project_id) WHERE active = 1;

PRAGMA foreign_key_check;
COMMIT;
PRAGMA foreign_keys = ON;
