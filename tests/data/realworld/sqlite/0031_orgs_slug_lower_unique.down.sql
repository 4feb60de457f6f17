DROP INDEX orgs_slug_lower;
