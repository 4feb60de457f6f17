DROP INDEX projects_live;

CREATE TABLE projects_old (
	id INTEGER PRIMARY KEY,
	org_id INTEGER NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	name TEXT NOT NULL,
	slug TEXT NOT NULL,
	created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
	UNIQUE (org_id, slug)
);

INSERT INTO projects_old (id, org_id, name, slug, created_at)
	SELECT id, org_id, name, slug, created_at FROM projects;
DROP TABLE projects;
ALTER TABLE projects_old RENAME TO projects;
CREATE INDEX projects_org_id ON projects (org_id);
