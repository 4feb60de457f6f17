-- Drop updated_at and its trigger.
-- ALTER TABLE cannot do this in SQLite: the 12-step rebuild
-- (https://www.sqlite.org/lang_altertable.html#otheralter).
DROP TRIGGER execution_tasks_touch;

CREATE TABLE execution_tasks_new (
	id INTEGER PRIMARY KEY,
	project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
	created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
	status TEXT NOT NULL DEFAULT 'queued'
		CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
	prompt TEXT NOT NULL,
	ai_model TEXT NOT NULL DEFAULT 'gpt-4o',
	created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
	started_at TEXT,
	finished_at TEXT
);

INSERT INTO execution_tasks_new (
	id, project_id, created_by, status, prompt, ai_model, created_at,
	started_at, finished_at)
SELECT id, project_id, created_by, status, prompt, ai_model, created_at,
	started_at, finished_at
FROM execution_tasks;
DROP TABLE execution_tasks;
ALTER TABLE execution_tasks_new RENAME TO execution_tasks;

CREATE INDEX execution_tasks_project_status
	ON execution_tasks (project_id, status);
CREATE INDEX execution_tasks_running
	ON execution_tasks (started_at) WHERE status = 'running';
