-- BROKEN on purpose: drops the index and forgets the table. The round
-- trip must name the table (and its up, run again, then fails).
DROP INDEX task_labels_label;
