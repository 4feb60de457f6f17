CREATE VIEW org_task_usage AS
SELECT p.org_id AS org_id,
       count(*) AS tasks,
       sum(t.status = 'failed') AS failed,
       max(t.created_at) AS last_task_at
FROM execution_tasks t
JOIN projects p ON p.id = t.project_id
GROUP BY p.org_id;
