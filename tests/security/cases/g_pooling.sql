-- G: pooled connections and session reuse. The engine runs
-- tenancy.assert_session_clean() at every commit and discards a connection that
-- fails it; these cases prove the check sees each kind of leftover.

-- @case G01 the context ends with the transaction (transaction pooling is safe)
BEGIN;
SELECT tenancy.enter(:'tok_alice_a');
COMMIT;
SELECT sectest.refused('SELECT count(*) FROM app.tickets', '42T02', 'next transaction on the same connection');
SELECT sectest.expect(tenancy.session_leftovers() = '{}', 'nothing left on the connection');

-- @case G02a a session-level SET is caught
SET work_mem = '8MB';
SELECT tenancy.assert_session_clean();
SELECT sectest.expect_error(:'ERROR', :'LAST_ERROR_SQLSTATE', '55T01', 'session SET left over');

-- @case G02b a temporary table is caught
CREATE TEMP TABLE report_cache AS SELECT 1 AS x;
SELECT tenancy.assert_session_clean();
SELECT sectest.expect_error(:'ERROR', :'LAST_ERROR_SQLSTATE', '55T01', 'temporary table left over');

-- @case G03 a prepared statement is caught
PREPARE stmt1 AS SELECT 1;
SELECT tenancy.assert_session_clean();
SELECT sectest.expect_error(:'ERROR', :'LAST_ERROR_SQLSTATE', '55T01', 'prepared statement left over');

-- @case G04a a session advisory lock is caught
SELECT pg_advisory_lock(42);
SELECT tenancy.assert_session_clean();
SELECT sectest.expect_error(:'ERROR', :'LAST_ERROR_SQLSTATE', '55T01', 'advisory lock left over');

-- @case G04b a LISTEN is caught
LISTEN ticket_changes;
SELECT tenancy.assert_session_clean();
SELECT sectest.expect_error(:'ERROR', :'LAST_ERROR_SQLSTATE', '55T01', 'LISTEN left over');

-- @case G05 the context is never reported to clients or shown
SHOW tenancy.context;
SELECT sectest.expect_error(:'ERROR', :'LAST_ERROR_SQLSTATE', '42501', 'SHOW tenancy.context');
BEGIN;
SELECT tenancy.enter(:'tok_alice_a');
SELECT sectest.refused($$SELECT current_setting('tenancy.context')$$, '42501', 'current_setting()');
SELECT sectest.expect(NOT (tenancy.context() ? 'token'), 'context() never returns the token');
ROLLBACK;

-- @case G05b the raw context is hidden even from roles that may read all settings
-- @as admin
BEGIN;
GRANT pg_read_all_settings TO sec_app;
SELECT tenancy.probe_enter(:'org_a', :'alice');
SELECT sectest.expect(current_setting('tenancy.context') = '(hidden)', 'a superuser sees (hidden)');
SET LOCAL ROLE sec_app;
SELECT sectest.expect(current_setting('tenancy.context') = '(hidden)', 'pg_read_all_settings sees (hidden)');
SELECT sectest.expect(count(*) = 0, 'pg_settings shows no token')
  FROM pg_settings WHERE name = 'tenancy.context' AND setting LIKE '%eyJ%';
RESET ROLE;
ROLLBACK;

-- @case G02c a standalone temporary composite type or domain is caught (issue 11)
CREATE TYPE pg_temp.text AS (x int);
SELECT tenancy.assert_session_clean();
SELECT sectest.expect_error(:'ERROR', :'LAST_ERROR_SQLSTATE', '55T01', 'temporary composite type left over');
DISCARD TEMP;
CREATE DOMAIN pg_temp.jsonb AS int4[];
SELECT tenancy.assert_session_clean();
SELECT sectest.expect_error(:'ERROR', :'LAST_ERROR_SQLSTATE', '55T01', 'temporary domain left over');
