ALTER TABLE users ALTER COLUMN email TYPE text;
DROP DOMAIN email_address;
