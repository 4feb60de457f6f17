ALTER TABLE execution_tasks ADD COLUMN priority TEXT NOT NULL DEFAULT 'normal'
	CHECK (priority IN ('low', 'normal', 'high'));
CREATE INDEX execution_tasks_queue
	ON execution_tasks (priority DESC, created_at) WHERE status = 'queued';
