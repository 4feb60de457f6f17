DROP TRIGGER projects_set_updated_at ON projects;
ALTER TABLE projects DROP COLUMN updated_at;
DROP FUNCTION set_updated_at();
