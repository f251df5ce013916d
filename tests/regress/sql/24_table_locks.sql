-- 24_table_locks: the application role may write a protected table's rows but
-- not lock the whole table against every organization: LOCK stronger than ROW
-- EXCLUSIVE is refused to roles that do not own the table (42501); owners and
-- superusers keep it, and unprotected tables are untouched.
\set VERBOSITY terse
\set ON_ERROR_ROLLBACK on
SET ROLE tenancy_owner;
CREATE TABLE app.unprotected_notes (id int);
GRANT SELECT, INSERT, UPDATE, DELETE ON app.unprotected_notes TO tenancy_app;
CREATE VIEW app.ticket_titles AS SELECT title FROM app.tickets;
GRANT SELECT ON app.ticket_titles TO tenancy_app;
RESET ROLE;
SET ROLE tenancy_app;
BEGIN;
LOCK TABLE app.tickets IN ACCESS EXCLUSIVE MODE;
LOCK TABLE app.tickets IN SHARE MODE;
LOCK TABLE app.tickets IN SHARE UPDATE EXCLUSIVE MODE;
LOCK TABLE app.tickets;
LOCK TABLE app.unprotected_notes, app.tickets IN EXCLUSIVE MODE;
LOCK TABLE app.ticket_titles IN ACCESS EXCLUSIVE MODE;
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
DROP VIEW app.ticket_titles;
DROP TABLE app.unprotected_notes;
RESET ROLE;
BEGIN;
LOCK TABLE app.tickets IN ACCESS EXCLUSIVE MODE;
ROLLBACK;
