DROP TABLE org_settings;
