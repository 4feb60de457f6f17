DROP INDEX orders_status;
ALTER TABLE orders DROP COLUMN status;
