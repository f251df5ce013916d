-- pg_tenancy: full install script, built by `make` from sql/src/*.sql in name order.
-- Each object is defined once, in its final form, in one file of sql/src; a release
-- adds a hand-written upgrade script (sql/pg_tenancy--OLD--NEW.sql) that makes the same
-- changes, and tests/cluster/upgrade_matches_fresh.sh proves the two agree.
--
-- Everything lives in schema tenancy, which this script creates (so it fails if
-- someone else created it first). Every function pins search_path except the
-- context readers, which are C functions that resolve no names and sit on the
-- per-row hot path of every policy (a SET clause there would cost microseconds
-- per row). Names in function bodies are schema-qualified regardless.

\echo Use "CREATE EXTENSION pg_tenancy" to load this file. \quit

CREATE SCHEMA tenancy;
COMMENT ON SCHEMA tenancy IS 'pg_tenancy: tenant context, organizations, memberships and row-level security helpers';
GRANT USAGE ON SCHEMA tenancy TO PUBLIC;
