-- ripcord:no-transaction
-- Built without blocking writes to a busy table. CONCURRENTLY cannot run
-- inside a transaction, hence the marker.
CREATE INDEX CONCURRENTLY execution_tasks_running_idx
	ON execution_tasks (started_at) WHERE status = 'running';
