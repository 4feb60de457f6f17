ALTER TABLE projects ADD COLUMN deleted_at TEXT;
CREATE INDEX projects_live ON projects (org_id) WHERE deleted_at IS NULL;
