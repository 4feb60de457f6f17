-- the dashboard lists a project's tasks newest first
DROP INDEX execution_tasks_project_status_idx;
CREATE INDEX execution_tasks_project_created_idx
	ON execution_tasks (project_id, created_at DESC);
