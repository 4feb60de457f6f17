CREATE TABLE users_old (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	email TEXT NOT NULL,
	display_name TEXT,
	password_hash TEXT NOT NULL,
	created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
	last_login_at TEXT
);

INSERT INTO users_old (id, email, display_name, password_hash, created_at,
		last_login_at)
	SELECT u.id, u.email, p.display_name, u.password_hash, u.created_at,
		u.last_login_at
	FROM users u LEFT JOIN user_profiles p ON p.user_id = u.id;
DROP TABLE user_profiles;
DROP TABLE users;
ALTER TABLE users_old RENAME TO users;
CREATE UNIQUE INDEX users_email ON users (email COLLATE NOCASE);
