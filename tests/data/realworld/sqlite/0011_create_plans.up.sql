CREATE TABLE plans (
	id TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	monthly_price_cents INTEGER NOT NULL CHECK (monthly_price_cents >= 0),
	task_quota INTEGER
) WITHOUT ROWID;

INSERT INTO plans (id, name, monthly_price_cents, task_quota) VALUES
	('free', 'Free', 0, 100),
	('pro', 'Pro', 2900, 5000),
	('team', 'Team', 9900, NULL);
