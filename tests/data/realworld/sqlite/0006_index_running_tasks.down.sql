DROP INDEX execution_tasks_running;
