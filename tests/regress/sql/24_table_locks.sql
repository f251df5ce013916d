-- 24_table_locks: the application role may write a protected table's rows but
-- not lock the whole table against every organization: LOCK stronger than ROW
-- EXCLUSIVE is refused to roles that do not own the table (42501); owners and
-- superusers keep it, and unprotected tables are untouched. LOCK on a view
-- locks its base relations with the view owner's rights, recursively, so a view
-- (even a temporary one the application role owns) is refused when anything
-- below it is a protected table the caller does not own.
\set VERBOSITY terse
\set ON_ERROR_ROLLBACK on
SET ROLE tenancy_owner;
CREATE TABLE app.unprotected_notes (id int);
GRANT SELECT, INSERT, UPDATE, DELETE ON app.unprotected_notes TO tenancy_app;
CREATE VIEW app.ticket_titles AS SELECT title FROM app.tickets;
GRANT SELECT, UPDATE ON app.ticket_titles TO tenancy_app;
CREATE VIEW app.app_owned_titles AS SELECT title FROM app.tickets;
CREATE VIEW app.app_owned_notes AS SELECT id FROM app.unprotected_notes;
RESET ROLE;
ALTER VIEW app.app_owned_titles OWNER TO tenancy_app;
ALTER VIEW app.app_owned_notes OWNER TO tenancy_app;
SET ROLE tenancy_app;
BEGIN;
LOCK TABLE app.tickets IN ACCESS EXCLUSIVE MODE;
LOCK TABLE app.tickets IN SHARE MODE;
LOCK TABLE app.tickets IN SHARE UPDATE EXCLUSIVE MODE;
LOCK TABLE app.tickets;
LOCK TABLE app.unprotected_notes, app.tickets IN EXCLUSIVE MODE;
LOCK TABLE app.ticket_titles IN ACCESS EXCLUSIVE MODE;
LOCK TABLE app.app_owned_titles IN ACCESS EXCLUSIVE MODE;
CREATE TEMP VIEW my_tickets AS SELECT * FROM app.tickets;
LOCK my_tickets IN ACCESS EXCLUSIVE MODE;
CREATE TEMP VIEW my_ticket_view AS SELECT * FROM my_tickets;
LOCK my_ticket_view IN SHARE MODE;
CREATE TEMP VIEW my_sublink AS SELECT 1 AS one WHERE EXISTS (SELECT FROM app.tickets);
LOCK my_sublink IN EXCLUSIVE MODE;
CREATE TEMP VIEW my_cte AS WITH t AS (SELECT id FROM app.tickets) SELECT * FROM t;
LOCK my_cte IN ACCESS EXCLUSIVE MODE;
CREATE TEMP VIEW my_union AS SELECT id FROM app.unprotected_notes UNION ALL SELECT 1 FROM app.app_owned_titles;
LOCK my_union IN ACCESS EXCLUSIVE MODE;
CREATE TEMP VIEW my_invoker WITH (security_invoker) AS SELECT * FROM app.tickets;
LOCK my_invoker IN ACCESS EXCLUSIVE MODE;
-- A view over nothing protected locks like its tables.
CREATE TEMP VIEW my_notes AS SELECT * FROM app.app_owned_notes;
LOCK my_notes IN ACCESS EXCLUSIVE MODE;
LOCK my_tickets IN ROW EXCLUSIVE MODE;
SELECT mode FROM pg_locks WHERE relation = 'app.tickets'::regclass AND pid = pg_backend_pid() ORDER BY 1;
LOCK TABLE app.tickets IN ROW EXCLUSIVE MODE;
LOCK TABLE app.tickets IN ACCESS SHARE MODE;
LOCK TABLE app.unprotected_notes IN ACCESS EXCLUSIVE MODE;
LOCK TABLE app.no_such_table IN ACCESS EXCLUSIVE MODE;
SELECT mode FROM pg_locks WHERE relation = 'app.tickets'::regclass AND pid = pg_backend_pid() ORDER BY 1;
ROLLBACK;
RESET ROLE;
SET ROLE tenancy_owner;
BEGIN;
LOCK TABLE app.tickets IN ACCESS EXCLUSIVE MODE;
ROLLBACK;
DROP VIEW app.ticket_titles, app.app_owned_titles, app.app_owned_notes;
DROP TABLE app.unprotected_notes;
RESET ROLE;
BEGIN;
LOCK TABLE app.tickets IN ACCESS EXCLUSIVE MODE;
ROLLBACK;
