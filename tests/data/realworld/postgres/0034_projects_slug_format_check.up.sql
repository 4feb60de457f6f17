-- NOT VALID then VALIDATE: no long exclusive lock on a big table
ALTER TABLE projects ADD CONSTRAINT projects_slug_format
	CHECK (slug ~ '^[a-z0-9][a-z0-9-]*$') NOT VALID;
ALTER TABLE projects VALIDATE CONSTRAINT projects_slug_format;
