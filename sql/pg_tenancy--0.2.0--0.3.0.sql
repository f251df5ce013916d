-- pg_tenancy 0.2.0 -> 0.3.0.
--
-- The rule: sql/src/*.sql hold the final form of every object and are built into
-- the 0.3.0 install script; this script is written by hand and makes exactly the
-- same changes to a 0.2.0 database. Every change to sql/src in this release is
-- mirrored here (CREATE OR REPLACE FUNCTION with the new body, ALTER TABLE, new
-- objects with their REVOKEs and COMMENTs, ...), in the same words, so that an
-- upgraded database and a fresh install are identical. tests/cluster/
-- upgrade_matches_fresh.sh compares their catalogs (function bodies and
-- settings, tables, constraints, indexes, ACLs, policies, triggers, comments,
-- types) and fails on any difference. Once 0.3.0 is released this file is frozen.
--
-- 0.3.0 so far: sql/src replaces the 0.1.0 install script plus the 0.1.0--0.2.0
-- upgrade as the source of the install script; the objects are unchanged.
\echo Use "ALTER EXTENSION pg_tenancy UPDATE TO '0.3.0'" to load this file. \quit

-- enter(): no SECURITY DEFINER and no SET clause (see sql/src/20_context.sql).
ALTER FUNCTION tenancy.enter(text) SECURITY INVOKER RESET ALL;

-- The commit-time checks in C (see sql/src/50_engine_support.sql).
CREATE OR REPLACE FUNCTION tenancy.assert_session_clean() RETURNS void
    AS 'MODULE_PATHNAME', 'tenancy_assert_session_clean'
    LANGUAGE C VOLATILE PARALLEL UNSAFE;
CREATE OR REPLACE FUNCTION tenancy.require_context() RETURNS void
    AS 'MODULE_PATHNAME', 'tenancy_require_context'
    LANGUAGE C VOLATILE PARALLEL UNSAFE;
