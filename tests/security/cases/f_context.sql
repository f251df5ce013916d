-- F: attacks on the tenant context itself.

-- @case F01a SET tenancy.context is refused
SET tenancy.context = 'forged';
SELECT sectest.expect_error(:'ERROR', :'LAST_ERROR_SQLSTATE', '42T05', 'SET tenancy.context');

-- @case F01b SET LOCAL tenancy.context inside a transaction is refused
BEGIN;
SELECT sectest.refused($$SET LOCAL tenancy.context = 'forged'$$, '42T05', 'SET LOCAL tenancy.context');
ROLLBACK;

-- @case F01c set_config() for the session is refused
SELECT sectest.refused($$SELECT set_config('tenancy.context', 'forged', false)$$, '42T05', 'set_config session');

-- @case F01d set_config() for the transaction, over an entered context, is refused
BEGIN;
SELECT tenancy.enter(:'tok_alice_a');
SELECT sectest.refused(format($$SELECT set_config('tenancy.context', %L, true)$$, :'tok_bob_b'), '42T05',
                       'set_config with Globex''s valid token');
SELECT sectest.expect(tenancy.current_org() = :'org_a', 'still Acme');
ROLLBACK;

-- @case F01e a valid token written directly into the setting is refused
BEGIN;
SELECT sectest.refused(format('SET LOCAL tenancy.context = %L', :'tok_alice_a'), '42T05', 'SET with a real token');
ROLLBACK;

-- @case F02 placeholders under the tenancy prefix cannot be planted
SET tenancy.org_id = 'forged';
SELECT sectest.expect_error(:'ERROR', :'LAST_ERROR_SQLSTATE', '42602', 'SET tenancy.org_id');

-- @case F03a ALTER ROLE ... SET tenancy.context is refused
ALTER ROLE CURRENT_USER SET tenancy.context = 'forged';
SELECT sectest.expect_error(:'ERROR', :'LAST_ERROR_SQLSTATE', '42T05', 'ALTER ROLE CURRENT_USER SET');

-- @case F03b ALTER ROLE and ALTER DATABASE SET are refused even for the superuser
-- @as admin
ALTER ROLE sec_app SET tenancy.context = 'forged';
SELECT sectest.expect_error(:'ERROR', :'LAST_ERROR_SQLSTATE', '42T05', 'ALTER ROLE sec_app SET');
ALTER DATABASE tenancy_security SET tenancy.context = 'forged';
SELECT sectest.expect_error(:'ERROR', :'LAST_ERROR_SQLSTATE', '42T05', 'ALTER DATABASE SET');
SELECT sectest.expect(count(*) = 0, 'nothing stored') FROM pg_db_role_setting
 WHERE array_to_string(setconfig, ',') LIKE '%tenancy.%';

-- @case F03c GRANT SET ON PARAMETER does not let the application write the context, and is reported
-- @as admin
BEGIN;
GRANT SET ON PARAMETER tenancy.context TO sec_app;
SET LOCAL ROLE sec_app;
SELECT sectest.refused($$SET LOCAL tenancy.context = 'forged'$$, '42T05', 'SET after GRANT SET ON PARAMETER');
RESET ROLE;
SELECT sectest.expect(sectest.reported('T503', 'parameter tenancy.context'), 'audit reports T503');
ROLLBACK;

-- @case F04 a function SET clause for the context is refused
CREATE FUNCTION pg_temp.as_globex() RETURNS bigint LANGUAGE sql SET tenancy.context = 'forged'
    AS 'SELECT count(*) FROM app.tickets';
SELECT sectest.expect_error(:'ERROR', :'LAST_ERROR_SQLSTATE', '42T05', 'CREATE FUNCTION ... SET tenancy.context');

-- @case F05a RESET ALL inside a transaction clears the context (fail closed)
BEGIN;
SELECT tenancy.enter(:'tok_alice_a');
RESET ALL;
SELECT sectest.refused('SELECT count(*) FROM app.tickets', '42T02', 'reading after RESET ALL');
ROLLBACK;

-- @case F05b RESET tenancy.context clears it and cannot restore another
BEGIN;
SELECT tenancy.enter(:'tok_alice_a');
RESET tenancy.context;
SELECT sectest.refused('SELECT count(*) FROM app.tickets', '42T02', 'reading after RESET');
SELECT sectest.refused(format('SELECT tenancy.enter(%L)', :'tok_bob_b'), '25001', 're-entering in the same transaction');
ROLLBACK;

-- @case F06 after a transaction the context is empty, and empty means no rows, not NULL
BEGIN;
SELECT tenancy.enter(:'tok_alice_a');
COMMIT;
SELECT sectest.refused('SELECT tenancy.current_org()', '42T02', 'current_org() without a context');
SELECT sectest.expect(tenancy.context() IS NULL, 'context() is NULL');

-- @case F07a a failed enter() does not fall back to the previous tenant
BEGIN;
SELECT tenancy.enter(:'tok_alice_a');
COMMIT;
BEGIN;
SELECT tenancy.enter(:'tok_expired');
\set e :ERROR
\set s :LAST_ERROR_SQLSTATE
ROLLBACK;
SELECT sectest.expect_error(:'e', :'s', '28T01', 'enter() with an expired token');
SELECT sectest.refused('SELECT count(*) FROM app.tickets', '42T02', 'reading after a failed enter');

-- @case F07b rolling back to a savepoint before enter() clears the context
BEGIN;
SAVEPOINT before_enter;
SELECT tenancy.enter(:'tok_alice_a');
ROLLBACK TO SAVEPOINT before_enter;
SELECT sectest.refused('SELECT count(*) FROM app.tickets', '42T02', 'reading after ROLLBACK TO');
ROLLBACK;

-- @case F08a a removed member is refused at once, token still valid
-- @as admin
BEGIN;
DELETE FROM tenancy.memberships WHERE user_id = :'carol';
SET LOCAL ROLE sec_app;
SELECT sectest.refused(format('SELECT tenancy.enter(%L)', :'tok_carol_a'), '42T01', 'enter as removed carol');
ROLLBACK;

-- @case F08b a member whose role lost a permission loses it at the next enter
-- @as admin
BEGIN;
UPDATE tenancy.roles SET permissions = '["members.read"]' WHERE code = 'agent';
SET LOCAL ROLE sec_app;
SELECT tenancy.enter(:'tok_carol_a');
SELECT sectest.expect(count(*) = 0, 'carol no longer reads tickets') FROM app.tickets;
ROLLBACK;

-- @case F09 the application role cannot create objects that shadow names
SELECT sectest.refused('CREATE TABLE public.memberships (x int)', '42501', 'CREATE TABLE in public');
SELECT sectest.refused($$CREATE FUNCTION app.current_org() RETURNS uuid LANGUAGE sql AS 'SELECT NULL::uuid'$$,
                       '42501', 'CREATE FUNCTION in app');
SELECT sectest.refused('CREATE SCHEMA evil', '42501', 'CREATE SCHEMA');

-- @case F10 key material is not readable from SQL
SHOW tenancy.keyring_file;
SELECT sectest.expect_error(:'ERROR', :'LAST_ERROR_SQLSTATE', '42501', 'SHOW tenancy.keyring_file');
SELECT sectest.expect(count(*) = 0, 'keyring path hidden from pg_settings')
  FROM pg_settings WHERE name IN ('tenancy.keyring_file', 'tenancy.context');
SELECT sectest.refused($$SELECT pg_read_file('/etc/passwd')$$, '42501', 'pg_read_file');

-- @case F11a pg_tenancy's tables are not readable directly
SELECT sectest.refused('SELECT * FROM tenancy.memberships', '42501', 'SELECT memberships');
SELECT sectest.refused('SELECT * FROM tenancy.users', '42501', 'SELECT users');
SELECT sectest.refused('SELECT * FROM tenancy.invitations', '42501', 'SELECT invitations');

-- @case F11b pg_tenancy's tables are not writable directly
SELECT sectest.refused(format('INSERT INTO tenancy.memberships (organization_id, user_id, role_id) VALUES (%L, %L, %L)',
                              :'org_b', :'alice', '1b000000-0000-4000-8000-00000000001b'), '42501',
                       'INSERT a membership in Globex');
SELECT sectest.refused($$UPDATE tenancy.roles SET permissions = '["*"]'$$, '42501', 'UPDATE roles');

-- @case F11c internal functions are not callable
SELECT sectest.refused(format('SELECT tenancy.lookup_membership(%L, %L)', :'bob', :'org_b'), '42501', 'lookup_membership');
SELECT sectest.refused($$SELECT tenancy.register_user('mallory', 'm@evil.example')$$, '42501', 'register_user');
SELECT sectest.refused(format('SELECT tenancy.probe_enter(%L, %L)', :'org_b', :'bob'), '42501', 'probe_enter');
SELECT sectest.refused($$SELECT * FROM tenancy.audit()$$, '42501', 'audit');

-- @case F12 LOAD of the library is refused
LOAD 'pg_tenancy';
SELECT sectest.expect_error(:'ERROR', :'LAST_ERROR_SQLSTATE', '42501', 'LOAD pg_tenancy');
