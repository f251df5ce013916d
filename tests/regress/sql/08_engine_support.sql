-- 08_engine_support: the functions the engine relies on: membership look-up
-- (privileged), the caller's own organizations, change announcements, and the
-- session hygiene check used by connection pools.
\set VERBOSITY terse
\i tests/regress/include/setup_vars.psql
\set tok_user `:mint --user :alice`
\set tok_a `:mint --user :alice --org :org_a`

-- lookup_membership is not for the application role.
SET ROLE tenancy_app;
SELECT * FROM tenancy.lookup_membership(:'alice', :'org_a');
RESET ROLE;
SELECT role_code, permissions FROM tenancy.lookup_membership(:'alice', :'org_a');
SELECT role_code, permissions FROM tenancy.lookup_membership(:'carol', :'org_a');
SELECT count(*) AS not_a_member FROM tenancy.lookup_membership(:'carol', :'org_b');
SELECT count(*) AS no_such_org FROM tenancy.lookup_membership(:'alice', '00000000-0000-4000-8000-000000000000');

-- my_organizations: the caller's own memberships only, and only with a context.
SET ROLE tenancy_app;
SELECT * FROM tenancy.my_organizations();
BEGIN;
SELECT tenancy.enter(:'tok_user');
SELECT name, role_code, role_name FROM tenancy.my_organizations();
COMMIT;
BEGIN;
SELECT tenancy.enter(:'tok_a');
SELECT name, role_code FROM tenancy.my_organizations();
COMMIT;
RESET ROLE;

-- Membership and role changes are announced (the engine's tests LISTEN for them;
-- psql would print a process id here).
SELECT tgname, tgrelid::regclass FROM pg_trigger WHERE tgname LIKE '%announce_change' ORDER BY 1;

-- Session hygiene. (This test reaches the application role through SET ROLE,
-- which is itself session state, so "setting role" is reported throughout.)
SET ROLE tenancy_app;
SELECT tenancy.session_leftovers() AS clean;
BEGIN;
SELECT tenancy.enter(:'tok_a');
SET LOCAL statement_timeout = '10s';
SELECT tenancy.session_leftovers() AS local_settings_and_context_are_fine;
SELECT tenancy.assert_session_clean();
COMMIT;
BEGIN;
SET work_mem = '8MB';
CREATE TEMP TABLE scratch (x int);
CREATE TYPE pg_temp.mood AS ENUM ('ok');
CREATE FUNCTION pg_temp.lower(text) RETURNS text LANGUAGE sql AS 'SELECT $1';
DECLARE held CURSOR WITH HOLD FOR SELECT 1;
PREPARE stmt AS SELECT 1;
SELECT pg_advisory_lock(7);
SELECT tenancy.session_leftovers() AS dirty;
SELECT tenancy.assert_session_clean();
ROLLBACK;
-- ROLLBACK undoes the rest, but neither PREPARE nor a session advisory lock is
-- transactional: a pool must discard a connection after a failed transaction.
SELECT tenancy.session_leftovers() AS after_rollback;
DEALLOCATE stmt;
SELECT pg_advisory_unlock_all();
SELECT tenancy.session_leftovers() AS clean_again;
RESET ROLE;
