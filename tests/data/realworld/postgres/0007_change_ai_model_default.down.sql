ALTER TABLE execution_tasks ALTER COLUMN ai_model SET DEFAULT 'gpt-3.5-turbo';
