-- its indexes, constraints and sequence keep their names, as they do in
-- most projects
ALTER TABLE audit_events RENAME TO audit_log;
