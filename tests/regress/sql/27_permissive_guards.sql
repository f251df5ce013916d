-- 27_permissive_guards: Citus re-creates every policy on its shards AS
-- PERMISSIVE (issue 15). Simulated here without Citus: every pg_tenancy policy
-- on a table protected with read and write permissions is dropped and
-- re-created, same command and expressions, as PERMISSIVE. Then members
-- without the read permission read nothing, members without the write
-- permission change nothing, and no member sees another organization. With
-- 0.2.0's single FOR ALL tenant-only guard, the permissive copy let every
-- member of the organization read and write.
\set VERBOSITY terse
\i tests/regress/include/setup_vars.psql
\set tok_bob `:mint --user :bob --org :org_b`
\set tok_carol `:mint --user :carol --org :org_a`
SELECT tenancy.register_user('guard_reader', 'guard_reader@acme.example') AS reader \gset
SELECT tenancy.register_user('guard_outsider', 'guard_outsider@acme.example') AS outsider \gset
INSERT INTO tenancy.roles (organization_id, code, name, permissions) VALUES
    (:'org_a', 'guard_reader', 'Reads only', '["tickets.read"]'),
    (:'org_a', 'guard_outsider', 'Neither', '["comments.write"]');
INSERT INTO tenancy.memberships (organization_id, user_id, role_id)
SELECT :'org_a'::uuid, :'reader'::uuid, id FROM tenancy.roles WHERE organization_id = :'org_a' AND code = 'guard_reader'
UNION ALL
SELECT :'org_a'::uuid, :'outsider'::uuid, id FROM tenancy.roles
 WHERE organization_id = :'org_a' AND code = 'guard_outsider';
\set tok_reader `:mint --user :reader --org :org_a`
\set tok_outsider `:mint --user :outsider --org :org_a`

SET ROLE tenancy_owner;
CREATE TABLE app.shard (id int PRIMARY KEY, organization_id uuid NOT NULL, body text);
SELECT tenancy.protect('app.shard', read_permission => 'tickets.read', write_permission => 'tickets.write');
GRANT SELECT, INSERT, UPDATE, DELETE ON app.shard TO tenancy_app;
SET ROLE tenancy_app;
BEGIN;
SELECT tenancy.enter(:'tok_carol');
INSERT INTO app.shard (id, body) VALUES (1, 'acme one'), (2, 'acme two');
COMMIT;
BEGIN;
SELECT tenancy.enter(:'tok_bob');
INSERT INTO app.shard (id, body) VALUES (3, 'globex');
COMMIT;

-- What Citus does on every shard: the same policies, all permissive.
SET ROLE tenancy_owner;
DO $$
DECLARE
    pol record;
BEGIN
    FOR pol IN SELECT p.polname, p.polcmd, pg_get_expr(p.polqual, p.polrelid) AS qual,
                      pg_get_expr(p.polwithcheck, p.polrelid) AS checks
                 FROM pg_policy AS p
                WHERE p.polrelid = 'app.shard'::regclass AND p.polname = ANY (tenancy.policy_names()) LOOP
        EXECUTE format('DROP POLICY %I ON app.shard', pol.polname);
        EXECUTE format('CREATE POLICY %I ON app.shard AS PERMISSIVE FOR %s TO PUBLIC%s%s', pol.polname,
                       CASE pol.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
                                       WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,
                       ' USING (' || pol.qual || ')', ' WITH CHECK (' || pol.checks || ')');
    END LOOP;
END
$$;
SELECT polname, polpermissive, polcmd, pg_get_expr(polqual, polrelid) AS using_expr,
       pg_get_expr(polwithcheck, polrelid) AS check_expr
  FROM pg_policy WHERE polrelid = 'app.shard'::regclass ORDER BY polname;
SET ROLE tenancy_app;
\set ON_ERROR_ROLLBACK on

-- A member with neither permission: reads nothing, changes nothing.
BEGIN;
SELECT tenancy.enter(:'tok_outsider');
SELECT count(*) AS outsider_reads FROM app.shard;
INSERT INTO app.shard (id, body) VALUES (10, 'by outsider');
UPDATE app.shard SET body = 'changed by outsider';
UPDATE app.shard SET body = 'changed by outsider' WHERE id = 1;
DELETE FROM app.shard;
DELETE FROM app.shard WHERE id = 1 RETURNING id;
INSERT INTO app.shard (id, body) VALUES (1, 'upsert by outsider')
    ON CONFLICT (id) DO UPDATE SET body = EXCLUDED.body;
COMMIT;

-- A member who may read: the organization's rows only, and no change.
BEGIN;
SELECT tenancy.enter(:'tok_reader');
SELECT id, body FROM app.shard ORDER BY id;
INSERT INTO app.shard (id, body) VALUES (11, 'by reader');
UPDATE app.shard SET body = 'changed by reader' WHERE id = 1;
UPDATE app.shard SET body = 'changed by reader' RETURNING id;
DELETE FROM app.shard WHERE id = 2;
DELETE FROM app.shard;
INSERT INTO app.shard (id, body) VALUES (1, 'upsert by reader')
    ON CONFLICT (id) DO UPDATE SET body = EXCLUDED.body;
COMMIT;

-- A member who may read and write: in the organization only.
BEGIN;
SELECT tenancy.enter(:'tok_carol');
SELECT id, body FROM app.shard ORDER BY id;
SELECT count(*) AS globex_rows_seen FROM app.shard WHERE organization_id = :'org_b';
UPDATE app.shard SET body = 'changed by carol' WHERE id = 3;
DELETE FROM app.shard WHERE id = 3;
INSERT INTO app.shard (id, organization_id, body) VALUES (12, :'org_b', 'planted in globex');
UPDATE app.shard SET organization_id = :'org_b' WHERE id = 1;
UPDATE app.shard SET body = body || ' (edited)' WHERE id = 1 RETURNING id, body;
COMMIT;

-- Nothing above reached Globex's row or changed Acme's beyond carol's edit.
BEGIN;
SELECT tenancy.enter(:'tok_bob');
SELECT id, body FROM app.shard ORDER BY id;
COMMIT;
BEGIN;
SELECT tenancy.enter(:'tok_carol');
SELECT id, body FROM app.shard ORDER BY id;
COMMIT;
\set ON_ERROR_ROLLBACK off

-- The audit sees every guard turned permissive; protect() repairs them.
RESET ROLE;
SELECT rule, object, detail FROM tenancy.audit('tenancy_app') WHERE object = 'app.shard' ORDER BY rule, detail;
SET ROLE tenancy_owner;
SELECT tenancy.protect('app.shard', read_permission => 'tickets.read', write_permission => 'tickets.write');
RESET ROLE;
SELECT count(*) AS findings_after_repair FROM tenancy.audit('tenancy_app') WHERE object = 'app.shard';
-- A guard weakened to the tenant alone, one dropped, and 0.2.0's tenant-only
-- FOR ALL guard as Citus leaves it (permissive): each is reported.
SET ROLE tenancy_owner;
ALTER POLICY tenancy_guard_read ON app.shard USING (organization_id = tenancy.current_org());
DROP POLICY tenancy_guard_delete ON app.shard;
CREATE POLICY tenancy_guard ON app.shard AS PERMISSIVE FOR ALL TO PUBLIC
    USING (organization_id = tenancy.current_org()) WITH CHECK (organization_id = tenancy.current_org());
RESET ROLE;
SELECT rule, object, detail, remedy FROM tenancy.audit('tenancy_app') WHERE object = 'app.shard' ORDER BY rule, detail;

SET ROLE tenancy_owner;
DROP TABLE app.shard;
RESET ROLE;
DELETE FROM tenancy.memberships WHERE user_id IN (:'reader', :'outsider');
DELETE FROM tenancy.roles WHERE organization_id = :'org_a' AND code IN ('guard_reader', 'guard_outsider');
DELETE FROM tenancy.users WHERE id IN (:'reader', :'outsider');
