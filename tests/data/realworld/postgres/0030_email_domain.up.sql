CREATE DOMAIN email_address AS text
	CONSTRAINT email_address_check
	CHECK (VALUE ~ '^[^@[:space:]]+@[^@[:space:]]+$');

-- rebuilds users_email_key on the new type
ALTER TABLE users ALTER COLUMN email TYPE email_address;
