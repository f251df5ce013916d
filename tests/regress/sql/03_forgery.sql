-- 03_forgery: every SQL path that could set, change or read the context other
-- than tenancy.enter()/tenancy.leave(), tried by the application role. Each is
-- refused or leaves no context.
\set VERBOSITY terse
\i tests/regress/include/setup_vars.psql
\set tok_a `:mint --user :alice --org :org_a`
\set tok_b `:mint --user :bob --org :org_b`
CREATE SCHEMA app_scratch AUTHORIZATION tenancy_app;
SET ROLE tenancy_app;

-- A plain GUC would fall to this; ours refuses a raw token, a forged value and
-- a value in the internal format alike.
SET tenancy.context = 'forged';
SET tenancy.context = :'tok_b';
SET tenancy.context TO :'tok_b';
SELECT set_config('tenancy.context', :'tok_b', false);
SELECT set_config('tenancy.context', :'tok_b' || '~00000000-0000-0000-0000-000000000000~owner~*', true);
BEGIN;
SET LOCAL tenancy.context = :'tok_b';
ROLLBACK;
SELECT tenancy.context() IS NULL AS still_no_context;

-- With a real context entered, SET LOCAL cannot swap it for another tenant's token.
BEGIN;
SELECT tenancy.enter(:'tok_a');
SET LOCAL tenancy.context = :'tok_b';
ROLLBACK;
BEGIN;
SELECT tenancy.enter(:'tok_a');
SELECT set_config('tenancy.context', :'tok_b', true);
ROLLBACK;

-- Clearing is allowed (it fails closed), and yields no context.
BEGIN;
SELECT tenancy.enter(:'tok_a');
RESET tenancy.context;
SELECT tenancy.context() IS NULL AS cleared_by_reset;
SELECT count(*) FROM app.tickets;
ROLLBACK;
BEGIN;
SELECT tenancy.enter(:'tok_a');
SET LOCAL tenancy.context = DEFAULT;
SELECT tenancy.context() IS NULL AS cleared_by_default;
ROLLBACK;
BEGIN;
SELECT tenancy.enter(:'tok_a');
RESET ALL;
SELECT tenancy.context() IS NULL AS cleared_by_reset_all;
ROLLBACK;
DISCARD ALL;
SELECT tenancy.context() IS NULL AS nothing_after_discard_all;

-- Per-role and per-database defaults are refused when they are written.
ALTER ROLE tenancy_app SET tenancy.context = :'tok_b';
ALTER ROLE CURRENT_USER SET tenancy.context = 'forged';
ALTER DATABASE :"DBNAME" SET tenancy.context = 'forged';
RESET ROLE;
ALTER ROLE tenancy_app SET tenancy.context = 'forged';
ALTER DATABASE :"DBNAME" SET tenancy.context = 'forged';
SELECT count(*) AS stored_settings FROM pg_db_role_setting WHERE array_to_string(setconfig, ',') LIKE '%tenancy.context%';
SET ROLE tenancy_app;

-- A function's SET clause is refused when the function is created...
CREATE FUNCTION app_scratch.as_globex() RETURNS bigint LANGUAGE sql
    SET tenancy.context = 'forged' AS 'SELECT count(*) FROM app.tickets';
-- ...and a SECURITY DEFINER function cannot set it for its caller either.
CREATE FUNCTION app_scratch.sneaky(t text) RETURNS text LANGUAGE sql SECURITY DEFINER
    AS $$ SELECT set_config('tenancy.context', t, true) $$;
BEGIN;
SELECT app_scratch.sneaky(:'tok_b');
ROLLBACK;
-- A plpgsql function that swallows the error still gets no context.
CREATE FUNCTION app_scratch.try_forge(t text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('tenancy.context', t, true);
    RETURN true;
EXCEPTION WHEN OTHERS THEN
    RETURN false;
END $$;
BEGIN;
SELECT app_scratch.try_forge(:'tok_b') AS forged, tenancy.context() IS NULL AS no_context;
ROLLBACK;

-- The setting cannot be read back: the token is never shown to the app role.
SHOW tenancy.context;
SELECT current_setting('tenancy.context');
SELECT count(*) AS visible_in_pg_settings FROM pg_settings WHERE name = 'tenancy.context';
SHOW tenancy.keyring_file;
SELECT count(*) AS keyring_setting_visible FROM pg_settings WHERE name = 'tenancy.keyring_file' AND setting <> '';

-- The rest of the tenancy. namespace is reserved and the other settings are superuser-only.
SET tenancy.current_org = 'x';
SELECT set_config('tenancy.org', 'x', false);
SET tenancy.missing_context = 'empty';
SET tenancy.keyring_file = '/tmp/mine';
SET tenancy.accept_forwarded_context = on;
SET tenancy.max_token_lifetime = 86400;
-- Loading the library by hand is not possible for the app role.
LOAD 'pg_tenancy';

-- The tenancy tables are not readable or writable directly.
SELECT count(*) FROM tenancy.memberships;
SELECT count(*) FROM tenancy.users;
INSERT INTO tenancy.memberships (organization_id, user_id, role_id) VALUES (:'org_b', :'alice', :'org_b');
UPDATE tenancy.roles SET permissions = '["*"]';
-- Privileged functions are not callable.
SELECT tenancy.register_user('mallory', 'mallory@evil.example');
RESET ROLE;
DROP SCHEMA app_scratch CASCADE;
