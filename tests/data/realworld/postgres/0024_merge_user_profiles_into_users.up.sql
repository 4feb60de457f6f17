-- The split did not pay off: the profile fields come back into users.
ALTER TABLE users
	ADD COLUMN full_name text,
	ADD COLUMN avatar_url text,
	ADD COLUMN timezone text NOT NULL DEFAULT 'UTC';

UPDATE users u
SET full_name = p.full_name, avatar_url = p.avatar_url, timezone = p.timezone
FROM user_profiles p WHERE p.user_id = u.id;

DROP TABLE user_profiles;
