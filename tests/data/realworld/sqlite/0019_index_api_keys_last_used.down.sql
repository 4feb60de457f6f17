DROP INDEX api_keys_org_last_used;
