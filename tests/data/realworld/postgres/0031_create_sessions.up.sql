-- sessions can be lost in a crash: unlogged is faster
CREATE UNLOGGED TABLE sessions (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	user_agent text,
	ip inet,
	expires_at timestamptz NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX sessions_user_id_idx ON sessions (user_id);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);
