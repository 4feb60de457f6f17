DROP TABLE execution_tasks;
