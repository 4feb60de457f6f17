-- PostgreSQL cannot drop an enum value: the type is rebuilt without it,
-- and what compares status with a literal (a partial index, the view)
-- is dropped first and made again after.
UPDATE execution_tasks SET status = 'failed' WHERE status = 'cancelled';

DROP VIEW org_task_usage;
DROP INDEX execution_tasks_running_idx;

ALTER TYPE task_status RENAME TO task_status_old;
CREATE TYPE task_status AS ENUM ('queued', 'running', 'succeeded', 'failed');
ALTER TABLE execution_tasks ALTER COLUMN status DROP DEFAULT;
ALTER TABLE execution_tasks
	ALTER COLUMN status TYPE task_status USING status::text::task_status;
ALTER TABLE execution_tasks ALTER COLUMN status SET DEFAULT 'queued';
DROP TYPE task_status_old;

CREATE INDEX execution_tasks_running_idx
	ON execution_tasks (started_at) WHERE status = 'running';

CREATE VIEW org_task_usage AS
SELECT p.org_id,
       count(*) AS tasks,
       count(*) FILTER (WHERE t.status = 'failed') AS failed,
       max(t.created_at) AS last_task_at
FROM execution_tasks t
JOIN projects p ON p.id = t.project_id
GROUP BY p.org_id;
