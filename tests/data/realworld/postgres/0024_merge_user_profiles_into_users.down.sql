CREATE TABLE user_profiles (
	user_id bigint PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
	full_name text,
	avatar_url text,
	timezone text NOT NULL DEFAULT 'UTC'
);

INSERT INTO user_profiles (user_id, full_name, avatar_url, timezone)
	SELECT id, full_name, avatar_url, timezone FROM users;

ALTER TABLE users
	DROP COLUMN full_name,
	DROP COLUMN avatar_url,
	DROP COLUMN timezone;
