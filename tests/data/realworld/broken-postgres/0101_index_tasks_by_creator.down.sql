-- BROKEN on purpose: the index name is misspelt, so nothing is dropped,
-- and IF EXISTS keeps it quiet. The round trip must name the index.
DROP INDEX IF EXISTS execution_tasks_creator_idx;
