ALTER TABLE execution_tasks ADD COLUMN input_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE execution_tasks ADD COLUMN output_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE execution_tasks ADD COLUMN cost_micros INTEGER;
