-- seconds as an integer become an interval; the old default cannot be
-- cast, so it is dropped first and set again after
ALTER TABLE execution_tasks ALTER COLUMN timeout_seconds DROP DEFAULT;
ALTER TABLE execution_tasks
	ALTER COLUMN timeout_seconds TYPE interval
	USING make_interval(secs => timeout_seconds);
ALTER TABLE execution_tasks RENAME COLUMN timeout_seconds TO timeout;
ALTER TABLE execution_tasks
	ALTER COLUMN timeout SET DEFAULT interval '10 minutes';
