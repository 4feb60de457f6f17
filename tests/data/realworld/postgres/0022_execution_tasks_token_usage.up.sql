ALTER TABLE execution_tasks
	ADD COLUMN input_tokens integer NOT NULL DEFAULT 0,
	ADD COLUMN output_tokens integer NOT NULL DEFAULT 0,
	ADD COLUMN cost numeric(12, 6);
