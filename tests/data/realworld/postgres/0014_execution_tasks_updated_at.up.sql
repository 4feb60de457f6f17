ALTER TABLE execution_tasks
	ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

CREATE TRIGGER execution_tasks_set_updated_at BEFORE UPDATE ON execution_tasks
	FOR EACH ROW EXECUTE FUNCTION set_updated_at();
