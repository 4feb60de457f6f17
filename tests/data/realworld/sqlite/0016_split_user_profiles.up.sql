-- Profile fields move out of users, which the auth code reads on
-- every request.
CREATE TABLE user_profiles (
	user_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
	display_name TEXT,
	avatar_url TEXT,
	timezone TEXT NOT NULL DEFAULT 'UTC'
);

INSERT INTO user_profiles (user_id, display_name)
	SELECT id, display_name FROM users;

CREATE TABLE users_new (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	email TEXT NOT NULL,
	password_hash TEXT NOT NULL,
	created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
	last_login_at TEXT
);

INSERT INTO users_new (id, email, password_hash, created_at, last_login_at)
	SELECT id, email, password_hash, created_at, last_login_at FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
CREATE UNIQUE INDEX users_email ON users (email COLLATE NOCASE);
