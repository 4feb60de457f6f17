-- The dashboard lists a project's tasks newest first; the status
-- filter only ever asks for live tasks.
DROP INDEX execution_tasks_project_status;
CREATE INDEX execution_tasks_project_created
	ON execution_tasks (project_id, created_at DESC);
CREATE INDEX execution_tasks_status
	ON execution_tasks (status) WHERE status IN ('queued', 'running');
