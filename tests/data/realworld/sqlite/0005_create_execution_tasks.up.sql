-- One prompt run against a model, queued by a user in a project.
CREATE TABLE execution_tasks (
	id INTEGER PRIMARY KEY,
	project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
	created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
	status TEXT NOT NULL DEFAULT 'queued'
		CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
	prompt TEXT NOT NULL,
	ai_model TEXT NOT NULL DEFAULT 'gpt-3.5-turbo',
	created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
	started_at TEXT,
	finished_at TEXT
);

CREATE INDEX execution_tasks_project_status
	ON execution_tasks (project_id, status);
