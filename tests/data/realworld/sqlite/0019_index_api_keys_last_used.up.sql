CREATE INDEX api_keys_org_last_used ON api_keys (org_id, last_used_at DESC);
