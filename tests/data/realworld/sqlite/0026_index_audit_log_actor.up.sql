CREATE INDEX audit_log_actor ON audit_log (actor_id, created_at DESC)
	WHERE actor_id IS NOT NULL;
