CREATE TABLE task_attempts (
	task_id bigint NOT NULL REFERENCES execution_tasks (id) ON DELETE CASCADE,
	attempt smallint NOT NULL CHECK (attempt > 0),
	started_at timestamptz NOT NULL DEFAULT now(),
	finished_at timestamptz,
	error text,
	PRIMARY KEY (task_id, attempt)
);
