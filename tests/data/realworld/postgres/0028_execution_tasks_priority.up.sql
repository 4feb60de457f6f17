CREATE TYPE task_priority AS ENUM ('low', 'normal', 'high');

ALTER TABLE execution_tasks
	ADD COLUMN priority task_priority NOT NULL DEFAULT 'normal';

CREATE INDEX execution_tasks_queue_idx
	ON execution_tasks (priority DESC, created_at) WHERE status = 'queued';
