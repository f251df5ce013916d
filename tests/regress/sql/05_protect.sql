-- 05_protect: tenancy.protect() and tenancy.unprotect(): what they install,
-- idempotence, partitions, bad input, and plans.
\set VERBOSITY terse
\i tests/regress/include/setup_vars.psql
\set tok_a `:mint --user :alice --org :org_a`
\set tok_b `:mint --user :bob --org :org_b`
\set tok_carol `:mint --user :carol --org :org_a`
SET ROLE tenancy_owner;

-- What protect() installed on app.tickets in 00_setup.
SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = 'app.tickets'::regclass;
SELECT polname, polpermissive, polcmd, pg_get_expr(polqual, polrelid) AS using_expr,
       pg_get_expr(polwithcheck, polrelid) AS check_expr
  FROM pg_policy WHERE polrelid = 'app.tickets'::regclass ORDER BY polname;
SELECT pg_get_expr(adbin, adrelid) AS org_default FROM pg_attrdef
 WHERE adrelid = 'app.tickets'::regclass AND adnum = 2;
SELECT indexrelid::regclass AS org_index FROM pg_index
 WHERE indrelid = 'app.tickets'::regclass AND indkey[0] = 2;
SELECT tgname FROM pg_trigger WHERE tgrelid = 'app.tickets'::regclass AND NOT tgisinternal;
SELECT * FROM tenancy.protected_tables ORDER BY table_name::text;

-- Idempotent: a second call changes nothing and creates no second index.
SELECT tenancy.protect('app.tickets');
SELECT count(*) AS org_indexes FROM pg_index WHERE indrelid = 'app.tickets'::regclass AND indkey[0] = 2;
SELECT count(*) AS policies FROM pg_policy WHERE polrelid = 'app.tickets'::regclass;

-- Bad input gets a clear error and changes nothing.
CREATE TABLE app.no_org (id int);
CREATE TABLE app.text_org (id int, organization_id text);
CREATE VIEW app.tickets_view AS SELECT * FROM app.tickets;
SELECT tenancy.protect('app.no_org');
SELECT tenancy.protect('app.text_org');
SELECT tenancy.protect('app.tickets_view');
SELECT tenancy.protect(NULL);
SELECT tenancy.protect('app.tickets', NULL);
SELECT tenancy.protect('app.does_not_exist');
SELECT relrowsecurity FROM pg_class WHERE oid IN ('app.no_org'::regclass, 'app.text_org'::regclass);
SELECT tenancy.unprotect('app.no_org');
-- Only the table's owner can protect it.
RESET ROLE;
CREATE TABLE public.someone_elses (organization_id uuid);
SET ROLE tenancy_owner;
SELECT tenancy.protect('public.someone_elses');
RESET ROLE;
DROP TABLE public.someone_elses;
SET ROLE tenancy_app;
SELECT tenancy.protect('app.tickets');
SELECT tenancy.unprotect('app.tickets');
SET ROLE tenancy_owner;

-- A table whose rows lack an organization cannot be protected until they have
-- one; the failed call leaves the table exactly as it was.
CREATE TABLE app.notes (id int, tenant uuid, body text);
INSERT INTO app.notes VALUES (1, NULL, 'orphan');
SELECT tenancy.protect('app.notes', 'tenant');
SELECT relrowsecurity, (SELECT count(*) FROM pg_policy WHERE polrelid = 'app.notes'::regclass) AS policies
  FROM pg_class WHERE oid = 'app.notes'::regclass;
-- A custom organization column name.
UPDATE app.notes SET tenant = :'org_a';
SELECT tenancy.protect('app.notes', 'tenant');
SELECT pg_get_expr(polqual, polrelid) AS using_expr FROM pg_policy
 WHERE polrelid = 'app.notes'::regclass AND polname = 'tenancy_isolation';

-- Partitioned tables: every partition gets its own policies, so querying a
-- partition directly is isolated too.
CREATE TABLE app.events (organization_id uuid NOT NULL, id bigint, at date NOT NULL, what text)
    PARTITION BY RANGE (at);
CREATE TABLE app.events_2025 PARTITION OF app.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE app.events_2026 PARTITION OF app.events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
SELECT tenancy.protect('app.events');
SELECT tenancy.protect('app.events_2025');
SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
       (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies,
       (SELECT count(*) FROM pg_trigger t WHERE t.tgrelid = c.oid AND t.tgname = 'tenancy_org_immutable') AS triggers
  FROM pg_class c WHERE c.relname LIKE 'events%' AND c.relkind IN ('r', 'p') ORDER BY c.relname;
GRANT SELECT, INSERT, UPDATE, DELETE ON app.events, app.events_2025, app.events_2026 TO tenancy_app;
SET ROLE tenancy_app;
BEGIN;
SELECT tenancy.enter(:'tok_a');
INSERT INTO app.events (id, at, what) VALUES (1, '2025-06-01', 'acme 2025'), (2, '2026-06-01', 'acme 2026');
COMMIT;
BEGIN;
SELECT tenancy.enter(:'tok_b');
INSERT INTO app.events (id, at, what) VALUES (3, '2025-07-01', 'globex 2025');
SELECT what FROM app.events ORDER BY id;
SELECT what FROM app.events_2025 ORDER BY id;
SELECT what FROM ONLY app.events_2026 ORDER BY id;
UPDATE app.events_2025 SET what = 'overwritten';
-- Moving a row between partitions is fine; moving it between organizations is not.
UPDATE app.events SET at = '2026-07-01' WHERE id = 3;
UPDATE app.events SET organization_id = :'org_a' WHERE id = 3;
COMMIT;
SET ROLE tenancy_owner;

-- Partitions created or attached later, and classic inheritance children, are
-- protected at once by pg_tenancy's event trigger.
CREATE TABLE app.events_2027 PARTITION OF app.events FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');
CREATE TABLE app.events_2028 (organization_id uuid NOT NULL, id bigint, at date NOT NULL, what text);
ALTER TABLE app.events ATTACH PARTITION app.events_2028 FOR VALUES FROM ('2028-01-01') TO ('2029-01-01');
CREATE TABLE app.docs (organization_id uuid NOT NULL, body text);
CREATE TABLE app.docs_archive (archived_at date) INHERITS (app.docs);
SELECT tenancy.protect('app.docs');
CREATE TABLE app.docs_draft () INHERITS (app.docs);
CREATE TABLE app.docs_extra (organization_id uuid NOT NULL, body text);
ALTER TABLE app.docs_extra INHERIT app.docs;
SELECT c.relname, c.relrowsecurity AND c.relforcerowsecurity AS forced,
       (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies,
       (SELECT count(*) FROM pg_trigger t WHERE t.tgrelid = c.oid AND t.tgname = 'tenancy_org_immutable') AS triggers,
       (SELECT count(*) FROM pg_index i WHERE i.indrelid = c.oid AND i.indkey[0] = 1) AS org_indexes
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'app' AND c.relname ~ '^(events|docs)' AND c.relkind IN ('r', 'p') ORDER BY c.relname;
GRANT SELECT, INSERT ON app.docs, app.docs_archive, app.docs_draft, app.docs_extra, app.events_2027 TO tenancy_app;
SET ROLE tenancy_app;
BEGIN;
SELECT tenancy.enter(:'tok_a');
INSERT INTO app.docs_archive (body, archived_at) VALUES ('acme archived', '2026-01-01');
INSERT INTO app.docs_extra (body) VALUES ('acme extra');
INSERT INTO app.events_2027 (id, at, what) VALUES (4, '2027-03-01', 'acme 2027');
COMMIT;
BEGIN;
SELECT tenancy.enter(:'tok_b');
SELECT count(*) AS globex_sees FROM app.docs;
SELECT count(*) AS globex_sees_child FROM app.docs_archive;
SELECT count(*) AS globex_sees_new_partition FROM app.events_2027;
INSERT INTO app.docs_draft (organization_id, body) VALUES (:'org_a', 'planted in acme');
ROLLBACK;
SET ROLE tenancy_owner;
-- unprotect() covers a plain table and every inheritance child.
SELECT tenancy.unprotect('app.docs');
SELECT c.relname, c.relrowsecurity, (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'app' AND c.relname ~ '^docs' AND c.relkind = 'r' ORDER BY c.relname;
SELECT tenancy.unprotect('app.notes');
SELECT relrowsecurity, (SELECT count(*) FROM pg_policy WHERE polrelid = 'app.notes'::regclass) AS policies
  FROM pg_class WHERE oid = 'app.notes'::regclass;
-- protect() warns about grants row-level security cannot cover.
GRANT TRUNCATE, TRIGGER ON app.notes TO tenancy_app;
SELECT tenancy.protect('app.notes', 'tenant');
REVOKE TRUNCATE, TRIGGER ON app.notes FROM tenancy_app;
DROP TABLE app.docs CASCADE;

-- Row-level security cannot cover a foreign table, so none may join a
-- protected hierarchy.
RESET ROLE;
CREATE EXTENSION file_fdw;
CREATE SERVER files FOREIGN DATA WRAPPER file_fdw;
CREATE FOREIGN TABLE app.events_remote PARTITION OF app.events FOR VALUES FROM ('2030-01-01') TO ('2031-01-01')
    SERVER files OPTIONS (filename '/dev/null');
CREATE FOREIGN TABLE app.loose (organization_id uuid NOT NULL, id bigint, at date NOT NULL, what text)
    SERVER files OPTIONS (filename '/dev/null');
ALTER TABLE app.events ATTACH PARTITION app.loose FOR VALUES FROM ('2031-01-01') TO ('2032-01-01');
SELECT count(*) AS foreign_children FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
 WHERE i.inhparent = 'app.events'::regclass AND c.relkind = 'f';
DROP FOREIGN TABLE app.loose;
DROP EXTENSION file_fdw CASCADE;
SET ROLE tenancy_owner;

-- Per-command permissions: reads need tickets.read, writes tickets.write, and
-- the tenant condition stays inside every policy.
RESET ROLE;
SELECT tenancy.register_user('vic', 'vic@acme.example') AS vic \gset
SELECT tenancy.register_user('nora', 'nora@acme.example') AS nora \gset
INSERT INTO tenancy.roles (organization_id, code, name, permissions) VALUES
    (:'org_a', 'viewer', 'Viewer', '["tickets.read"]'), (:'org_a', 'commenter', 'Commenter', '["comments.write"]');
INSERT INTO tenancy.memberships (organization_id, user_id, role_id)
SELECT :'org_a'::uuid, :'vic'::uuid, id FROM tenancy.roles WHERE organization_id = :'org_a' AND code = 'viewer'
UNION ALL
SELECT :'org_a'::uuid, :'nora'::uuid, id FROM tenancy.roles WHERE organization_id = :'org_a' AND code = 'commenter';
\set tok_vic `:mint --user :vic --org :org_a`
\set tok_nora `:mint --user :nora --org :org_a`
SET ROLE tenancy_owner;
CREATE TABLE app.cases (id serial PRIMARY KEY, organization_id uuid NOT NULL, body text) PARTITION BY HASH (id);
CREATE TABLE app.cases_0 PARTITION OF app.cases FOR VALUES WITH (MODULUS 2, REMAINDER 0);
SELECT tenancy.protect('app.cases', 'organization_id', 'tickets.fly', 'tickets.write');
SELECT tenancy.protect('app.cases', 'organization_id', 'Tickets Read', 'tickets.write');
SELECT tenancy.protect('app.cases', read_permission => 'tickets.read', write_permission => 'tickets.write');
CREATE TABLE app.cases_1 PARTITION OF app.cases FOR VALUES WITH (MODULUS 2, REMAINDER 1);
SELECT polrelid::regclass, polname, polpermissive, polcmd, pg_get_expr(polqual, polrelid) AS using_expr,
       pg_get_expr(polwithcheck, polrelid) AS check_expr
  FROM pg_policy WHERE polrelid IN ('app.cases'::regclass, 'app.cases_1'::regclass) ORDER BY 1, 2;
SELECT table_name, read_permission, write_permission FROM tenancy.protected_tables
 WHERE table_name::text LIKE 'app.cases%' ORDER BY 1;
GRANT SELECT, INSERT, UPDATE, DELETE ON app.cases TO tenancy_app;
GRANT USAGE ON SEQUENCE app.cases_id_seq TO tenancy_app;
SET ROLE tenancy_app;
BEGIN;
SELECT tenancy.enter(:'tok_a');
INSERT INTO app.cases (body) VALUES ('acme case 1'), ('acme case 2');
COMMIT;
BEGIN;
SELECT tenancy.enter(:'tok_b');
INSERT INTO app.cases (body) VALUES ('globex case');
COMMIT;
-- The viewer reads but cannot write; the commenter sees nothing at all.
BEGIN;
SELECT tenancy.enter(:'tok_vic');
SELECT body FROM app.cases ORDER BY body;
INSERT INTO app.cases (body) VALUES ('by viewer');
ROLLBACK;
BEGIN;
SELECT tenancy.enter(:'tok_vic');
UPDATE app.cases SET body = 'edited by viewer';
DELETE FROM app.cases;
ROLLBACK;
BEGIN;
SELECT tenancy.enter(:'tok_nora');
SELECT count(*) AS commenter_sees FROM app.cases;
ROLLBACK;
-- Carol (agent: read and write) does both, in Acme only.
BEGIN;
SELECT tenancy.enter(:'tok_carol');
UPDATE app.cases SET body = body || ' (edited)' RETURNING body;
SELECT count(*) AS carol_sees FROM app.cases;
COMMIT;
SET ROLE tenancy_owner;
SELECT tenancy.unprotect('app.cases');
SELECT count(*) AS policies_left FROM pg_policy WHERE polrelid IN ('app.cases'::regclass, 'app.cases_0'::regclass,
                                                                 'app.cases_1'::regclass);
DROP TABLE app.cases;
RESET ROLE;
DELETE FROM tenancy.memberships WHERE user_id IN (:'vic', :'nora');
DELETE FROM tenancy.roles WHERE organization_id = :'org_a' AND code IN ('viewer', 'commenter');
DELETE FROM tenancy.users WHERE id IN (:'vic', :'nora');
SET ROLE tenancy_owner;

-- A permissive policy added by someone later cannot widen access across
-- organizations: pg_tenancy's restrictive policy still applies.
CREATE POLICY everyone_reads ON app.tickets FOR SELECT USING (true);
SELECT tenancy.protect('app.tickets');
SET ROLE tenancy_app;
BEGIN;
SELECT tenancy.enter(:'tok_a');
SELECT count(*) AS acme_only FROM app.tickets WHERE organization_id <> :'org_a';
COMMIT;
SET ROLE tenancy_owner;
DROP POLICY everyone_reads ON app.tickets;

-- Plans under a context: point lookups use the primary key, tenant-wide reads
-- use the organization index.
SET ROLE tenancy_app;
BEGIN;
SELECT tenancy.enter(:'tok_a');
EXPLAIN (COSTS OFF) SELECT * FROM app.tickets WHERE id = 42;
SET LOCAL enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM app.tickets;
COMMIT;

-- unprotect() reverses protect(); the index and NOT NULL stay.
SET ROLE tenancy_owner;
SELECT tenancy.unprotect('app.events');
SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
       (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies
  FROM pg_class c WHERE c.relname LIKE 'events%' AND c.relkind IN ('r', 'p') ORDER BY c.relname;
SELECT count(*) AS defaults_left FROM pg_attrdef WHERE adrelid = 'app.events'::regclass;
SELECT tenancy.unprotect('app.events');
SELECT tenancy.protect('app.events');
SELECT count(*) AS policies_again FROM pg_policy WHERE polrelid = 'app.events_2026'::regclass;
RESET ROLE;
DROP TABLE app.events, app.notes, app.no_org, app.text_org;
DROP VIEW app.tickets_view;
