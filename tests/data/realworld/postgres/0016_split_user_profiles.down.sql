-- full_name comes back at the end of users: PostgreSQL cannot put a
-- column anywhere else (only [drill] strict = yes compares the order).
ALTER TABLE users ADD COLUMN full_name text;

UPDATE users u SET full_name = p.full_name
FROM user_profiles p WHERE p.user_id = u.id;

DROP TABLE user_profiles;
