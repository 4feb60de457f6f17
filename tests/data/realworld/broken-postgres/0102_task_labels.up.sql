ALTER TABLE execution_tasks ADD COLUMN labels text[] NOT NULL DEFAULT '{}';

CREATE INDEX execution_tasks_labels_idx ON execution_tasks USING gin (labels);
