DROP TABLE invoice_lines;
DROP TABLE invoices;
DROP SEQUENCE IF EXISTS invoice_number_seq;
