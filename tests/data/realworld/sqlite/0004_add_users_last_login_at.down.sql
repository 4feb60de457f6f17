-- No DROP COLUMN before SQLite 3.35: rebuild without the column.
CREATE TABLE users_old (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	email TEXT NOT NULL,
	name TEXT,
	password_hash TEXT NOT NULL,
	created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);

INSERT INTO users_old (id, email, name, password_hash, created_at)
	SELECT id, email, name, password_hash, created_at FROM users;
DROP TABLE users;
ALTER TABLE users_old RENAME TO users;
CREATE UNIQUE INDEX users_email ON users (email COLLATE NOCASE);
