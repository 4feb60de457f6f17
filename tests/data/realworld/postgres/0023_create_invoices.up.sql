-- invoice numbers are public and start at 1000
CREATE SEQUENCE invoice_number_seq START 1000;

CREATE TABLE invoices (
	id bigserial PRIMARY KEY,
	org_id uuid NOT NULL REFERENCES orgs (id) ON DELETE RESTRICT,
	number bigint NOT NULL UNIQUE DEFAULT nextval('invoice_number_seq'),
	status text NOT NULL DEFAULT 'draft'
		CHECK (status IN ('draft', 'open', 'paid', 'void')),
	total_cents bigint NOT NULL DEFAULT 0,
	issued_at timestamptz,
	created_at timestamptz NOT NULL DEFAULT now()
);

ALTER SEQUENCE invoice_number_seq OWNED BY invoices.number;

CREATE TABLE invoice_lines (
	id bigserial PRIMARY KEY,
	invoice_id bigint NOT NULL REFERENCES invoices (id) ON DELETE CASCADE,
	description text NOT NULL,
	quantity integer NOT NULL DEFAULT 1 CHECK (quantity > 0),
	unit_price_cents bigint NOT NULL
);

CREATE INDEX invoices_org_status_idx ON invoices (org_id, status);
CREATE INDEX invoice_lines_invoice_id_idx ON invoice_lines (invoice_id);
