CREATE FUNCTION invoice_total(p_invoice_id bigint) RETURNS bigint
LANGUAGE sql STABLE AS $$
	SELECT COALESCE(sum(quantity * unit_price_cents), 0)::bigint
	FROM invoice_lines
	WHERE invoice_id = p_invoice_id
$$;
