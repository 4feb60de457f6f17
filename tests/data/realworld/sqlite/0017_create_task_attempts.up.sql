CREATE TABLE task_attempts (
	task_id INTEGER NOT NULL REFERENCES execution_tasks (id) ON DELETE CASCADE,
	attempt INTEGER NOT NULL CHECK (attempt > 0),
	started_at TEXT NOT NULL,
	finished_at TEXT,
	error TEXT,
	PRIMARY KEY (task_id, attempt)
);
