-- Slugs are unique whatever their case: an expression index.
CREATE UNIQUE INDEX orgs_slug_lower ON orgs (lower(slug));
