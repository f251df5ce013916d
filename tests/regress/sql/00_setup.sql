-- 00_setup: the fixture every other test uses, built the way a real deployment
-- is: an owner (migration) role owns the tenant tables, and the application
-- role has no superuser, no BYPASSRLS, no ownership and no TRUNCATE.
\set VERBOSITY terse
CREATE EXTENSION pg_tenancy;

CREATE ROLE tenancy_owner NOLOGIN;
CREATE ROLE tenancy_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = 'tenancy_app';

CREATE SCHEMA app AUTHORIZATION tenancy_owner;
GRANT USAGE ON SCHEMA app TO tenancy_app;

-- The application's permissions join the vocabulary (a migration step).
SELECT tenancy.register_permission('tickets.read', 'Read tickets');
SELECT tenancy.register_permission('tickets.write', 'Create and edit tickets');
SELECT tenancy.register_permission('tickets.delete', 'Delete tickets');
SELECT tenancy.register_permission('comments.write', 'Comment on tickets');

-- Users are registered by a privileged role (here the superuser).
SELECT tenancy.register_user('alice', 'alice@acme.example') IS NOT NULL AS alice_registered;
SELECT tenancy.register_user('bob', 'Bob@Globex.example') IS NOT NULL AS bob_registered;
SELECT tenancy.register_user('carol', 'carol@acme.example') IS NOT NULL AS carol_registered;

-- The owner creates and protects the tenant table.
SET ROLE tenancy_owner;
CREATE TABLE app.tickets (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_id uuid NOT NULL,
    title           text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
SELECT tenancy.protect('app.tickets');
GRANT SELECT, INSERT, UPDATE, DELETE ON app.tickets TO tenancy_app;
RESET ROLE;

\i tests/regress/include/setup_vars.psql

-- Organizations are created by their first owner, in a user-only context.
SET ROLE tenancy_app;
\set tok `:mint --user :alice`
BEGIN;
SELECT tenancy.enter(:'tok');
SELECT tenancy.create_organization('Acme') IS NOT NULL AS acme_created;
COMMIT;
\set tok `:mint --user :bob --kid test-ed`
BEGIN;
SELECT tenancy.enter(:'tok');
SELECT tenancy.create_organization('Globex') IS NOT NULL AS globex_created;
COMMIT;
RESET ROLE;

\i tests/regress/include/setup_vars.psql
-- A custom role in Acme, for permission tests, and carol as an agent of Acme.
INSERT INTO tenancy.roles (organization_id, code, name, permissions)
VALUES (:'org_a', 'agent', 'Agent', '["tickets.read", "tickets.write", "comments.*"]');
INSERT INTO tenancy.memberships (organization_id, user_id, role_id)
SELECT :'org_a', :'carol', id FROM tenancy.roles WHERE organization_id = :'org_a' AND code = 'agent';

-- Two tickets per organization, written through the tenant context.
SET ROLE tenancy_app;
\set tok `:mint --user :alice --org :org_a`
BEGIN;
SELECT tenancy.enter(:'tok');
INSERT INTO app.tickets (title) VALUES ('acme: printer on fire'), ('acme: coffee machine');
COMMIT;
\set tok `:mint --user :bob --org :org_b --kid test-ed`
BEGIN;
SELECT tenancy.enter(:'tok');
INSERT INTO app.tickets (title) VALUES ('globex: quarterly report'), ('globex: secret plan');
COMMIT;
RESET ROLE;

-- As the superuser (who bypasses RLS), every row is there and carries its org.
SELECT o.name, t.title
  FROM app.tickets t JOIN tenancy.organizations o ON o.id = t.organization_id
 ORDER BY t.id;
SELECT o.name AS org, u.code AS member, r.code AS role, r.is_system, r.permissions
  FROM tenancy.memberships m
  JOIN tenancy.organizations o ON o.id = m.organization_id
  JOIN tenancy.users u ON u.id = m.user_id
  JOIN tenancy.roles r ON r.id = m.role_id
 ORDER BY o.name, u.code;
