-- 09_roles_members: roles, members, ownership and the audit log, as the
-- application role, with every escalation attempt refused.
\set VERBOSITY terse
\i tests/regress/include/setup_vars.psql
SELECT tenancy.register_user('eve', 'eve@acme.example') AS eve \gset
INSERT INTO tenancy.memberships (organization_id, user_id, role_id)
SELECT :'org_a', :'eve', id FROM tenancy.roles WHERE organization_id = :'org_a' AND code = 'agent';
\set alice_a `:mint --user :alice --org :org_a`
\set carol_a `:mint --user :carol --org :org_a`
\set eve_a `:mint --user :eve --org :org_a`
\set bob_b `:mint --user :bob --org :org_b`
SET ROLE tenancy_app;
-- Keep going after expected errors inside a transaction.
\set ON_ERROR_ROLLBACK on

-- The owner manages roles.
BEGIN;
SELECT tenancy.enter(:'alice_a');
SELECT code, name, permissions, is_system, members FROM tenancy.list_roles();
SELECT tenancy.create_role('support', 'Support', '["tickets.read", "members.read"]') IS NOT NULL AS created;
SELECT tenancy.create_role('lead', 'Team lead',
       '["roles.read", "roles.manage", "members.read", "members.invite", "members.manage", "tickets.read"]') IS NOT NULL AS created;
SELECT tenancy.create_role('helper', 'Helper', '["tickets.read"]') IS NOT NULL AS created;
-- Bad input: clear errors, nothing stored.
SELECT tenancy.create_role('Bad Code', 'x', '[]');
SELECT tenancy.create_role('support', 'Again', '[]');
SELECT tenancy.create_role('weird', 'x', '["Tickets.READ"]');
SELECT tenancy.create_role('weird', 'x', '{"tickets.read": true}');
SELECT tenancy.create_role('weird', 'x', '["tickets.fly"]');
SELECT tenancy.create_role('weird', 'x', '["rockets.*"]');
SELECT tenancy.update_role('helper', permissions => '["tickets.fly"]');
SELECT tenancy.create_role(NULL, 'x', '[]');
SELECT tenancy.update_role('nope', 'x');
SELECT tenancy.update_role('owner', 'Boss');
SELECT tenancy.delete_role('owner');
SELECT tenancy.update_role('support', name => 'Support team');
SELECT tenancy.update_role('support', permissions => '["tickets.read", "tickets.write", "members.read"]');
SELECT tenancy.set_member_role(:'carol', 'lead');
SELECT code, name, permissions, members FROM tenancy.list_roles() WHERE NOT is_system;
COMMIT;

-- A lead holds roles.manage but not everything: no escalation past their own permissions.
BEGIN;
SELECT tenancy.enter(:'carol_a');
SELECT tenancy.create_role('deleter', 'Deleter', '["tickets.delete"]');
SELECT tenancy.create_role('everything', 'Everything', '["*"]');
SELECT tenancy.create_role('all_tickets', 'All tickets', '["tickets.*"]');
SELECT tenancy.create_role('reader', 'Reader', '["tickets.read"]') IS NOT NULL AS created;
SELECT tenancy.update_role('support', permissions => '["tickets.read"]');
SELECT tenancy.update_role('reader', permissions => '["tickets.read", "tickets.delete"]');
SELECT tenancy.delete_role('agent');
-- Members: a lead cannot touch owners, grant ownership, or hand out more than they hold.
SELECT tenancy.set_member_role(:'alice', 'reader');
SELECT tenancy.remove_member(:'alice');
SELECT tenancy.set_member_role(:'eve', 'owner');
SELECT tenancy.set_member_role(:'eve', 'agent');
SELECT tenancy.set_member_role(:'eve', 'reader');
SELECT tenancy.transfer_ownership(:'eve', 'reader');
-- Targets outside the organization look the same as ones that do not exist.
SELECT tenancy.set_member_role(:'bob', 'reader');
SELECT tenancy.set_member_role('00000000-0000-4000-8000-000000000000', 'reader');
SELECT tenancy.remove_member(:'carol');
SELECT code, role_code, is_owner FROM tenancy.list_members();
COMMIT;

-- Listing works in read-only transactions (and so on standbys); bad names are refused.
BEGIN READ ONLY;
SELECT tenancy.enter(:'carol_a');
SELECT count(*) AS members FROM tenancy.list_members();
SELECT count(*) > 0 AS roles FROM tenancy.list_roles();
COMMIT;
BEGIN;
SELECT tenancy.enter(:'alice_a');
SELECT tenancy.create_role('longname', repeat('x', 201), '[]');
SELECT tenancy.update_role('helper', name => '   ');
COMMIT;

-- An agent has none of the management permissions.
BEGIN;
SELECT tenancy.enter(:'eve_a');
SELECT tenancy.list_roles();
SELECT tenancy.list_members();
SELECT tenancy.create_role('mine', 'Mine', '[]');
SELECT tenancy.remove_member(:'carol');
COMMIT;

-- Deleting a role that members hold needs somewhere to move them.
BEGIN;
SELECT tenancy.enter(:'alice_a');
SELECT tenancy.set_member_role(:'eve', 'support');
SELECT tenancy.delete_role('support');
SELECT tenancy.delete_role('support', reassign_to => 'support');
SELECT tenancy.delete_role('support', reassign_to => 'helper');
SELECT code, role_code FROM tenancy.list_members() WHERE code = 'eve';
SELECT tenancy.delete_role('reader');
COMMIT;

-- Every organization keeps an owner.
BEGIN;
SELECT tenancy.enter(:'alice_a');
SELECT tenancy.leave_organization();
SELECT tenancy.set_member_role(:'alice', 'helper');
SELECT tenancy.remove_member(:'alice');
-- Ownership moves in one step: the new owner first, then the old one steps down.
SELECT tenancy.transfer_ownership(:'alice', 'helper');
SELECT tenancy.transfer_ownership(:'carol', 'owner');
SELECT tenancy.transfer_ownership(:'bob', 'helper');
SELECT tenancy.transfer_ownership(:'carol', 'helper');
SELECT code, role_code, is_owner FROM tenancy.list_members();
SELECT tenancy.transfer_ownership(:'eve', 'helper');
COMMIT;
-- Alice is now a helper; Carol owns Acme and gives it back.
\set carol_a `:mint --user :carol --org :org_a`
BEGIN;
SELECT tenancy.enter(:'carol_a');
SELECT tenancy.context()->'role'->>'code' AS carol_now;
SELECT tenancy.transfer_ownership(:'alice', 'lead');
COMMIT;
BEGIN;
SELECT tenancy.enter(:'alice_a');
SELECT code, role_code, is_owner FROM tenancy.list_members();
COMMIT;

-- Leaving: an ordinary member can; they are gone at once.
BEGIN;
SELECT tenancy.enter(:'eve_a');
SELECT tenancy.leave_organization();
COMMIT;
BEGIN;
SELECT tenancy.enter(:'eve_a');
ROLLBACK;

-- The audit log: tenant-scoped, needs audit.read, append-only.
BEGIN;
SELECT tenancy.enter(:'alice_a');
SELECT action, regexp_replace(details::text, '[0-9a-f]{8}-[0-9a-f-]{27}', '<uuid>', 'g') AS details,
       actor_id IS NOT NULL AS has_actor
  FROM tenancy.audit_log WHERE action <> 'organization.created' ORDER BY created_at, id;
SELECT count(*) AS foreign_entries FROM tenancy.audit_log WHERE organization_id <> :'org_a';
INSERT INTO tenancy.audit_log (action) VALUES ('member.added');
UPDATE tenancy.audit_log SET action = 'member.added';
DELETE FROM tenancy.audit_log;
COMMIT;
BEGIN;
SELECT tenancy.enter(:'carol_a');
SELECT count(*) AS lead_without_audit_read FROM tenancy.audit_log;
COMMIT;
BEGIN;
SELECT tenancy.enter(:'bob_b');
SELECT action FROM tenancy.audit_log ORDER BY created_at, id;
COMMIT;
RESET ROLE;
-- Even the table owner cannot rewrite history.
UPDATE tenancy.audit_log SET details = '{}' WHERE organization_id = :'org_a';
SELECT count(*) > 0 AS entries_kept FROM tenancy.audit_log WHERE organization_id = :'org_a';
