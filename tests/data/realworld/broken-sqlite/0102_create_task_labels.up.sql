CREATE TABLE task_labels (
	task_id INTEGER NOT NULL REFERENCES execution_tasks (id) ON DELETE CASCADE,
	label TEXT NOT NULL,
	PRIMARY KEY (task_id, label)
) WITHOUT ROWID;

CREATE INDEX task_labels_label ON task_labels (label);
