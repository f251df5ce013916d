-- demo.sql: the transcript examples/demo.sh plays. Everything after the setup
-- runs as tenancy_app, an ordinary role with no BYPASSRLS that owns nothing.
\set ECHO queries
\pset footer off
\getenv cli TENANCY_CLI
\getenv keyring TENANCY_KEYRING
\set mint :cli ' token mint --keyring ' :keyring

\echo '\n-- 1. A DBA installs pg_tenancy and protects the tickets table (one call).'
CREATE EXTENSION pg_tenancy;
CREATE ROLE tenancy_app;
CREATE TABLE tickets (id serial PRIMARY KEY, organization_id uuid NOT NULL, title text NOT NULL);
SELECT tenancy.protect('tickets');
GRANT SELECT, INSERT, UPDATE, DELETE ON tickets TO tenancy_app;
GRANT USAGE ON SEQUENCE tickets_id_seq TO tenancy_app;
SELECT tenancy.register_user('alice', 'alice@acme.example') AS alice \gset
SELECT tenancy.register_user('bob', 'bob@globex.example') AS bob \gset

\echo '\n-- 2. Alice and Bob each create an organization, in a user-only context.'
SET ROLE tenancy_app;
\set tok `:mint --user :alice`
BEGIN;
SELECT tenancy.enter(:'tok');
SELECT tenancy.create_organization('Acme') AS acme \gset
COMMIT;
\set tok `:mint --user :bob`
BEGIN;
SELECT tenancy.enter(:'tok');
SELECT tenancy.create_organization('Globex') AS globex \gset
COMMIT;

\echo '\n-- 3. Each writes tickets inside their own context; organization_id fills itself in.'
\set tok_acme `:mint --user :alice --org :acme`
\set tok_globex `:mint --user :bob --org :globex`
BEGIN;
SELECT tenancy.enter(:'tok_acme');
INSERT INTO tickets (title) VALUES ('Printer on fire'), ('Coffee machine broken');
COMMIT;
BEGIN;
SELECT tenancy.enter(:'tok_globex');
INSERT INTO tickets (title) VALUES ('Quarterly report'), ('Secret merger plan');
COMMIT;

\echo '\n-- 4. The forgotten WHERE clause: inside Acme''s context, SELECT * shows Acme only.'
BEGIN;
SELECT tenancy.enter(:'tok_acme');
SELECT tenancy.context()->>'org' = :'acme' AS in_acme, tenancy.context()->'role'->>'code' AS role;
SELECT title FROM tickets;
SELECT count(*) AS globex_rows_visible FROM tickets WHERE organization_id = :'globex';
COMMIT;

\echo '\n-- 5. After COMMIT the context is gone: no context, no rows (an error, by default).'
SELECT title FROM tickets;

\echo '\n-- 6. Forging the context fails, whichever way it is tried.'
SET tenancy.context = 'I am Globex';
BEGIN;
SELECT tenancy.enter(:'tok_acme');
SET LOCAL tenancy.context = :'tok_globex';
ROLLBACK;
SELECT set_config('tenancy.context', :'tok_globex', false);
BEGIN;
SELECT tenancy.enter(:'tok_acme' || 'x');
ROLLBACK;

\echo '\n-- 7. Alice holds a perfectly signed token for Globex, but is not a member: refused,'
\echo '--    with the same message a non-existent organization gets.'
\set tok_intruder `:mint --user :alice --org :globex`
BEGIN;
SELECT tenancy.enter(:'tok_intruder');
ROLLBACK;
BEGIN;
SELECT tenancy.enter(:'tok_acme');
INSERT INTO tickets (organization_id, title) VALUES (:'globex', 'planted');
ROLLBACK;
\echo '\nDone: the demo cluster is dropped now.'
