ALTER TABLE projects DROP CONSTRAINT projects_slug_format;
