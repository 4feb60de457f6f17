CREATE TABLE projects (
	id bigserial PRIMARY KEY,
	org_id uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	name text NOT NULL,
	slug text NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT projects_org_slug_key UNIQUE (org_id, slug)
);

CREATE INDEX projects_org_id_idx ON projects (org_id);
