-- the default is set again after the type change, or it would keep
-- its old ::text cast
ALTER TABLE execution_tasks ALTER COLUMN ai_model DROP DEFAULT;
ALTER TABLE execution_tasks ALTER COLUMN ai_model TYPE varchar(64);
ALTER TABLE execution_tasks ALTER COLUMN ai_model SET DEFAULT 'gpt-4o';
ALTER TABLE execution_tasks ADD CONSTRAINT execution_tasks_ai_model_not_blank
	CHECK (ai_model <> '');
