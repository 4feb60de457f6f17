-- A task can be cancelled: the CHECK gains a value.
-- ALTER TABLE cannot do this in SQLite: the 12-step rebuild
-- (https://www.sqlite.org/lang_altertable.html#otheralter).
-- The view and the trigger are dropped first: RENAME refuses to
-- leave a view pointing at a table that is gone.
DROP VIEW org_task_usage;
DROP TRIGGER execution_tasks_touch;

CREATE TABLE execution_tasks_new (
	id INTEGER PRIMARY KEY,
	project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
	created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
	status TEXT NOT NULL DEFAULT 'queued'
		CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
	prompt TEXT NOT NULL,
	ai_model TEXT NOT NULL DEFAULT 'gpt-4o' COLLATE NOCASE,
	created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
	started_at TEXT,
	finished_at TEXT,
	updated_at TEXT,
	input_tokens INTEGER NOT NULL DEFAULT 0,
	output_tokens INTEGER NOT NULL DEFAULT 0,
	cost_micros INTEGER,
	priority TEXT NOT NULL DEFAULT 'normal'
		CHECK (priority IN ('low', 'normal', 'high'))
);

INSERT INTO execution_tasks_new (
	id, project_id, created_by, status, prompt, ai_model, created_at,
	started_at, finished_at, updated_at, input_tokens, output_tokens,
	cost_micros, priority)
SELECT id, project_id, created_by, status, prompt, ai_model, created_at,
	started_at, finished_at, updated_at, input_tokens, output_tokens,
	cost_micros, priority
FROM execution_tasks;
DROP TABLE execution_tasks;
ALTER TABLE execution_tasks_new RENAME TO execution_tasks;

CREATE INDEX execution_tasks_running
	ON execution_tasks (started_at) WHERE status = 'running';
CREATE INDEX execution_tasks_ai_model ON execution_tasks (ai_model);
CREATE INDEX execution_tasks_project_created
	ON execution_tasks (project_id, created_at DESC);
CREATE INDEX execution_tasks_status
	ON execution_tasks (status) WHERE status IN ('queued', 'running');
CREATE INDEX execution_tasks_queue
	ON execution_tasks (priority DESC, created_at) WHERE status = 'queued';

CREATE TRIGGER execution_tasks_touch AFTER UPDATE ON execution_tasks
FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at
BEGIN
	UPDATE execution_tasks SET updated_at = CURRENT_TIMESTAMP WHERE id = NEW.id;
END;

CREATE VIEW org_task_usage AS
SELECT p.org_id AS org_id,
       count(*) AS tasks,
       sum(t.status = 'failed') AS failed,
       max(t.created_at) AS last_task_at
FROM execution_tasks t
JOIN projects p ON p.id = t.project_id
GROUP BY p.org_id;
