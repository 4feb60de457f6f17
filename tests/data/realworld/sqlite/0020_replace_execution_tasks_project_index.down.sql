DROP INDEX execution_tasks_status;
DROP INDEX execution_tasks_project_created;
CREATE INDEX execution_tasks_project_status
	ON execution_tasks (project_id, status);
