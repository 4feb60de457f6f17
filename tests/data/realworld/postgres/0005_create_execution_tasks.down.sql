DROP TABLE execution_tasks;
DROP TYPE task_status;
