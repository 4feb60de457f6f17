CREATE TABLE invoices (
	id INTEGER PRIMARY KEY,
	org_id INTEGER NOT NULL REFERENCES orgs (id) ON DELETE RESTRICT,
	number TEXT NOT NULL UNIQUE,
	status TEXT NOT NULL DEFAULT 'draft'
		CHECK (status IN ('draft', 'open', 'paid', 'void')),
	total_cents INTEGER NOT NULL DEFAULT 0,
	issued_at TEXT,
	created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE invoice_lines (
	id INTEGER PRIMARY KEY,
	invoice_id INTEGER NOT NULL REFERENCES invoices (id) ON DELETE CASCADE,
	description TEXT NOT NULL,
	quantity INTEGER NOT NULL DEFAULT 1 CHECK (quantity > 0),
	unit_price_cents INTEGER NOT NULL
);

CREATE INDEX invoices_org_status ON invoices (org_id, status);
CREATE INDEX invoice_lines_invoice_id ON invoice_lines (invoice_id);
