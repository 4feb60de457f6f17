-- A user's tasks on their profile page.
CREATE INDEX IF NOT EXISTS execution_tasks_created_by
	ON execution_tasks (created_by);
