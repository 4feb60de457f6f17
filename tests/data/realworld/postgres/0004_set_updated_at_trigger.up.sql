CREATE FUNCTION set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	NEW.updated_at := now();
	RETURN NEW;
END;
$$;

ALTER TABLE projects ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

CREATE TRIGGER projects_set_updated_at BEFORE UPDATE ON projects
	FOR EACH ROW EXECUTE FUNCTION set_updated_at();
