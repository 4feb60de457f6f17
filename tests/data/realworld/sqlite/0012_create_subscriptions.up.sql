CREATE TABLE subscriptions (
	id INTEGER PRIMARY KEY,
	org_id INTEGER NOT NULL UNIQUE REFERENCES orgs (id) ON DELETE CASCADE,
	plan_id TEXT NOT NULL REFERENCES plans (id),
	status TEXT NOT NULL DEFAULT 'trialing'
		CHECK (status IN ('trialing', 'active', 'past_due', 'canceled')),
	current_period_end TEXT,
	created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX subscriptions_plan_id ON subscriptions (plan_id);
