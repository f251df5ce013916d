-- 02_isolation: with a context entered, every statement sees and changes only
-- the current organization's rows, even when it never mentions the org column.
\set VERBOSITY terse
\i tests/regress/include/setup_vars.psql
\set tok_a `:mint --user :alice --org :org_a`
\set tok_b `:mint --user :bob --org :org_b --kid test-ed`
SELECT id AS globex_ticket FROM app.tickets WHERE title = 'globex: secret plan' \gset
SET ROLE tenancy_app;
-- Keep the transaction going after each expected error.
\set ON_ERROR_ROLLBACK on

BEGIN;
SELECT tenancy.enter(:'tok_a');
-- The forgotten WHERE clause.
SELECT title FROM app.tickets ORDER BY id;
SELECT count(*) FROM app.tickets;
-- Even asking for the other organization explicitly returns nothing.
SELECT count(*) FROM app.tickets WHERE organization_id = :'org_b';
-- Horizontal access by id: another tenant's ticket is simply not there.
SELECT count(*) FROM app.tickets WHERE id = :globex_ticket;
UPDATE app.tickets SET title = 'hijacked' WHERE id = :globex_ticket;
DELETE FROM app.tickets WHERE id = :globex_ticket;
-- Inserts take the organization from the context...
INSERT INTO app.tickets (title) VALUES ('acme: new') RETURNING organization_id = :'org_a' AS in_acme;
-- ...and cannot name another one.
INSERT INTO app.tickets (organization_id, title) VALUES (:'org_b', 'planted in globex');
-- Rows cannot move to another organization.
UPDATE app.tickets SET organization_id = :'org_b' WHERE title = 'acme: new';
-- Set-based writes touch only this tenant.
UPDATE app.tickets SET title = title || ' (seen)' RETURNING title;
-- Data-modifying CTEs and ON CONFLICT stay inside the tenant.
WITH moved AS (DELETE FROM app.tickets WHERE title LIKE 'acme: new%' RETURNING id, title)
SELECT count(*) AS deleted FROM moved;
INSERT INTO app.tickets (id, title) OVERRIDING SYSTEM VALUE VALUES (:globex_ticket, 'collide')
ON CONFLICT (id) DO UPDATE SET title = 'overwritten via upsert';
MERGE INTO app.tickets t USING (VALUES (:globex_ticket)) AS s(id) ON t.id = s.id
WHEN MATCHED THEN UPDATE SET title = 'merged'
WHEN NOT MATCHED THEN DO NOTHING;
-- COPY out is filtered by the same policy.
COPY (SELECT title FROM app.tickets ORDER BY id) TO STDOUT;
COPY app.tickets (title) TO STDOUT;
COMMIT;

-- Globex is untouched, and Globex sees only Globex.
BEGIN;
SELECT tenancy.enter(:'tok_b');
SELECT title FROM app.tickets ORDER BY id;
-- A cursor opened here ends with the transaction, context and all.
DECLARE c CURSOR FOR SELECT title FROM app.tickets ORDER BY id;
FETCH 1 FROM c;
COMMIT;
FETCH 1 FROM c;

-- A prepared statement planned under one tenant returns the next tenant's rows only.
PREPARE titles AS SELECT title FROM app.tickets ORDER BY id;
BEGIN;
SELECT tenancy.enter(:'tok_a');
EXECUTE titles;
COMMIT;
BEGIN;
SELECT tenancy.enter(:'tok_b');
EXECUTE titles;
COMMIT;
EXECUTE titles;
DEALLOCATE titles;

-- Without a context every command fails with SQLSTATE 42501.
\set VERBOSITY default
SELECT * FROM app.tickets;
\set VERBOSITY terse
INSERT INTO app.tickets (title) VALUES ('no context');
UPDATE app.tickets SET title = 'x';
DELETE FROM app.tickets;
COPY app.tickets TO STDOUT;

-- The application role has no way around RLS on this table.
TRUNCATE app.tickets;
ALTER TABLE app.tickets DISABLE ROW LEVEL SECURITY;
DROP POLICY tenancy_isolation ON app.tickets;
CREATE POLICY open_door ON app.tickets USING (true);
SET row_security = off;
SELECT * FROM app.tickets;
RESET row_security;
RESET ROLE;
SELECT o.name, t.title FROM app.tickets t JOIN tenancy.organizations o ON o.id = t.organization_id ORDER BY t.id;
