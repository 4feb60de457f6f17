-- The scheduler's sweep for stuck tasks: a partial index.
CREATE INDEX execution_tasks_running
	ON execution_tasks (started_at) WHERE status = 'running';
