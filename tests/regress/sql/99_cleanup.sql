-- 99_cleanup: roles are cluster-wide; drop them so the suite can run again on
-- the same server.
\set VERBOSITY terse
DROP SCHEMA app CASCADE;
DROP OWNED BY tenancy_app, tenancy_owner;
DROP ROLE tenancy_app, tenancy_owner;
DROP EXTENSION pg_tenancy;
SELECT count(*) AS leftover_schemas FROM pg_namespace WHERE nspname = 'tenancy';
