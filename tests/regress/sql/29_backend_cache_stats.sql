-- 29_backend_cache_stats: tenancy.backend_cache_stats() shows this backend's
-- caches behind enter(): on exactly while every change trigger on memberships,
-- roles and users is in place and enabled ALWAYS (a row trigger for INSERT,
-- UPDATE and DELETE, a statement trigger for TRUNCATE), with counts that follow
-- what enter() did. This file runs in a backend of its own, so they start at 0.
-- Also: tenancy.note_membership_change() as a row trigger hands every row on.
\set VERBOSITY terse
\i tests/regress/include/setup_vars.psql
\set tok_a `:mint --user :alice --org :org_a`
\set stats 'SELECT cache, enabled, entries, hits, misses FROM tenancy.backend_cache_stats()'

-- Autovacuum must not process these tables mid-test: its invalidations would
-- empty the membership cache and shift the counts. Nothing writes them here.
VACUUM ANALYZE tenancy.memberships, tenancy.roles, tenancy.users;

-- Not for PUBLIC; the DBA grants it to the role that should read it.
SET ROLE tenancy_app;
SELECT * FROM tenancy.backend_cache_stats();
RESET ROLE;
GRANT EXECUTE ON FUNCTION tenancy.backend_cache_stats() TO tenancy_app;
SET ROLE tenancy_app;

-- Nothing entered yet; the bounds.
SELECT cache, enabled, entries, capacity, hits, misses, evictions, bytes, byte_limit FROM tenancy.backend_cache_stats();

-- First enter(): a signature check and a membership read. Second: the token
-- and the membership from the caches, the context built (and prepared).
-- Third: the prepared context set.
BEGIN; SELECT tenancy.enter(:'tok_a'); COMMIT;
:stats;
BEGIN; SELECT tenancy.enter(:'tok_a'); COMMIT;
:stats;
BEGIN; SELECT tenancy.enter(:'tok_a'); SELECT tenancy.has_permission('tickets.read') AS can_read; COMMIT;
:stats;
SELECT cache, bytes > 0 AS holds_bytes FROM tenancy.backend_cache_stats();

-- Each change trigger disabled, or enabled only for origin sessions, turns the
-- membership cache and the prepared contexts off; enter() still works, reading
-- the membership each time.
RESET ROLE;
ALTER TABLE tenancy.memberships DISABLE TRIGGER memberships_note_truncate;
SET ROLE tenancy_app;
SELECT cache, enabled FROM tenancy.backend_cache_stats();
BEGIN; SELECT tenancy.enter(:'tok_a'); SELECT tenancy.has_permission('tickets.read') AS can_read; COMMIT;
:stats;
RESET ROLE;
ALTER TABLE tenancy.memberships ENABLE ALWAYS TRIGGER memberships_note_truncate;
ALTER TABLE tenancy.users ENABLE TRIGGER users_note_change;
SET ROLE tenancy_app;
SELECT cache, enabled FROM tenancy.backend_cache_stats() WHERE cache = 'membership';
RESET ROLE;
ALTER TABLE tenancy.users ENABLE ALWAYS TRIGGER users_note_change;
ALTER TABLE tenancy.roles DISABLE TRIGGER roles_note_change;
SET ROLE tenancy_app;
SELECT cache, enabled FROM tenancy.backend_cache_stats() WHERE cache = 'membership';
RESET ROLE;
ALTER TABLE tenancy.roles ENABLE ALWAYS TRIGGER roles_note_change;
-- A WHEN condition or an UPDATE OF column list would let changes by: off too.
DROP TRIGGER memberships_note_change ON tenancy.memberships;
CREATE TRIGGER memberships_note_change BEFORE INSERT OR UPDATE OR DELETE ON tenancy.memberships
    FOR EACH ROW WHEN (false) EXECUTE FUNCTION tenancy.note_membership_change();
ALTER TABLE tenancy.memberships ENABLE ALWAYS TRIGGER memberships_note_change;
SET ROLE tenancy_app;
SELECT cache, enabled FROM tenancy.backend_cache_stats() WHERE cache = 'membership';
RESET ROLE;
DROP TRIGGER memberships_note_change ON tenancy.memberships;
CREATE TRIGGER memberships_note_change BEFORE INSERT OR UPDATE OF role_id OR DELETE ON tenancy.memberships
    FOR EACH ROW EXECUTE FUNCTION tenancy.note_membership_change();
ALTER TABLE tenancy.memberships ENABLE ALWAYS TRIGGER memberships_note_change;
SET ROLE tenancy_app;
SELECT cache, enabled FROM tenancy.backend_cache_stats() WHERE cache = 'membership';
-- As installed (sql/src/10_model.sql): on.
RESET ROLE;
DROP TRIGGER memberships_note_change ON tenancy.memberships;
CREATE TRIGGER memberships_note_change BEFORE INSERT OR UPDATE OR DELETE ON tenancy.memberships
    FOR EACH ROW EXECUTE FUNCTION tenancy.note_membership_change();
ALTER TABLE tenancy.memberships ENABLE ALWAYS TRIGGER memberships_note_change;
SET ROLE tenancy_app;
SELECT cache, enabled FROM tenancy.backend_cache_stats() WHERE cache = 'membership';
-- Replacing the trigger function (CREATE OR REPLACE FUNCTION invalidates no
-- table, only the function) turns the cache off at once; the original, on.
RESET ROLE;
CREATE OR REPLACE FUNCTION tenancy.note_membership_change() RETURNS trigger
    LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$ BEGIN RETURN NULL; END $$;
SET ROLE tenancy_app;
SELECT cache, enabled FROM tenancy.backend_cache_stats() WHERE cache = 'membership';
RESET ROLE;
CREATE OR REPLACE FUNCTION tenancy.note_membership_change() RETURNS trigger
    AS '$libdir/pg_tenancy', 'tenancy_note_membership_change'
    LANGUAGE C SET search_path = pg_catalog, pg_temp;
SET ROLE tenancy_app;
SELECT cache, enabled FROM tenancy.backend_cache_stats() WHERE cache = 'membership';
-- On again: the next enter() reads the membership once more (the tables'
-- invalidations emptied the cache), then answers from it.
BEGIN; SELECT tenancy.enter(:'tok_a'); COMMIT;
BEGIN; SELECT tenancy.enter(:'tok_a'); COMMIT;
:stats;
RESET ROLE;
REVOKE EXECUTE ON FUNCTION tenancy.backend_cache_stats() FROM tenancy_app;

-- The trigger function: a BEFORE row trigger passes each row on unchanged
-- (NULL would skip it), as a statement trigger it returns nothing; anything
-- else is refused.
CREATE TEMP TABLE note_probe (id int, label text);
CREATE TRIGGER note_probe_rows BEFORE INSERT OR UPDATE OR DELETE ON note_probe
    FOR EACH ROW EXECUTE FUNCTION tenancy.note_membership_change();
CREATE TRIGGER note_probe_truncate BEFORE TRUNCATE ON note_probe
    FOR EACH STATEMENT EXECUTE FUNCTION tenancy.note_membership_change();
INSERT INTO note_probe VALUES (1, 'one'), (2, 'two');
UPDATE note_probe SET label = 'uno' WHERE id = 1;
DELETE FROM note_probe WHERE id = 2;
SELECT * FROM note_probe;
TRUNCATE note_probe;
SELECT count(*) AS rows_left FROM note_probe;
CREATE TRIGGER note_probe_after AFTER INSERT ON note_probe
    FOR EACH ROW EXECUTE FUNCTION tenancy.note_membership_change();
INSERT INTO note_probe VALUES (3, 'three');
SELECT tenancy.note_membership_change();
DROP TABLE note_probe;
