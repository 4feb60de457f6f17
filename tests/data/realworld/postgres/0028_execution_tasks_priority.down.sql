DROP INDEX execution_tasks_queue_idx;
ALTER TABLE execution_tasks DROP COLUMN priority;
DROP TYPE task_priority;
