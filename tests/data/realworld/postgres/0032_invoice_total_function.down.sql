DROP FUNCTION invoice_total(bigint);
