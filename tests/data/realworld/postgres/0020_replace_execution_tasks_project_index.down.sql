DROP INDEX execution_tasks_project_created_idx;
CREATE INDEX execution_tasks_project_status_idx
	ON execution_tasks (project_id, status);
