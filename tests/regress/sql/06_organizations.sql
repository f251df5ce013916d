-- 06_organizations: users, the organization creation flow, and the immutable
-- system owner role.
\set VERBOSITY terse
\i tests/regress/include/setup_vars.psql
\set tok_user `:mint --user :carol`
\set tok_org `:mint --user :alice --org :org_a`

-- register_user() validates and rejects duplicates (email case-insensitively).
SELECT tenancy.register_user('alice', 'other@acme.example');
SELECT tenancy.register_user('alice2', 'ALICE@ACME.EXAMPLE');
SELECT tenancy.register_user('bad code!', 'x@example.com');
SELECT tenancy.register_user('', 'x@example.com');
SELECT tenancy.register_user('dave', 'not-an-email');
SELECT tenancy.register_user('dave', repeat('a', 320) || '@example.com');
SELECT tenancy.register_user(NULL, 'x@example.com');
SELECT count(*) AS users FROM tenancy.users;

SET ROLE tenancy_app;
-- create_organization() needs a user-only context.
SELECT tenancy.create_organization('No context');
BEGIN;
SELECT tenancy.enter(:'tok_org');
SELECT tenancy.create_organization('From an org context');
ROLLBACK;
BEGIN;
SELECT tenancy.enter(:'tok_user');
SELECT tenancy.create_organization('   ');
ROLLBACK;
BEGIN;
SELECT tenancy.enter(:'tok_user');
SELECT tenancy.create_organization(repeat('x', 201));
ROLLBACK;
BEGIN;
SELECT tenancy.enter(:'tok_user');
SELECT tenancy.create_organization(NULL);
ROLLBACK;
BEGIN;
SELECT tenancy.enter(:'tok_user');
SELECT tenancy.create_organization('  Initech  ') AS initech \gset
COMMIT;
RESET ROLE;

-- Atomic owner flow: the organization, its system owner role, the membership.
SELECT o.name, u.code AS created_by FROM tenancy.organizations o JOIN tenancy.users u ON u.id = o.created_by
 WHERE o.id = :'initech';
SELECT r.code, r.name, r.permissions, r.is_system, u.code AS member
  FROM tenancy.roles r JOIN tenancy.memberships m ON m.role_id = r.id JOIN tenancy.users u ON u.id = m.user_id
 WHERE r.organization_id = :'initech';

-- The new owner can enter the new organization straight away.
\set tok_initech `:mint --user :carol --org :initech`
SET ROLE tenancy_app;
BEGIN;
SELECT tenancy.enter(:'tok_initech');
SELECT tenancy.context()->'role'->>'code' AS role, tenancy.has_permission('org.manage') AS can_manage;
COMMIT;
RESET ROLE;

-- The system owner role cannot be renamed, edited or deleted, even by the superuser...
UPDATE tenancy.roles SET name = 'Boss' WHERE organization_id = :'initech' AND code = 'owner';
UPDATE tenancy.roles SET permissions = '[]' WHERE organization_id = :'initech' AND code = 'owner';
UPDATE tenancy.roles SET is_system = false WHERE organization_id = :'initech' AND code = 'owner';
DELETE FROM tenancy.roles WHERE organization_id = :'initech' AND code = 'owner';
-- ...and a custom role cannot be turned into a system role.
UPDATE tenancy.roles SET is_system = true WHERE organization_id = :'org_a' AND code = 'agent';
-- Role data is validated.
INSERT INTO tenancy.roles (organization_id, code, name, permissions) VALUES (:'initech', 'Bad Code', 'x', '[]');
INSERT INTO tenancy.roles (organization_id, code, name, permissions) VALUES (:'initech', 'r1', 'x', '["Tickets.Read"]');
INSERT INTO tenancy.roles (organization_id, code, name, permissions) VALUES (:'initech', 'r2', 'x', '["tickets.read", "tickets.read"]');
INSERT INTO tenancy.roles (organization_id, code, name, permissions) VALUES (:'initech', 'r3', 'x', '{"a": 1}');
INSERT INTO tenancy.roles (organization_id, code, name, permissions) VALUES (:'initech', 'r4', 'x', '["a,b"]');
INSERT INTO tenancy.roles (organization_id, code, name, permissions) VALUES (:'initech', 'r5', 'x', '[1]');
-- The vocabulary check (unknown but well-formed permissions).
SELECT p, tenancy.unknown_permissions(jsonb_build_array(p)) AS unknown
  FROM unnest(ARRAY['tickets.read', 'tickets.fly', 'tickets.*', 'rockets.*', '*']) AS p;
SELECT tenancy.is_valid_permission(p) AS valid, p
  FROM unnest(ARRAY['*', 'tickets.*', 'tickets.read', 'a_b.c_d9', 'tickets', '*.read', 'tickets.read.all',
                    'Tickets.read', '9x.read', '', 'tickets.', '.read']) AS p;
-- A membership cannot point at another organization's role.
INSERT INTO tenancy.memberships (organization_id, user_id, role_id)
SELECT :'org_b', :'alice', id FROM tenancy.roles WHERE organization_id = :'org_a' AND code = 'agent';
-- One membership per user per organization.
INSERT INTO tenancy.memberships (organization_id, user_id, role_id)
SELECT :'org_a', :'alice', id FROM tenancy.roles WHERE organization_id = :'org_a' AND code = 'agent';

-- Deleting an organization removes its roles and memberships with it.
DELETE FROM tenancy.organizations WHERE id = :'initech';
SELECT count(*) AS leftovers FROM tenancy.roles WHERE organization_id = :'initech';

-- The tenancy tables are registered for pg_dump.
SELECT c.relname FROM pg_extension e, unnest(e.extconfig) AS cfg(oid) JOIN pg_class c ON c.oid = cfg.oid
 WHERE e.extname = 'pg_tenancy' ORDER BY 1;
