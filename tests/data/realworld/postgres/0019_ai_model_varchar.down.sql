ALTER TABLE execution_tasks DROP CONSTRAINT execution_tasks_ai_model_not_blank;
ALTER TABLE execution_tasks ALTER COLUMN ai_model DROP DEFAULT;
ALTER TABLE execution_tasks ALTER COLUMN ai_model TYPE text;
ALTER TABLE execution_tasks ALTER COLUMN ai_model SET DEFAULT 'gpt-4o';
