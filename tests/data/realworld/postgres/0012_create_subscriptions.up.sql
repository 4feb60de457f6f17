CREATE TYPE subscription_status AS ENUM
	('trialing', 'active', 'past_due', 'canceled');

CREATE TABLE subscriptions (
	id bigserial PRIMARY KEY,
	org_id uuid NOT NULL UNIQUE REFERENCES orgs (id) ON DELETE CASCADE,
	plan_id text NOT NULL REFERENCES plans (id),
	status subscription_status NOT NULL DEFAULT 'trialing',
	current_period_end timestamptz,
	created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX subscriptions_plan_id_idx ON subscriptions (plan_id);
