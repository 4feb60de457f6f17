CREATE TABLE users (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	email text NOT NULL,
	display_name text,
	password_hash text NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now()
);

-- emails are unique whatever their case
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
