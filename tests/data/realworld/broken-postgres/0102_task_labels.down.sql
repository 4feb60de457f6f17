-- BROKEN on purpose: drops the index and forgets the column. The round
-- trip must name the column (and its up, run again, then fails).
DROP INDEX execution_tasks_labels_idx;
