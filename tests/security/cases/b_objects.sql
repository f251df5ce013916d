-- B: objects and paths that sidestep policies.

-- @case B01a a security_invoker view shows only the context's rows
BEGIN;
SELECT tenancy.enter(:'tok_alice_a');
SELECT sectest.expect(count(*) = 2 AND bool_and(organization_id = :'org_a'), 'only Acme through the view')
  FROM app.open_tickets;
ROLLBACK;
SELECT sectest.refused('SELECT count(*) FROM app.open_tickets', '42T02', 'the view without a context');

-- @case B01b a definer view leaks and is reported
-- @as admin
-- @db misconfigured
BEGIN;
SET LOCAL ROLE sec_app;
SELECT sectest.expect(count(DISTINCT organization_id) = 2, 'the definer view really leaks') FROM app.all_tickets;
RESET ROLE;
SELECT sectest.expect(EXISTS (SELECT 1 FROM tenancy.audit('sec_app') WHERE rule = 'T401'
                               AND object = 'app.all_tickets' AND severity = 'critical'), 'audit reports T401');
ROLLBACK;

-- @case B03 a materialized view over tenant data is reported
-- @as admin
BEGIN;
CREATE MATERIALIZED VIEW app.ticket_counts AS SELECT organization_id, count(*) FROM app.tickets GROUP BY 1;
GRANT SELECT ON app.ticket_counts TO sec_app;
SELECT sectest.expect(EXISTS (SELECT 1 FROM tenancy.audit('sec_app') WHERE rule = 'T402'
                               AND object = 'app.ticket_counts' AND severity = 'critical'), 'audit reports T402');
ROLLBACK;

-- @case B04a a SECURITY DEFINER function without search_path is reported
-- @as admin
-- @db misconfigured
SELECT sectest.expect(sectest.reported('T404', 'app.ticket_titles()'), 'audit reports T404');
SELECT sectest.expect(sectest.reported('T405', 'app.ticket_titles()'), 'audit reports T405');

-- @case B04b pg_tenancy's own SECURITY DEFINER functions pin search_path
SELECT sectest.expect(count(*) = 0, 'every tenancy SECURITY DEFINER function sets search_path')
  FROM pg_proc WHERE pronamespace = 'tenancy'::regnamespace AND prosecdef
   AND NOT coalesce(array_to_string(proconfig, ',') LIKE '%search_path=pg_catalog, pg_temp%', false);

-- @case B05a TRUNCATE is refused
BEGIN;
SELECT tenancy.enter(:'tok_alice_a');
SELECT sectest.refused('TRUNCATE app.tickets CASCADE', '42501', 'TRUNCATE app.tickets');
SELECT sectest.refused('TRUNCATE app.events_2025', '42501', 'TRUNCATE a partition');
ROLLBACK;

-- @case B05b a TRUNCATE grant is reported
-- @as admin
-- @db misconfigured
SELECT sectest.expect(sectest.reported('T204', 'app.accounts'), 'audit reports T204');

-- @case B06a an ungranted partition cannot be read; the parent shows only the context's rows
BEGIN;
SELECT tenancy.enter(:'tok_alice_a');
SELECT sectest.refused('SELECT count(*) FROM app.events_2026', '42501', 'partition without a grant');
ROLLBACK;
BEGIN;
SELECT tenancy.enter(:'tok_alice_a');
SELECT sectest.expect(count(*) = 1, 'Acme sees its one event through the parent') FROM app.events;
ROLLBACK;

-- @case B06b a partition granted directly still enforces the tenant policy
BEGIN;
SELECT tenancy.enter(:'tok_alice_a');
SELECT sectest.expect(count(*) = 1 AND bool_and(organization_id = :'org_a'), 'only Acme in the partition')
  FROM app.events_2025;
SELECT sectest.refused(format('INSERT INTO app.events_2025 VALUES (%L, %L, %L)', :'org_b', '2025-02-02', 'x'),
                       '42501', 'direct insert into the partition for Globex');
ROLLBACK;

-- @case B06c a partition created later is protected at once
-- @as admin
BEGIN;
SET LOCAL client_min_messages = warning;
CREATE TABLE app.events_2027 PARTITION OF app.events FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');
SELECT sectest.expect(c.relrowsecurity AND c.relforcerowsecurity, 'RLS enabled and forced')
  FROM pg_class c WHERE c.oid = 'app.events_2027'::regclass;
SELECT sectest.expect(count(*) = 1, 'tenancy_guard present') FROM pg_policy
 WHERE polrelid = 'app.events_2027'::regclass AND polname = 'tenancy_guard';
ROLLBACK;

-- @case B06d a partition with RLS switched off is reported
-- @as admin
-- @db misconfigured
SELECT sectest.expect(EXISTS (SELECT 1 FROM tenancy.audit('sec_app') WHERE rule = 'T105'
                               AND object = 'app.events_2025' AND severity = 'critical'), 'audit reports T105');

-- @case B07 an inheritance child read directly shows only the context's rows
BEGIN;
SELECT tenancy.enter(:'tok_alice_a');
SELECT sectest.expect(count(*) = 0, 'Globex''s archived note is invisible') FROM app.notes_archive;
ROLLBACK;
BEGIN;
SELECT tenancy.enter(:'tok_bob_b');
SELECT sectest.expect(count(*) = 1, 'Globex reads its archived note directly') FROM app.notes_archive;
SELECT sectest.expect(count(*) = 2, 'and its two notes through the parent') FROM app.notes;
ROLLBACK;

-- @case B08 a foreign table with tenant data is reported
-- @as admin
BEGIN;
CREATE EXTENSION IF NOT EXISTS file_fdw;
CREATE SERVER files FOREIGN DATA WRAPPER file_fdw;
CREATE FOREIGN TABLE app.imported (organization_id uuid, body text) SERVER files OPTIONS (filename '/dev/null');
GRANT SELECT ON app.imported TO sec_app;
SELECT sectest.expect(EXISTS (SELECT 1 FROM tenancy.audit('sec_app') WHERE rule = 'T403'
                               AND object = 'app.imported' AND severity = 'critical'), 'audit reports T403');
ROLLBACK;

-- @case B09 another role's large object cannot be read
SELECT sectest.refused('SELECT lo_get(424242)', '42501', 'lo_get of the fixture''s large object');
SELECT sectest.expect(current_setting('lo_compat_privileges') = 'off', 'lo_compat_privileges is off');

-- @case B10 sequences do not reveal the platform's volume
SELECT sectest.refused('SELECT last_value FROM app.tickets_id_seq', '42501', 'reading the identity sequence');

-- @case B13 a publication of a tenant table is reported
-- @as admin
BEGIN;
CREATE PUBLICATION analytics FOR TABLE app.tickets;
SELECT sectest.expect(sectest.reported('T411', 'analytics'), 'audit reports T411');
ROLLBACK;

-- @case B15a a rule on a tenant table is reported
-- @as admin
BEGIN;
CREATE TABLE app.ticket_log (title text);
CREATE RULE log_tickets AS ON INSERT TO app.tickets DO ALSO INSERT INTO app.ticket_log VALUES (NEW.title);
SELECT sectest.expect(sectest.reported('T407', 'rule log_tickets ON app.tickets'), 'audit reports T407');
ROLLBACK;

-- @case B15b a SECURITY DEFINER trigger on a tenant table is reported
-- @as admin
BEGIN;
CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS 'BEGIN RETURN NEW; END';
CREATE TRIGGER touch BEFORE INSERT ON app.notes FOR EACH ROW EXECUTE FUNCTION app.touch();
SELECT sectest.expect(sectest.reported('T406', 'touch ON app.notes'), 'audit reports T406');
ROLLBACK;

-- @case B16a temporary tables named like pg_tenancy's cannot fake a membership
CREATE TEMP TABLE memberships (organization_id uuid, user_id uuid, role_id uuid);
CREATE TEMP TABLE organizations (id uuid);
INSERT INTO pg_temp.memberships VALUES (:'org_b', :'alice', NULL);
INSERT INTO pg_temp.organizations VALUES (:'org_b');
SET search_path = pg_temp, public, tenancy;
BEGIN;
SELECT sectest.refused(format('SELECT tenancy.enter(%L)', :'tok_alice_b'), '42T01', 'enter Globex as alice');
ROLLBACK;

-- @case B16b a temporary function cannot replace a reader the policies call
CREATE FUNCTION pg_temp.current_org() RETURNS uuid LANGUAGE sql AS $$ SELECT '0b000000-0000-4000-8000-00000000000b'::uuid $$;
SET search_path = pg_temp, tenancy, public;
BEGIN;
SELECT tenancy.enter(:'tok_alice_a');
SELECT sectest.expect(count(*) = 2 AND bool_and(organization_id = :'org_a'), 'policies still read the real context')
  FROM app.tickets;
ROLLBACK;

-- @case B09b lo_compat_privileges stored for the application is reported; the auditor's own session is not
-- @as admin
BEGIN;
SET LOCAL lo_compat_privileges = on;
SELECT sectest.expect(NOT sectest.reported('T506', 'lo_compat_privileges'),
                      'the auditor''s session value does not reach the application: no T506');
ALTER ROLE sec_app SET lo_compat_privileges = on;
SELECT sectest.expect(EXISTS (SELECT 1 FROM tenancy.audit('sec_app') WHERE rule = 'T509' AND object = 'role sec_app'
                                AND severity = 'high' AND detail LIKE '%lo_compat_privileges%'), 'audit reports T509');
ROLLBACK;

-- @case B10b SELECT on a tenant table's sequence is reported
-- @as admin
BEGIN;
GRANT SELECT ON SEQUENCE app.tickets_id_seq TO sec_app;
SELECT sectest.expect(sectest.reported('T210', 'app.tickets_id_seq'), 'audit reports T210');
ROLLBACK;

-- @case B13b a publication FOR TABLES IN SCHEMA is reported
-- @as admin
BEGIN;
CREATE PUBLICATION analytics_schema FOR TABLES IN SCHEMA app;
SELECT sectest.expect(EXISTS (SELECT 1 FROM tenancy.audit('sec_app') WHERE rule = 'T411'
                               AND object = 'analytics_schema' AND detail LIKE '%app.tickets%'), 'audit reports T411');
ROLLBACK;
