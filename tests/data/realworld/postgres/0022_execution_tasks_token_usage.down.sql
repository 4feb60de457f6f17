ALTER TABLE execution_tasks
	DROP COLUMN cost,
	DROP COLUMN output_tokens,
	DROP COLUMN input_tokens;
