CREATE TABLE plans (
	id text PRIMARY KEY,
	name text NOT NULL,
	monthly_price_cents integer NOT NULL CHECK (monthly_price_cents >= 0),
	task_quota integer
);

INSERT INTO plans (id, name, monthly_price_cents, task_quota) VALUES
	('free', 'Free', 0, 100),
	('pro', 'Pro', 2900, 5000),
	('team', 'Team', 9900, NULL);
