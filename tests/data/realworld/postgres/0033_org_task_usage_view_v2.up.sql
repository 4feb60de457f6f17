-- OR REPLACE may only add columns at the end, which is what this does
CREATE OR REPLACE VIEW org_task_usage AS
SELECT p.org_id,
       count(*) AS tasks,
       count(*) FILTER (WHERE t.status = 'failed') AS failed,
       max(t.created_at) AS last_task_at,
       count(*) FILTER (WHERE t.status = 'cancelled') AS cancelled,
       sum(t.input_tokens + t.output_tokens) AS tokens
FROM execution_tasks t
JOIN projects p ON p.id = t.project_id
WHERE p.deleted_at IS NULL
GROUP BY p.org_id;
