CREATE TABLE webhooks (
	id INTEGER PRIMARY KEY,
	project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
	url TEXT NOT NULL CHECK (url LIKE 'https://%'),
	secret TEXT NOT NULL,
	events TEXT NOT NULL DEFAULT '["task.finished"]',
	active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
	created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX webhooks_project_id ON webhooks (project_id) WHERE active = 1;

CREATE TABLE webhook_deliveries (
	id INTEGER PRIMARY KEY,
	webhook_id INTEGER NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
	task_id INTEGER REFERENCES execution_tasks (id) ON DELETE SET NULL,
	status_code INTEGER,
	attempted_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX webhook_deliveries_webhook_attempted
	ON webhook_deliveries (webhook_id, attempted_at DESC);
