CREATE TABLE org_settings (
	org_id uuid PRIMARY KEY REFERENCES orgs (id) ON DELETE CASCADE,
	default_ai_model varchar(64) NOT NULL DEFAULT 'gpt-4o',
	max_concurrent_tasks integer NOT NULL DEFAULT 4,
	settings jsonb NOT NULL DEFAULT '{}',
	CONSTRAINT org_settings_settings_is_object
		CHECK (jsonb_typeof(settings) = 'object')
);

COMMENT ON TABLE org_settings IS 'One row per org; a missing row means defaults.';

INSERT INTO org_settings (org_id) SELECT id FROM orgs;
