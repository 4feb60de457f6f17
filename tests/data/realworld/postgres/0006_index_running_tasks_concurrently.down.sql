DROP INDEX CONCURRENTLY IF EXISTS execution_tasks_running_idx;
