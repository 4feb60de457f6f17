ALTER TABLE execution_tasks ALTER COLUMN timeout DROP DEFAULT;
ALTER TABLE execution_tasks
	ALTER COLUMN timeout TYPE integer
	USING extract(epoch FROM timeout)::integer;
ALTER TABLE execution_tasks RENAME COLUMN timeout TO timeout_seconds;
ALTER TABLE execution_tasks ALTER COLUMN timeout_seconds SET DEFAULT 600;
