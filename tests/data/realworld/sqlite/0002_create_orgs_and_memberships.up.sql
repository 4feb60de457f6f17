CREATE TABLE orgs (
	id INTEGER PRIMARY KEY,
	slug TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL,
	created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- role is an enum the SQLite way: a CHECK constraint
CREATE TABLE memberships (
	org_id INTEGER NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
	user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	role TEXT NOT NULL DEFAULT 'member'
		CHECK (role IN ('owner', 'admin', 'member')),
	created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
	PRIMARY KEY (org_id, user_id)
) WITHOUT ROWID;

CREATE INDEX memberships_user_id ON memberships (user_id);
