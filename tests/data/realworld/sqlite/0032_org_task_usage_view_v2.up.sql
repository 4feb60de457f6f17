DROP VIEW org_task_usage;

CREATE VIEW org_task_usage AS
SELECT p.org_id AS org_id,
       count(*) AS tasks,
       sum(t.status = 'failed') AS failed,
       sum(t.status = 'cancelled') AS cancelled,
       sum(t.input_tokens + t.output_tokens) AS tokens,
       max(t.created_at) AS last_task_at
FROM execution_tasks t
JOIN projects p ON p.id = t.project_id
WHERE p.deleted_at IS NULL
GROUP BY p.org_id;
