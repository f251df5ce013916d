-- fixture.sql: a small tenant database for the cluster checks (fixed ids so the
-- shell can mint tokens without querying).
CREATE EXTENSION pg_tenancy;
CREATE EXTENSION pg_stat_statements;
SELECT tenancy.register_permission('tickets.read', 'Read tickets');
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'check_app') THEN
    CREATE ROLE check_app NOSUPERUSER NOBYPASSRLS;
  END IF;
END $$;
INSERT INTO tenancy.users (id, code, email) VALUES
  ('aaaaaaaa-0000-4000-8000-000000000001', 'alice', 'alice@acme.example'),
  ('bbbbbbbb-0000-4000-8000-000000000002', 'bob', 'bob@globex.example');
INSERT INTO tenancy.organizations (id, name, created_by) VALUES
  ('0a000000-0000-4000-8000-00000000000a', 'Acme', 'aaaaaaaa-0000-4000-8000-000000000001'),
  ('0b000000-0000-4000-8000-00000000000b', 'Globex', 'bbbbbbbb-0000-4000-8000-000000000002');
INSERT INTO tenancy.roles (id, organization_id, code, name, permissions) VALUES
  ('1a000000-0000-4000-8000-00000000001a', '0a000000-0000-4000-8000-00000000000a', 'member', 'Member', '["tickets.*"]'),
  ('1b000000-0000-4000-8000-00000000001b', '0b000000-0000-4000-8000-00000000000b', 'member', 'Member', '["tickets.*"]');
INSERT INTO tenancy.memberships (organization_id, user_id, role_id) VALUES
  ('0a000000-0000-4000-8000-00000000000a', 'aaaaaaaa-0000-4000-8000-000000000001', '1a000000-0000-4000-8000-00000000001a'),
  ('0b000000-0000-4000-8000-00000000000b', 'bbbbbbbb-0000-4000-8000-000000000002', '1b000000-0000-4000-8000-00000000001b');
CREATE TABLE tickets (id serial PRIMARY KEY, organization_id uuid NOT NULL, title text NOT NULL);
SELECT tenancy.protect('tickets');
GRANT SELECT, INSERT, UPDATE, DELETE ON tickets TO check_app;
GRANT USAGE ON SEQUENCE tickets_id_seq TO check_app;
INSERT INTO tickets (organization_id, title) VALUES
  ('0a000000-0000-4000-8000-00000000000a', 'acme-1'),
  ('0a000000-0000-4000-8000-00000000000a', 'acme-2'),
  ('0b000000-0000-4000-8000-00000000000b', 'globex-1');
