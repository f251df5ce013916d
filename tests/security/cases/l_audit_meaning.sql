-- L: the audit judges what PostgreSQL grants and checks, not how it is spelled
-- (issue 14). Each misconfiguration is made in a rolled-back transaction; where
-- it opens a leak, the leak is shown as sec_app first, then the finding is
-- asserted on the right object at the right severity.

-- @case L01 a column grant on an unprotected table leaks and is reported critical
-- @as admin
BEGIN;
CREATE TABLE app.contacts (organization_id uuid NOT NULL, phone text);
INSERT INTO app.contacts VALUES (:'org_a', '+1 555 0100'), (:'org_b', '+1 555 0199');
GRANT SELECT (organization_id, phone) ON app.contacts TO sec_app;
SET LOCAL ROLE sec_app;
SELECT sectest.expect(count(DISTINCT organization_id) = 2, 'sec_app reads both organizations'' phones')
  FROM app.contacts;
RESET ROLE;
SELECT sectest.expect(EXISTS (SELECT 1 FROM tenancy.audit('sec_app') WHERE rule = 'T101' AND object = 'app.contacts'
                                                                      AND severity = 'critical'), 'T101 critical');
ROLLBACK;

-- @case L01b column grants of every kind count: INSERT or UPDATE or REFERENCES on one column
-- @as admin
BEGIN;
CREATE TABLE app.contacts (organization_id uuid NOT NULL, phone text);
CREATE TABLE app.contacts2 (organization_id uuid NOT NULL, phone text);
CREATE TABLE app.contacts3 (organization_id uuid NOT NULL, phone text);
GRANT INSERT (phone) ON app.contacts TO sec_app;
GRANT UPDATE (phone) ON app.contacts2 TO sec_app;
GRANT REFERENCES (organization_id) ON app.contacts3 TO PUBLIC;
SELECT sectest.expect(EXISTS (SELECT 1 FROM tenancy.audit('sec_app') WHERE rule = 'T101' AND object = t
                                                                      AND severity = 'critical'), 'T101 critical on ' || t)
  FROM unnest(ARRAY['app.contacts', 'app.contacts2', 'app.contacts3']) AS t;
ROLLBACK;

-- @case L02 a column grant on a definer view leaks and is reported critical
-- @as admin
BEGIN;
CREATE VIEW app.ticket_secrets AS SELECT organization_id, secret FROM app.tickets;
GRANT SELECT (organization_id, secret) ON app.ticket_secrets TO sec_app;
SET LOCAL ROLE sec_app;
SELECT sectest.expect(count(DISTINCT organization_id) = 2, 'sec_app reads both organizations'' secrets')
  FROM app.ticket_secrets;
RESET ROLE;
SELECT sectest.expect(EXISTS (SELECT 1 FROM tenancy.audit('sec_app') WHERE rule = 'T401' AND object = 'app.ticket_secrets'
                                                                      AND severity = 'critical'), 'T401 critical');
ROLLBACK;

-- @case L03 INSERT on three columns of tenancy.memberships: sec_app joins another organization as its owner
-- @as admin
BEGIN;
GRANT INSERT (organization_id, user_id, role_id) ON tenancy.memberships TO sec_app;
SET LOCAL ROLE sec_app;
INSERT INTO tenancy.memberships (organization_id, user_id, role_id)
VALUES (:'org_b', :'dave', '1b000000-0000-4000-8000-00000000001b');
RESET ROLE;
SELECT sectest.expect(EXISTS (SELECT 1 FROM tenancy.memberships WHERE user_id = :'dave' AND organization_id = :'org_b'),
                      'dave is now an owner of Globex');
SELECT sectest.expect(EXISTS (SELECT 1 FROM tenancy.audit('sec_app') WHERE rule = 'T207' AND object = 'tenancy.memberships'
                                                                      AND severity = 'critical'), 'T207 critical');
ROLLBACK;

-- @case L03b a column SELECT on tenancy.users, or UPDATE (role_id) on memberships, is reported critical
-- @as admin
BEGIN;
GRANT SELECT (email) ON tenancy.users TO sec_app;
GRANT UPDATE (role_id) ON tenancy.memberships TO sec_app;
SET LOCAL ROLE sec_app;
SELECT sectest.expect(count(*) >= 4, 'sec_app reads every user''s email') FROM (SELECT email FROM tenancy.users) AS u;
RESET ROLE;
SELECT sectest.expect(EXISTS (SELECT 1 FROM tenancy.audit('sec_app') WHERE rule = 'T207' AND object = t
                                                                      AND severity = 'critical'), 'T207 critical on ' || t)
  FROM unnest(ARRAY['tenancy.users', 'tenancy.memberships']) AS t;
ROLLBACK;

-- @case L04 a group with CREATEROLE: sec_app grants itself the tables' owner and reads everything
-- @as admin
BEGIN;
CREATE ROLE sec_admins NOLOGIN CREATEROLE;
GRANT sec_admins TO sec_app;
SET LOCAL ROLE sec_app;
SET LOCAL ROLE sec_admins;
GRANT sec_owner TO sec_app;
SET LOCAL ROLE sec_owner;
ALTER TABLE app.tickets DISABLE ROW LEVEL SECURITY;
SELECT sectest.expect(count(DISTINCT organization_id) = 2, 'every organization''s tickets') FROM app.tickets;
RESET ROLE;
ALTER TABLE app.tickets ENABLE ROW LEVEL SECURITY;
REVOKE sec_owner FROM sec_app;
SELECT sectest.expect(EXISTS (SELECT 1 FROM tenancy.audit('sec_app') WHERE rule = 'T206' AND object = 'sec_app'
                                AND severity = 'critical' AND detail LIKE '%sec_admins%CREATEROLE%'),
                      'T206 critical names the group');
ROLLBACK;

-- @case L04b the group's attributes count through a NOINHERIT membership and a chain of groups
-- @as admin
BEGIN;
CREATE ROLE sec_ops NOLOGIN REPLICATION CREATEDB;
CREATE ROLE sec_middle NOLOGIN NOINHERIT;
GRANT sec_ops TO sec_middle;
GRANT sec_middle TO sec_app;
ALTER ROLE sec_app NOINHERIT;
SELECT sectest.expect(EXISTS (SELECT 1 FROM tenancy.audit('sec_app') WHERE rule = 'T206' AND severity = 'high'
                                AND detail LIKE '%sec_ops%REPLICATION%'), 'T206 high for REPLICATION');
SELECT sectest.expect(EXISTS (SELECT 1 FROM tenancy.audit('sec_app') WHERE rule = 'T206' AND severity = 'high'
                                AND detail LIKE '%sec_ops%CREATEDB%'), 'T206 high for CREATEDB');
ROLLBACK;

-- @case L05 TRUNCATE granted to a group that a NOINHERIT application role can SET ROLE to
-- @as admin
BEGIN;
CREATE ROLE sec_cleaners NOLOGIN;
GRANT USAGE ON SCHEMA app TO sec_cleaners;
GRANT TRUNCATE ON app.accounts TO sec_cleaners;
ALTER ROLE sec_app NOINHERIT;
GRANT sec_cleaners TO sec_app;
SET LOCAL ROLE sec_app;
SET LOCAL ROLE sec_cleaners;
TRUNCATE app.accounts;
RESET ROLE;
SELECT sectest.expect(count(*) = 0, 'both organizations'' accounts are gone') FROM app.accounts;
SELECT sectest.expect(EXISTS (SELECT 1 FROM tenancy.audit('sec_app') WHERE rule = 'T204' AND object = 'app.accounts'
                                                                      AND severity = 'high'), 'T204 high');
ROLLBACK;

-- @case L05b a column grant reached only by SET ROLE makes an unprotected table reachable
-- @as admin
BEGIN;
CREATE TABLE app.contacts (organization_id uuid NOT NULL, phone text);
INSERT INTO app.contacts VALUES (:'org_a', '1'), (:'org_b', '2');
CREATE ROLE sec_phone NOLOGIN;
GRANT USAGE ON SCHEMA app TO sec_phone;
GRANT SELECT (organization_id) ON app.contacts TO sec_phone;
ALTER ROLE sec_app NOINHERIT;
GRANT sec_phone TO sec_app;
SET LOCAL ROLE sec_app;
SET LOCAL ROLE sec_phone;
SELECT sectest.expect(count(DISTINCT organization_id) = 2, 'both organizations') FROM app.contacts;
RESET ROLE;
SELECT sectest.expect(EXISTS (SELECT 1 FROM tenancy.audit('sec_app') WHERE rule = 'T101' AND object = 'app.contacts'
                                                                      AND severity = 'critical'), 'T101 critical');
ROLLBACK;

-- @case L06 "tenant OR true" and "1 = 1" open every organization and are reported critical
-- @as admin
BEGIN;
DROP POLICY tenancy_guard ON app.accounts;
CREATE POLICY p_or_true ON app.accounts FOR SELECT USING (organization_id = tenancy.current_org() OR true);
CREATE POLICY p_one ON app.accounts FOR SELECT USING (1 = 1);
CREATE POLICY p_not_false ON app.accounts FOR SELECT USING (NOT false OR organization_id = tenancy.current_org());
SET LOCAL ROLE sec_app;
SELECT tenancy.enter(:'tok_alice_a');
SELECT sectest.expect(count(*) FILTER (WHERE organization_id = :'org_b') > 0, 'alice reads Globex accounts')
  FROM app.accounts;
RESET ROLE;
SELECT sectest.expect(EXISTS (SELECT 1 FROM tenancy.audit('sec_app') WHERE rule = 'T301' AND object = p || ' ON app.accounts'
                                                                      AND severity = 'critical'), 'T301 critical on ' || p)
  FROM unnest(ARRAY['p_or_true', 'p_one', 'p_not_false']) AS p;
ROLLBACK;

-- @case L06b spellings that cannot be proven to require the tenant are reported critical without a guard
-- @as admin
BEGIN;
DROP POLICY tenancy_guard ON app.accounts;
CREATE POLICY p_coalesce ON app.accounts FOR SELECT USING (coalesce(organization_id = tenancy.current_org(), true));
CREATE POLICY p_or_not_null ON app.accounts FOR SELECT
    USING (organization_id = tenancy.current_org() OR email IS NOT NULL);
CREATE POLICY p_not_not ON app.accounts FOR SELECT USING (NOT NOT (organization_id = tenancy.current_org()));
CREATE POLICY p_case ON app.accounts FOR SELECT
    USING (CASE WHEN email LIKE '%@%' THEN true ELSE organization_id = tenancy.current_org() END);
CREATE POLICY p_text ON app.accounts FOR SELECT USING (organization_id::text = tenancy.current_org()::text);
CREATE POLICY p_insert ON app.accounts FOR INSERT
    WITH CHECK (organization_id = tenancy.current_org() OR email LIKE '%@globex.example');
CREATE POLICY p_update_check ON app.accounts FOR UPDATE
    USING (organization_id = tenancy.current_org()) WITH CHECK (email IS NOT NULL);
SET LOCAL ROLE sec_app;
SELECT tenancy.enter(:'tok_alice_a');
SELECT sectest.expect(count(*) FILTER (WHERE organization_id = :'org_b') > 0, 'alice reads Globex accounts')
  FROM app.accounts;
RESET ROLE;
SELECT sectest.expect(EXISTS (SELECT 1 FROM tenancy.audit('sec_app') WHERE rule = 'T302' AND object = p || ' ON app.accounts'
                                                                      AND severity = 'critical'), 'T302 critical on ' || p)
  FROM unnest(ARRAY['p_coalesce', 'p_or_not_null', 'p_not_not', 'p_case', 'p_text', 'p_insert',
                    'p_update_check']) AS p;
ROLLBACK;

-- @case L06c a proven tenant conjunct, either side, is not reported; with the guard, unproven ones are medium
-- @as admin
BEGIN;
CREATE POLICY p_good ON app.accounts FOR SELECT
    USING (email LIKE '%@%' AND (tenancy.current_org() = organization_id AND true));
CREATE POLICY p_good_write ON app.accounts FOR ALL
    USING (organization_id OPERATOR(pg_catalog.=) tenancy.current_org() AND email IS NOT NULL);
CREATE POLICY p_widening ON app.accounts FOR SELECT USING (email LIKE '%@acme.example');
SELECT sectest.expect(NOT EXISTS (SELECT 1 FROM tenancy.audit('sec_app') WHERE rule LIKE 'T30%'
                                    AND object IN ('p_good ON app.accounts', 'p_good_write ON app.accounts')),
                      'proven policies are not reported');
SELECT sectest.expect(EXISTS (SELECT 1 FROM tenancy.audit('sec_app') WHERE rule = 'T302'
                                AND object = 'p_widening ON app.accounts' AND severity = 'medium'),
                      'a widening policy under the guard is medium');
-- A restrictive policy that only looks like the guard does not confine anything.
DROP POLICY tenancy_guard ON app.accounts;
CREATE POLICY tenancy_guard ON app.accounts AS RESTRICTIVE USING (organization_id = tenancy.current_org() OR true);
SELECT sectest.expect(EXISTS (SELECT 1 FROM tenancy.audit('sec_app') WHERE rule = 'T302'
                                AND object = 'p_widening ON app.accounts' AND severity = 'critical'),
                      'with a guard that proves nothing it is critical');
ROLLBACK;

-- @case L07 a table protected on tenant_id with its trigger dropped and RLS off stays audited and probed
-- @as admin
BEGIN;
CREATE TABLE app.widgets (tenant_id uuid NOT NULL, name text NOT NULL);
SELECT tenancy.protect('app.widgets', 'tenant_id');
GRANT SELECT ON app.widgets TO sec_app;
INSERT INTO app.widgets VALUES (:'org_a', 'a'), (:'org_b', 'b');
DROP TRIGGER tenancy_org_immutable ON app.widgets;
ALTER TABLE app.widgets DISABLE ROW LEVEL SECURITY;
SET LOCAL ROLE sec_app;
SELECT sectest.expect(count(DISTINCT tenant_id) = 2, 'sec_app reads every organization''s widgets') FROM app.widgets;
RESET ROLE;
SELECT sectest.expect(EXISTS (SELECT 1 FROM tenancy.audit('sec_app') WHERE rule = 'T107' AND object = 'app.widgets'
                                                                      AND severity = 'medium'), 'T107 medium');
SELECT sectest.expect(EXISTS (SELECT 1 FROM tenancy.audit('sec_app') WHERE rule = 'T102' AND object = 'app.widgets'
                                                                      AND severity = 'critical'), 'T102 critical');
SELECT sectest.expect(EXISTS (SELECT 1 FROM tenancy.probe('sec_app') WHERE rule IN ('P001', 'P002')
                                                                      AND object = 'app.widgets'), 'the probe sees it');
ROLLBACK;

-- @case L07b the registry follows protect() and unprotect(), and only a table's owner may change its row
-- @as admin
BEGIN;
CREATE TABLE app.widgets (tenant_id uuid NOT NULL, name text NOT NULL);
ALTER TABLE app.widgets OWNER TO sec_owner;
SET LOCAL ROLE sec_owner;
SELECT tenancy.protect('app.widgets', 'tenant_id');
RESET ROLE;
SELECT sectest.expect(org_column = 'tenant_id', 'recorded') FROM tenancy.protection_registry
 WHERE table_name = 'app.widgets'::regclass;
SET LOCAL ROLE sec_app;
SELECT sectest.expect(sectest.row_count('DELETE FROM tenancy.protection_registry') = 0,
                      'sec_app cannot delete the rows of tables it does not own');
SELECT sectest.refused($$INSERT INTO tenancy.protection_registry VALUES ('app.tickets', 'x')$$, '42501|23505',
                       'sec_app cannot rewrite a row');
RESET ROLE;
SET LOCAL ROLE sec_owner;
SELECT tenancy.unprotect('app.widgets');
RESET ROLE;
SELECT sectest.expect(NOT EXISTS (SELECT 1 FROM tenancy.protection_registry WHERE table_name = 'app.widgets'::regclass),
                      'unprotect() removes it');
ROLLBACK;

-- @case L08 a standalone sequence behind DEFAULT nextval() tells sec_app the platform's volume
-- @as admin
BEGIN;
CREATE SEQUENCE app.account_numbers;
ALTER TABLE app.accounts ADD COLUMN n bigint DEFAULT nextval('app.account_numbers');
GRANT SELECT, USAGE ON SEQUENCE app.account_numbers TO sec_app;
SELECT nextval('app.account_numbers') FROM generate_series(1, 5);
SET LOCAL ROLE sec_app;
-- 2 existing accounts took a number when the column was added, then 5 more
SELECT sectest.expect(last_value = 7, 'sec_app reads how many accounts all organizations created')
  FROM app.account_numbers;
RESET ROLE;
SELECT sectest.expect(EXISTS (SELECT 1 FROM tenancy.audit('sec_app') WHERE rule = 'T210' AND object = 'app.account_numbers'
                                                                      AND severity = 'medium'), 'T210 medium');
ROLLBACK;

-- @case L09 settings stored for the application role or its database are reported by effect
-- @as admin
BEGIN;
ALTER ROLE sec_app SET statement_timeout = '1ms';
ALTER ROLE sec_app IN DATABASE tenancy_security SET lock_timeout = 1;
ALTER ROLE sec_app IN DATABASE tenancy_security SET lo_compat_privileges = on;
ALTER DATABASE tenancy_security SET search_path = app, public;
ALTER ROLE sec_app SET idle_session_timeout = '30min';
SELECT sectest.expect(EXISTS (SELECT 1 FROM tenancy.audit('sec_app') WHERE rule = 'T509' AND object = o
                                AND severity = s::tenancy.severity AND detail LIKE '%' || n || '%'),
                      format('T509 %s on %s: %s', s, o, n))
  FROM (VALUES ('role sec_app', 'high', 'statement_timeout'),
               ('role sec_app in database tenancy_security', 'high', 'lock_timeout'),
               ('role sec_app in database tenancy_security', 'high', 'lo_compat_privileges'),
               ('database tenancy_security', 'medium', 'search_path'),
               ('role sec_app', 'info', 'idle_session_timeout')) AS v(o, s, n);
-- What the stored values do to a session of the application (the same as SET at login).
SET LOCAL lo_compat_privileges = on;
SET LOCAL ROLE sec_app;
SELECT sectest.expect(length(lo_get(424242)) > 0, 'with lo_compat_privileges sec_app reads the superuser''s large object');
ROLLBACK;
SET ROLE sec_app;
SET statement_timeout = '1ms';
SELECT pg_sleep(0.05);
\set failed :ERROR
\set state :LAST_ERROR_SQLSTATE
RESET statement_timeout;
RESET ROLE;
SELECT sectest.expect_error(:'failed', :'state', '57014', 'a statement under a 1 ms statement_timeout');

-- @case L10a a large object written in one organization's context is read in another's
BEGIN;
SELECT tenancy.enter(:'tok_alice_a');
SELECT lo_from_bytea(0, 'acme contract') AS lo \gset
COMMIT;
BEGIN;
SELECT tenancy.enter(:'tok_bob_b');
SELECT sectest.expect(convert_from(lo_get(:lo), 'UTF8') = 'acme contract', 'Globex reads Acme''s large object');
COMMIT;
SELECT lo_unlink(:lo);

-- @case L10b large objects owned by the application role are reported high
-- @as admin
BEGIN;
SELECT lo_from_bytea(0, 'x') AS lo \gset
ALTER LARGE OBJECT :lo OWNER TO sec_app;
SELECT sectest.expect(EXISTS (SELECT 1 FROM tenancy.audit('sec_app') WHERE rule = 'T212'
                                AND object = 'large objects of sec_app' AND severity = 'high'), 'T212 high');
ROLLBACK;

-- @case L11 security_invoker in any boolean spelling is honoured: refused to sec_app, not reported
-- @as admin
BEGIN;
CREATE VIEW app.v_true WITH (security_invoker = 'TRUE') AS SELECT organization_id, title FROM app.tickets;
CREATE VIEW app.v_y WITH (security_invoker = 'y') AS SELECT organization_id, title FROM app.tickets;
CREATE VIEW app.v_on WITH (security_invoker = 'On') AS SELECT organization_id, title FROM app.tickets;
CREATE VIEW app.v_1 WITH (security_invoker = 1) AS SELECT organization_id, title FROM app.tickets;
GRANT SELECT ON app.v_true, app.v_y, app.v_on, app.v_1 TO sec_app;
SET LOCAL ROLE sec_app;
SELECT tenancy.enter(:'tok_alice_a');
SELECT sectest.expect(sectest.row_count(format('SELECT 1 FROM %s WHERE organization_id <> %L', v, :'org_a')) = 0,
                      v || ' shows no other organization''s row')
  FROM unnest(ARRAY['app.v_true', 'app.v_y', 'app.v_on', 'app.v_1']) AS v;
RESET ROLE;
SELECT sectest.expect(NOT EXISTS (SELECT 1 FROM tenancy.audit('sec_app') WHERE rule = 'T401'
                                    AND object IN ('app.v_true', 'app.v_y', 'app.v_on', 'app.v_1')), 'no T401');
ROLLBACK;

-- @case L11b a SECURITY DEFINER trigger function with a pinned search_path is T406 only
-- @as admin
BEGIN;
CREATE FUNCTION app.stamp() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp AS 'BEGIN RETURN NEW; END';
GRANT EXECUTE ON FUNCTION app.stamp() TO sec_app;
CREATE TRIGGER stamp BEFORE INSERT ON app.tickets FOR EACH ROW EXECUTE FUNCTION app.stamp();
SET LOCAL ROLE sec_app;
SELECT sectest.refused('SELECT app.stamp()', '0A000', 'a trigger function cannot be called');
RESET ROLE;
SELECT sectest.expect(EXISTS (SELECT 1 FROM tenancy.audit('sec_app') WHERE rule = 'T406'
                                AND object = 'stamp ON app.tickets' AND severity = 'medium'), 'T406 medium');
SELECT sectest.expect(NOT EXISTS (SELECT 1 FROM tenancy.audit('sec_app') WHERE rule IN ('T404', 'T405')
                                    AND object = 'app.stamp()'), 'no T404/T405');
ROLLBACK;

-- @case L11c a view over a security_invoker view is checked as the caller: no leak, not reported
-- @as admin
BEGIN;
CREATE VIEW app.outer_tickets AS SELECT organization_id, title FROM app.open_tickets;
GRANT SELECT ON app.outer_tickets TO sec_app;
SET LOCAL ROLE sec_app;
SELECT tenancy.enter(:'tok_alice_a');
SELECT sectest.expect(count(*) > 0 AND bool_and(organization_id = :'org_a'), 'only Acme''s tickets')
  FROM app.outer_tickets;
RESET ROLE;
SELECT sectest.expect(NOT EXISTS (SELECT 1 FROM tenancy.audit('sec_app') WHERE object = 'app.outer_tickets'
                                    AND severity >= 'high'), 'no high finding on the outer view');
-- A definer view two levels up, over a plain definer view, is still reported.
CREATE VIEW app.plain_tickets AS SELECT organization_id, title FROM app.tickets;
CREATE VIEW app.outer_plain AS SELECT organization_id, title FROM app.plain_tickets;
GRANT SELECT ON app.outer_plain TO sec_app;
SELECT sectest.expect(EXISTS (SELECT 1 FROM tenancy.audit('sec_app') WHERE rule = 'T401' AND object = 'app.outer_plain'
                                                                      AND severity = 'critical'), 'T401 critical');
ROLLBACK;

-- @case L11d the clean fixture has no high or critical finding
-- @as admin
SELECT sectest.expect(NOT EXISTS (SELECT 1 FROM tenancy.audit('sec_app') WHERE severity >= 'high'),
                      'no high or critical finding on the clean fixture');
SELECT sectest.expect(NOT EXISTS (SELECT 1 FROM tenancy.audit() WHERE severity >= 'high'),
                      'nor with the roles found by the audit itself');

-- @case L12 the audit functions do not pay JIT
-- @as admin
SELECT sectest.expect('jit=off' = ANY (proconfig), oid::regprocedure || ' runs with jit = off')
  FROM pg_proc WHERE oid IN ('tenancy.audit(regrole)'::regprocedure, 'tenancy.probe(regrole)'::regprocedure);

-- @case L13 T409 names the expression of an expression index
-- @as admin
BEGIN;
CREATE UNIQUE INDEX accounts_email_lower ON app.accounts (lower(email));
SELECT sectest.expect(EXISTS (SELECT 1 FROM tenancy.audit('sec_app') WHERE rule = 'T409'
                                AND object LIKE 'app.accounts_email_lower%' AND detail LIKE '%lower(email)%'),
                      'T409 detail shows lower(email)');
ROLLBACK;
