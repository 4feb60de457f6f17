DROP TABLE memberships;
DROP TABLE orgs;
