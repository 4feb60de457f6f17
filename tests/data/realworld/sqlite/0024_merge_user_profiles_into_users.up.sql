-- The split did not pay off: profile fields come back into users.
ALTER TABLE users ADD COLUMN display_name TEXT;
ALTER TABLE users ADD COLUMN avatar_url TEXT;
ALTER TABLE users ADD COLUMN timezone TEXT NOT NULL DEFAULT 'UTC';

UPDATE users SET
	display_name = (SELECT p.display_name FROM user_profiles p WHERE p.user_id = users.id),
	avatar_url = (SELECT p.avatar_url FROM user_profiles p WHERE p.user_id = users.id),
	timezone = COALESCE((SELECT p.timezone FROM user_profiles p
		WHERE p.user_id = users.id), 'UTC');

DROP TABLE user_profiles;
