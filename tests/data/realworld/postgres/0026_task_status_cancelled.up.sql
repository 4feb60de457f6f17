-- ALTER TYPE ... ADD VALUE: ripcord runs it outside a transaction.
ALTER TYPE task_status ADD VALUE 'cancelled' AFTER 'failed';
