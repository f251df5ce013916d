-- 30_shared_membership_cache: the memberships enter() reads are shared by every
-- backend of the database (tenancy.shared_membership_cache_size slots), so a
-- new backend's first enter() for a membership another backend read since the
-- last change answers from shared memory. Every change that could make a
-- shared entry wrong retires it for every backend: a role changed, and a
-- member removed while the change trigger was disabled, by a backend that
-- never entered a context (no trigger reported that removal: the catalog
-- invalidations of the ALTER TABLEs do), also in one transaction that another
-- backend reads through before it commits. Each \c below starts a new backend.
\set VERBOSITY terse
\i tests/regress/include/setup_vars.psql
\set tok_c `:mint --user :carol --org :org_a`
\set shared 'SELECT enabled, hits, misses FROM tenancy.backend_cache_stats() WHERE cache = ''shared_membership'''
GRANT EXECUTE ON FUNCTION tenancy.backend_cache_stats() TO tenancy_app;
SHOW tenancy.shared_membership_cache_size;

-- This backend reads carol's membership and shares it...
SET ROLE tenancy_app;
BEGIN; SELECT tenancy.enter(:'tok_c') IS NOT NULL AS entered; SELECT tenancy.has_permission('tickets.write') AS can_write; COMMIT;
:shared;
-- ...and a new backend's first enter() answers from the shared cache (its
-- own cache missed).
\c
SET ROLE tenancy_app;
BEGIN; SELECT tenancy.enter(:'tok_c') IS NOT NULL AS entered; SELECT tenancy.has_permission('tickets.write') AS can_write; COMMIT;
:shared;
SELECT hits, misses FROM tenancy.backend_cache_stats() WHERE cache = 'membership';

-- A role narrowed: the next backend reads it again and sees the change.
RESET ROLE;
UPDATE tenancy.roles SET permissions = '["tickets.read"]' WHERE organization_id = :'org_a' AND code = 'agent';
\c
SET ROLE tenancy_app;
BEGIN; SELECT tenancy.enter(:'tok_c') IS NOT NULL AS entered; SELECT tenancy.has_permission('tickets.write') AS can_write; COMMIT;
:shared;
RESET ROLE;
UPDATE tenancy.roles SET permissions = '["tickets.read", "tickets.write", "comments.*"]'
    WHERE organization_id = :'org_a' AND code = 'agent';
SET ROLE tenancy_app;
-- Read and shared again under the new generation.
BEGIN; SELECT tenancy.enter(:'tok_c') IS NOT NULL AS entered; SELECT tenancy.has_permission('tickets.write') AS can_write; COMMIT;

-- The table's owner disables the change trigger, removes carol, enables it
-- again, from a backend that never entered a context: no trigger reported the
-- removal, so nothing moved the generation but these invalidations. The next
-- backend must not find carol's shared entry.
\c
ALTER TABLE tenancy.memberships DISABLE TRIGGER memberships_note_change;
DELETE FROM tenancy.memberships WHERE user_id = :'carol' AND organization_id = :'org_a';
ALTER TABLE tenancy.memberships ENABLE ALWAYS TRIGGER memberships_note_change;
\c
SET ROLE tenancy_app;
BEGIN; SELECT tenancy.enter(:'tok_c') IS NOT NULL AS entered;
ROLLBACK;
:shared;

-- The same in one transaction of the owner's, still open while this backend
-- reads carol (her removal is not committed yet) and shares her: a backend
-- started after that transaction commits takes in none of its invalidations,
-- so the commit itself must retire the entry.
RESET ROLE;
INSERT INTO tenancy.memberships (organization_id, user_id, role_id)
SELECT :'org_a', :'carol', id FROM tenancy.roles WHERE organization_id = :'org_a' AND code = 'agent';
CREATE EXTENSION IF NOT EXISTS dblink;
SELECT dblink_connect('owner', format('dbname=%s port=%s host=%s user=%s', current_database(),
    current_setting('port'), split_part(current_setting('unix_socket_directories'), ',', 1), current_user));
SELECT dblink_exec('owner', 'BEGIN');
SELECT dblink_exec('owner', 'ALTER TABLE tenancy.memberships DISABLE TRIGGER memberships_note_change');
SELECT dblink_exec('owner', format('DELETE FROM tenancy.memberships WHERE user_id = %L AND organization_id = %L',
    :'carol', :'org_a'));
SELECT dblink_exec('owner', 'ALTER TABLE tenancy.memberships ENABLE ALWAYS TRIGGER memberships_note_change');
SET ROLE tenancy_app;
BEGIN; SELECT tenancy.enter(:'tok_c') IS NOT NULL AS entered; COMMIT;
RESET ROLE;
-- Straight to a new backend: this one takes in nothing more (it would move
-- the generation as it takes in the owner's invalidations; so would any
-- other backend of this database), and its link to the owner goes with it.
SELECT dblink_exec('owner', 'COMMIT');
\c
SET ROLE tenancy_app;
BEGIN; SELECT tenancy.enter(:'tok_c') IS NOT NULL AS entered;
ROLLBACK;
:shared;
RESET ROLE;
DROP EXTENSION dblink;

-- Put back (the change trigger reports it).
RESET ROLE;
INSERT INTO tenancy.memberships (organization_id, user_id, role_id)
SELECT :'org_a', :'carol', id FROM tenancy.roles WHERE organization_id = :'org_a' AND code = 'agent';
SET ROLE tenancy_app;
BEGIN; SELECT tenancy.enter(:'tok_c') IS NOT NULL AS entered; COMMIT;
RESET ROLE;
REVOKE EXECUTE ON FUNCTION tenancy.backend_cache_stats() FROM tenancy_app;

-- Replacing the change triggers' function locks the three tables as ENABLE
-- TRIGGER does (isolation shared_membership_cache shows why); a role that
-- does not own it replaces some other function of that name and locks
-- nothing of pg_tenancy's.
BEGIN;
CREATE OR REPLACE FUNCTION tenancy.note_membership_change() RETURNS trigger
    AS '$libdir/pg_tenancy', 'tenancy_note_membership_change'
    LANGUAGE C SET search_path = pg_catalog, pg_temp;
SELECT relation::regclass AS locked FROM pg_locks
 WHERE pid = pg_backend_pid() AND mode = 'ShareRowExclusiveLock' ORDER BY 1;
ROLLBACK;
SET ROLE tenancy_app;
BEGIN;
CREATE OR REPLACE FUNCTION pg_temp.note_membership_change() RETURNS int LANGUAGE sql AS 'SELECT 1';
SELECT count(*) AS locked FROM pg_locks WHERE pid = pg_backend_pid() AND mode = 'ShareRowExclusiveLock';
ROLLBACK;
RESET ROLE;
