-- misconfigured.sql: applied on top of fixture.sql in a second database, the six
-- mistakes that most often turn row-level security into decoration. The runner
-- checks that `tenancy audit` reports each with its rule and exits non-zero, and
-- that tenancy.probe() sees the leaks they open.
\set ON_ERROR_STOP 1
\set VERBOSITY terse
SET client_min_messages = warning;

-- 1. The application connects as the owner of a table, and FORCE is off: the
--    owner is exempt from its own table's policies.          (T203, T103)
CREATE TABLE app.invoices (organization_id uuid NOT NULL, amount numeric NOT NULL);
SELECT tenancy.protect('app.invoices');
ALTER TABLE app.invoices NO FORCE ROW LEVEL SECURITY;
ALTER TABLE app.invoices OWNER TO sec_app;
INSERT INTO app.invoices VALUES ('0a000000-0000-4000-8000-00000000000a', 10),
                                ('0b000000-0000-4000-8000-00000000000b', 20);

-- 2. A view created by the superuser, without security_invoker: it reads the
--    table as its owner, who bypasses row-level security.   (T401)
CREATE VIEW app.all_tickets AS SELECT organization_id, title, secret FROM app.tickets;
GRANT SELECT ON app.all_tickets TO sec_app;

-- 3. TRUNCATE granted: row-level security does not apply to it.    (T204)
GRANT TRUNCATE ON app.accounts TO sec_app;

-- 4. A partition with its row-level security switched off, granted directly.   (T105)
ALTER TABLE app.events_2025 DISABLE ROW LEVEL SECURITY;
GRANT SELECT ON app.events_2025 TO sec_app;

-- 5. A permissive "USING (true)" policy added for a report.        (T301)
CREATE POLICY everyone_reads ON app.tickets FOR SELECT USING (true);

-- 6. A SECURITY DEFINER function without a pinned search_path, callable by the
--    application.                                                  (T404, T405)
CREATE FUNCTION app.ticket_titles() RETURNS SETOF text
    LANGUAGE sql SECURITY DEFINER AS 'SELECT title FROM app.tickets';
GRANT EXECUTE ON FUNCTION app.ticket_titles() TO sec_app;
