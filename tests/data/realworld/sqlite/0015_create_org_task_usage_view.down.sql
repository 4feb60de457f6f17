DROP VIEW org_task_usage;
