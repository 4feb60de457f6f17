ALTER TABLE projects ADD COLUMN deleted_at timestamptz;

-- the slug of a deleted project may be taken again
ALTER TABLE projects DROP CONSTRAINT projects_org_slug_key;
CREATE UNIQUE INDEX projects_org_slug_live_key ON projects (org_id, slug)
	WHERE deleted_at IS NULL;
CREATE INDEX projects_live_idx ON projects (org_id) WHERE deleted_at IS NULL;
