-- C: existence oracles and side channels.

-- @case C01a a per-organization unique key tells nothing about other organizations
BEGIN;
SELECT tenancy.enter(:'tok_alice_a');
-- Globex has ceo@globex.example; Acme can still create its own.
SELECT sectest.expect(sectest.row_count($$INSERT INTO app.accounts (email) VALUES ('ceo@globex.example')$$) = 1,
                      'the same email is free in Acme');
ROLLBACK;

-- @case C01b a global unique key on a tenant table is reported
-- @as admin
BEGIN;
CREATE UNIQUE INDEX accounts_email_key ON app.accounts (email);
SELECT sectest.expect(EXISTS (SELECT 1 FROM tenancy.audit('sec_app') WHERE rule = 'T409'
                               AND object LIKE 'app.accounts_email_key%' AND severity = 'medium'),
                      'audit reports T409');
ROLLBACK;

-- @case C02a a composite foreign key gives the same answer for another tenant's row and for none
BEGIN;
SELECT tenancy.enter(:'tok_alice_a');
-- ticket 3 is Globex's; ticket 999 does not exist. Both must look the same.
SELECT sectest.expect(sectest.sqlstate_of($$INSERT INTO app.comments (ticket_id, body) VALUES (3, 'x')$$)
                      = sectest.sqlstate_of($$INSERT INTO app.comments (ticket_id, body) VALUES (999, 'x')$$)
                      AND sectest.sqlstate_of($$INSERT INTO app.comments (ticket_id, body) VALUES (999, 'x')$$) = '23503',
                      'same refusal for Globex''s ticket and a missing one');
ROLLBACK;

-- @case C02b a foreign key between tenant tables without the organization is reported
-- @as admin
BEGIN;
CREATE TABLE app.attachments (organization_id uuid NOT NULL, note_ticket bigint, ticket_org uuid);
SELECT tenancy.protect('app.attachments');
ALTER TABLE app.tickets ADD CONSTRAINT tickets_id_key UNIQUE (id);
ALTER TABLE app.attachments ADD CONSTRAINT attachments_ticket_fkey FOREIGN KEY (note_ticket) REFERENCES app.tickets (id);
SELECT sectest.expect(sectest.reported('T410', 'attachments_ticket_fkey ON app.attachments'), 'audit reports T410');
ROLLBACK;

-- @case C03 ON CONFLICT cannot probe another organization's keys
BEGIN;
SELECT tenancy.enter(:'tok_alice_a');
SELECT sectest.expect(sectest.row_count($$INSERT INTO app.accounts (email) VALUES ('ceo@globex.example')
                                         ON CONFLICT (organization_id, email) DO NOTHING$$) = 1,
                      'DO NOTHING inserts: no conflict with Globex''s row');
SELECT sectest.refused(format($$INSERT INTO app.accounts VALUES (%L, 'ceo@globex.example')
                                ON CONFLICT (organization_id, email) DO UPDATE SET email = excluded.email$$, :'org_b'),
                       '42501', 'upsert into Globex''s row');
ROLLBACK;

-- @case C04a a leaky function in WHERE sees only the context's rows
CREATE TEMP TABLE seen (secret text);
CREATE FUNCTION pg_temp.leak(s text) RETURNS boolean LANGUAGE plpgsql COST 0.0001 AS $$
BEGIN
    INSERT INTO pg_temp.seen VALUES (s);
    RETURN true;
END $$;
BEGIN;
SELECT tenancy.enter(:'tok_alice_a');
SELECT count(*) FROM app.tickets WHERE pg_temp.leak(secret);
SELECT sectest.expect(count(*) FILTER (WHERE secret LIKE 'globex%') = 0 AND count(*) > 0,
                      'the function never saw a Globex secret') FROM pg_temp.seen;
COMMIT;

-- @case C04b a user-defined LEAKPROOF function is reported
-- @as admin
BEGIN;
CREATE FUNCTION app.same(a text, b text) RETURNS boolean LANGUAGE sql IMMUTABLE LEAKPROOF AS 'SELECT a = b';
SELECT sectest.expect(sectest.reported('T408', 'app.same(text,text)'), 'audit reports T408');
ROLLBACK;

-- @case C05 EXPLAIN ANALYZE counts the same for another tenant's value and for none
-- With the index scan forced, so the counts come from the (organization_id,
-- email) index rather than a two-row sequential scan that could not tell.
SET enable_seqscan = off;
BEGIN;
SELECT tenancy.enter(:'tok_alice_a');
CREATE FUNCTION pg_temp.removed_rows(email text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    line text;
    removed text := '';
BEGIN
    FOR line IN EXECUTE format('EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) '
                               'SELECT * FROM app.accounts WHERE email = %L', email) LOOP
        IF line ~ 'Rows Removed|Heap Fetches|rows=|Scan' THEN
            removed := removed || regexp_replace(line, '\(actual rows=\d+ loops=\d+\)', '') || E'\n';
        END IF;
    END LOOP;
    RETURN removed;
END $$;
SELECT sectest.expect(pg_temp.removed_rows('ceo@globex.example') LIKE '%Index%Scan%', 'the index is used');
SELECT sectest.expect(pg_temp.removed_rows('ceo@globex.example') = pg_temp.removed_rows('nobody@nowhere.example'),
                      'the plan for Globex''s email looks like the plan for an unknown one');
ROLLBACK;

-- @case C06 pg_stats hides the statistics of protected tables
SELECT sectest.expect(last_analyze IS NOT NULL, 'the table has statistics (the fixture ran ANALYZE)')
  FROM pg_stat_user_tables WHERE relid = 'app.tickets'::regclass;
SELECT sectest.expect(count(*) = 0, 'no statistics rows for app.tickets') FROM pg_stats
 WHERE schemaname = 'app' AND tablename = 'tickets';

-- @case C07 the server has the fixes for the statistics and RLS CVEs
SELECT sectest.expect(current_setting('server_version_num')::int >= 150014, 'PostgreSQL 15.14 or later');

-- @case C08 a token passed to enter() is not stored in pg_stat_statements
BEGIN;
SELECT tenancy.enter(:'tok_alice_a');
COMMIT;
SELECT sectest.expect(count(*) = 0, 'no statement text contains a token')
  FROM pg_stat_statements WHERE query LIKE '%eyJ%';

-- @case C08b a token written into SQL text is reported
-- @as admin
-- PostgreSQL 15 keeps utility statements verbatim: this one records the token,
-- even though its transaction is rolled back.
BEGIN;
COMMENT ON SCHEMA sectest IS :'tok_alice_a';
SELECT sectest.expect(sectest.reported('T508', '%pg_stat_statements'), 'audit reports T508');
ROLLBACK;
-- Forget this database's statements only.
SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database WHERE datname = current_database()), 0) IS NULL AS reset;
SELECT sectest.expect(NOT sectest.reported('T508', '%'), 'and no longer after the reset');

-- @case C08c a look-alike pg_stat_statements view is never queried by the audit
-- @as admin
BEGIN;
CREATE SEQUENCE public.lookalike_ran;
CREATE SCHEMA aaa;
CREATE FUNCTION aaa.mark() RETURNS bigint LANGUAGE sql AS $$ SELECT nextval('public.lookalike_ran') $$;
CREATE VIEW aaa.pg_stat_statements AS
    SELECT 'eyJ' || repeat('x', 16) || '.x' AS query, oid AS dbid, aaa.mark() AS mark FROM pg_database;
SELECT count(*) >= 0 AS audited FROM tenancy.audit('sec_app');
SELECT sectest.expect(NOT is_called, 'the look-alike view ran nothing') FROM public.lookalike_ran;
ROLLBACK;
