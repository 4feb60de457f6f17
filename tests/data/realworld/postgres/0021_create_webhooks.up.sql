CREATE TABLE webhooks (
	id bigserial PRIMARY KEY,
	project_id bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
	url text NOT NULL CHECK (url ~ '^https://'),
	secret text NOT NULL,
	events text[] NOT NULL DEFAULT ARRAY['task.finished'],
	active boolean NOT NULL DEFAULT true,
	created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX webhooks_project_id_idx ON webhooks (project_id) WHERE active;

CREATE TABLE webhook_deliveries (
	id bigserial PRIMARY KEY,
	webhook_id bigint NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
	task_id bigint REFERENCES execution_tasks (id) ON DELETE SET NULL,
	status_code smallint,
	attempted_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX webhook_deliveries_webhook_attempted_idx
	ON webhook_deliveries (webhook_id, attempted_at DESC);
