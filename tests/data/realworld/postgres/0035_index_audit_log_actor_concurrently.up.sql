-- ripcord:no-transaction
CREATE INDEX CONCURRENTLY audit_log_actor_idx
	ON audit_log (actor_id, created_at DESC) WHERE actor_id IS NOT NULL;
