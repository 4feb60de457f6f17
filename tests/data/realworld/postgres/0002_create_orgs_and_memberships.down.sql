DROP TABLE memberships;
DROP TABLE orgs;
DROP TYPE member_role;
