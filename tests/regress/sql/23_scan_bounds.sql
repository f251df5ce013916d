-- 23_scan_bounds: management functions read one organization's rows through
-- indexes, never every organization's. With 2,000 other organizations in the
-- tables, each call is checked for sequential scans of memberships,
-- invitations, roles, users and the audit log (pg_stat_xact_all_tables counts
-- this transaction's).
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
INSERT INTO tenancy.audit_log (organization_id, actor_id, action, details)
SELECT id, id, 'organization.created', '{}' FROM filler_users;
ANALYZE tenancy.users, tenancy.organizations, tenancy.roles, tenancy.memberships, tenancy.invitations, tenancy.audit_log;

CREATE FUNCTION pg_temp.seq_scans() RETURNS bigint LANGUAGE sql AS $$
    SELECT sum(seq_scan) FROM pg_stat_xact_all_tables
     WHERE relid IN ('tenancy.memberships'::regclass, 'tenancy.invitations'::regclass, 'tenancy.roles'::regclass,
                     'tenancy.users'::regclass, 'tenancy.audit_log'::regclass)
$$;
-- Which of them were scanned sequentially since `before` (per-table counts).
CREATE FUNCTION pg_temp.scans() RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_object_agg(relname, seq_scan) FROM pg_stat_xact_all_tables
     WHERE relid IN ('tenancy.memberships'::regclass, 'tenancy.invitations'::regclass, 'tenancy.roles'::regclass,
                     'tenancy.users'::regclass, 'tenancy.audit_log'::regclass)
$$;
CREATE FUNCTION pg_temp.scanned_since(before jsonb) RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(key || ' ' || (value::bigint - (before ->> key)::bigint), ', ' ORDER BY key), 'none')
      FROM jsonb_each_text(pg_temp.scans()) WHERE value::bigint > (before ->> key)::bigint
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

-- The other management functions, one transaction each (nothing is committed).
\set carol_a `:mint --user :carol --org :org_a`
\set bob_u `:mint --user :bob`
SET ROLE tenancy_app;
BEGIN;
SELECT tenancy.enter(:'alice_a');
SELECT tenancy.create_role('scan_probe', 'Scan probe', '["tickets.read"]') IS NOT NULL AS created;
SELECT pg_temp.scans() AS before \gset
SELECT tenancy.update_role('scan_probe', 'Scan probe 2', '["tickets.read", "tickets.write"]');
SELECT pg_temp.scanned_since(:'before') AS update_role_seq_scans;
SELECT pg_temp.scans() AS before \gset
SELECT tenancy.set_member_role(:'carol', 'scan_probe');
SELECT pg_temp.scanned_since(:'before') AS set_member_role_seq_scans;
SELECT pg_temp.scans() AS before \gset
SELECT tenancy.remove_member(:'carol');
SELECT pg_temp.scanned_since(:'before') AS remove_member_seq_scans;
ROLLBACK;
BEGIN;
SELECT tenancy.enter(:'alice_a');
SELECT pg_temp.scans() AS before \gset
SELECT tenancy.transfer_ownership(:'carol', 'agent');
SELECT pg_temp.scanned_since(:'before') AS transfer_ownership_seq_scans;
ROLLBACK;
BEGIN;
SELECT tenancy.enter(:'alice_a');
SELECT tenancy.invite('probe@acme.example', 'agent') IS NOT NULL AS invited;
SELECT id AS invitation FROM tenancy.list_invitations() WHERE email = 'probe@acme.example' \gset
SELECT pg_temp.scans() AS before \gset
SELECT tenancy.revoke_invitation(:'invitation');
SELECT pg_temp.scanned_since(:'before') AS revoke_invitation_seq_scans;
ROLLBACK;
BEGIN;
SELECT tenancy.enter(:'carol_a');
SELECT pg_temp.scans() AS before \gset
SELECT tenancy.leave_organization();
SELECT pg_temp.scanned_since(:'before') AS leave_organization_seq_scans;
ROLLBACK;
BEGIN;
SELECT tenancy.enter(:'bob_u');
SELECT pg_temp.scans() AS before \gset
SELECT count(*) AS organizations FROM tenancy.my_organizations();
SELECT pg_temp.scanned_since(:'before') AS my_organizations_seq_scans;
ROLLBACK;
RESET ROLE;
-- accept_invitation(): an invitation for bob into Acme, written directly (so
-- nothing is committed), accepted in bob's user-only context.
BEGIN;
INSERT INTO tenancy.invitations (organization_id, email, role_id, token_hash, invited_by, expires_at)
SELECT :'org_a', 'Bob@Globex.example', r.id, sha256(convert_to('tinv_scan_probe', 'UTF8')), :'alice', now() + interval '1 day'
  FROM tenancy.roles AS r WHERE r.organization_id = :'org_a' AND r.code = 'agent';
SET LOCAL ROLE tenancy_app;
SELECT tenancy.enter(:'bob_u');
SELECT pg_temp.scans() AS before \gset
SELECT tenancy.accept_invitation('tinv_scan_probe') = :'org_a' AS accepted;
SELECT pg_temp.scanned_since(:'before') AS accept_invitation_seq_scans;
ROLLBACK;
-- The plans behind them, for the record: index scans restricted to one organization.
EXPLAIN (COSTS OFF) SELECT count(*) FROM tenancy.memberships AS m WHERE m.role_id = '00000000-0000-4000-8000-000000000000';
EXPLAIN (COSTS OFF) DELETE FROM tenancy.invitations AS i WHERE i.role_id = '00000000-0000-4000-8000-000000000000';
EXPLAIN (COSTS OFF) SELECT * FROM tenancy.invitations AS i WHERE i.organization_id = '00000000-0000-4000-8000-000000000000' ORDER BY created_at DESC;
DELETE FROM tenancy.organizations WHERE id IN (SELECT id FROM filler_users);
DELETE FROM tenancy.users WHERE id IN (SELECT id FROM filler_users);
