-- A plan in use can no longer be deleted; renames follow.
-- A foreign key's actions cannot be altered in SQLite: rebuild.
CREATE TABLE subscriptions_new (
	id INTEGER PRIMARY KEY,
	org_id INTEGER NOT NULL UNIQUE REFERENCES orgs (id) ON DELETE CASCADE,
	plan_id TEXT NOT NULL REFERENCES plans (id) ON UPDATE CASCADE ON DELETE RESTRICT,
	status TEXT NOT NULL DEFAULT 'trialing'
		CHECK (status IN ('trialing', 'active', 'past_due', 'canceled')),
	current_period_end TEXT,
	created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);

INSERT INTO subscriptions_new (id, org_id, plan_id, status, current_period_end, created_at)
	SELECT id, org_id, plan_id, status, current_period_end, created_at FROM subscriptions;
DROP TABLE subscriptions;
ALTER TABLE subscriptions_new RENAME TO subscriptions;
CREATE INDEX subscriptions_plan_id ON subscriptions (plan_id);
