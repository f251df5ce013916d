-- 23_scan_bounds: management functions read one organization's rows through
-- indexes, never every organization's. With 2,000 other organizations in the
-- tables, each call is checked for sequential scans of memberships,
-- invitations and roles (pg_stat_xact_all_tables counts this transaction's).
\set VERBOSITY terse
\i tests/regress/include/setup_vars.psql
CREATE TEMP TABLE filler_users AS
SELECT gen_random_uuid() AS id, i FROM generate_series(1, 2000) AS i;
INSERT INTO tenancy.users (id, code, email) SELECT id, 'filler' || i, 'filler' || i || '@filler.example' FROM filler_users;
INSERT INTO tenancy.organizations (id, name, created_by) SELECT id, 'Filler ' || i, id FROM filler_users;
INSERT INTO tenancy.roles (organization_id, code, name, permissions, is_system)
SELECT id, 'owner', 'Owner', '["*"]', true FROM filler_users;
INSERT INTO tenancy.roles (organization_id, code, name, permissions)
SELECT id, 'member', 'Member', '["tickets.read"]' FROM filler_users;
INSERT INTO tenancy.memberships (organization_id, user_id, role_id)
SELECT f.id, f.id, r.id FROM filler_users AS f JOIN tenancy.roles AS r ON r.organization_id = f.id AND r.code = 'owner';
INSERT INTO tenancy.invitations (organization_id, email, role_id, token_hash, invited_by, expires_at)
SELECT f.id, 'guest' || f.i || '@filler.example', r.id, sha256(convert_to(f.id::text, 'UTF8')), f.id, now() + interval '1 day'
  FROM filler_users AS f JOIN tenancy.roles AS r ON r.organization_id = f.id AND r.code = 'member';
ANALYZE tenancy.users, tenancy.organizations, tenancy.roles, tenancy.memberships, tenancy.invitations;

CREATE FUNCTION pg_temp.seq_scans() RETURNS bigint LANGUAGE sql AS $$
    SELECT sum(seq_scan) FROM pg_stat_xact_all_tables
     WHERE relid IN ('tenancy.memberships'::regclass, 'tenancy.invitations'::regclass, 'tenancy.roles'::regclass)
$$;
\set alice_a `:mint --user :alice --org :org_a`
SET ROLE tenancy_app;
BEGIN;
SELECT tenancy.enter(:'alice_a');
SELECT tenancy.create_role('scan_probe', 'Scan probe', '["tickets.read"]') IS NOT NULL AS created;
SELECT tenancy.invite('probe@acme.example', 'scan_probe') IS NOT NULL AS invited;
SELECT pg_temp.seq_scans() AS before \gset
SELECT count(*) > 0 AS listed FROM tenancy.list_roles();
SELECT pg_temp.seq_scans() - :before AS list_roles_seq_scans;
SELECT count(*) > 0 AS listed FROM tenancy.list_members();
SELECT pg_temp.seq_scans() - :before AS after_list_members_seq_scans;
SELECT count(*) > 0 AS listed FROM tenancy.list_invitations();
SELECT pg_temp.seq_scans() - :before AS after_list_invitations_seq_scans;
SELECT tenancy.delete_role('scan_probe');
SELECT pg_temp.seq_scans() - :before AS after_delete_role_seq_scans;
ROLLBACK;
RESET ROLE;
-- The plans behind them, for the record: index scans restricted to one organization.
EXPLAIN (COSTS OFF) SELECT count(*) FROM tenancy.memberships AS m WHERE m.role_id = '00000000-0000-4000-8000-000000000000';
EXPLAIN (COSTS OFF) DELETE FROM tenancy.invitations AS i WHERE i.role_id = '00000000-0000-4000-8000-000000000000';
EXPLAIN (COSTS OFF) SELECT * FROM tenancy.invitations AS i WHERE i.organization_id = '00000000-0000-4000-8000-000000000000' ORDER BY created_at DESC;
DELETE FROM tenancy.organizations WHERE id IN (SELECT id FROM filler_users);
DELETE FROM tenancy.users WHERE id IN (SELECT id FROM filler_users);
