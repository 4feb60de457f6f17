-- The index keeps its old name, as it does in most projects.
ALTER TABLE audit_events RENAME TO audit_log;
