ALTER TABLE execution_tasks ADD COLUMN updated_at TEXT;

CREATE TRIGGER execution_tasks_touch AFTER UPDATE ON execution_tasks
FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at
BEGIN
	UPDATE execution_tasks SET updated_at = CURRENT_TIMESTAMP WHERE id = NEW.id;
END;
