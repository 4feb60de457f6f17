DROP TRIGGER execution_tasks_set_updated_at ON execution_tasks;
ALTER TABLE execution_tasks DROP COLUMN updated_at;
