-- 13_sqlstates: every SQLSTATE of pg_tenancy's own (declared once in
-- token/include/pg_tenancy/token/sqlstates.hpp, listed in README.md and
-- docs/engine.md), provoked once each as the application role. Clients match
-- these codes, never message text, so this file prints the codes alone.
\i tests/regress/include/setup_vars.psql
\set not_member `:mint --user :carol --org :org_b`
\set no_such_user `:mint --user 00000000-0000-4000-8000-000000000001`
\set alice_in_a `:mint --user :alice --org :org_a`
\set carol_in_a `:mint --user :carol --org :org_a`
\set alice_only `:mint --user :alice`
\set VERBOSITY sqlstate
SET ROLE tenancy_app;

-- 28T01 invalid context token
BEGIN;
SELECT tenancy.enter('not a token');
ROLLBACK;

-- 28T02 the token's user is not registered
BEGIN;
SELECT tenancy.enter(:'no_such_user');
ROLLBACK;

-- 42T01 not a member of the organization (or no such organization)
BEGIN;
SELECT tenancy.enter(:'not_member');
ROLLBACK;

-- 42T02 no tenant context
BEGIN;
SELECT count(*) FROM app.tickets;
ROLLBACK;
SELECT tenancy.require_context();

-- 42T03 the context's role lacks a pg_tenancy permission (carol is an agent)
BEGIN;
SELECT tenancy.enter(:'carol_in_a') IS NULL AS entered;
SELECT count(*) FROM tenancy.list_members();
ROLLBACK;

-- 42T04 a context of the wrong kind, both ways
BEGIN;
SELECT tenancy.enter(:'alice_only') IS NULL AS entered;
SELECT count(*) FROM app.tickets;
ROLLBACK;
BEGIN;
SELECT tenancy.enter(:'alice_in_a') IS NULL AS entered;
SELECT tenancy.create_organization('Wrong kind');
ROLLBACK;

-- 42T05 the context set other than by tenancy.enter()
BEGIN;
SET LOCAL tenancy.context = '{"user": "00000000-0000-4000-8000-000000000001"}';
ROLLBACK;

-- 42T06 a row moved to another organization
BEGIN;
SELECT tenancy.enter(:'alice_in_a') IS NULL AS entered;
UPDATE app.tickets SET organization_id = :'org_b';
ROLLBACK;

-- 22T01 an invitation that is not valid
BEGIN;
SELECT tenancy.enter(:'alice_only') IS NULL AS entered;
SELECT tenancy.accept_invitation('no such invitation');
ROLLBACK;

-- 55T01 the session carries state past the transaction
CREATE TEMPORARY TABLE leftover (x int);
SELECT tenancy.assert_session_clean();
DROP TABLE leftover;
SELECT tenancy.assert_session_clean();

RESET ROLE;
\set VERBOSITY terse
