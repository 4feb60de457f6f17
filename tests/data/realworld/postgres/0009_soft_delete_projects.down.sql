DROP INDEX projects_live_idx;
DROP INDEX projects_org_slug_live_key;
ALTER TABLE projects ADD CONSTRAINT projects_org_slug_key UNIQUE (org_id, slug);
ALTER TABLE projects DROP COLUMN deleted_at;
