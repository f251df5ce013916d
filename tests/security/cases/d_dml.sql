-- D: DML paths and statement forms.

-- @case D01a MERGE cannot move a row to another organization
BEGIN;
SELECT tenancy.enter(:'tok_alice_a');
SELECT sectest.refused(format($$MERGE INTO app.tickets t USING (VALUES (1)) s(id) ON t.id = s.id
                                WHEN MATCHED THEN UPDATE SET organization_id = %L$$, :'org_b'),
                       '42T06', 'MERGE moving Acme''s ticket to Globex');
ROLLBACK;

-- @case D01b MERGE does not match another organization's rows
BEGIN;
SELECT tenancy.enter(:'tok_alice_a');
SELECT sectest.expect(sectest.row_count($$MERGE INTO app.tickets t USING (VALUES (3), (4)) s(id) ON t.id = s.id
                                          WHEN MATCHED THEN UPDATE SET title = 'hijacked'$$) = 0,
                      'Globex''s tickets 3 and 4 are not matched');
ROLLBACK;

-- @case D02a UPDATE ... RETURNING returns only the context's rows
BEGIN;
SELECT tenancy.enter(:'tok_alice_a');
CREATE TEMP TABLE returned ON COMMIT DROP AS SELECT organization_id FROM app.tickets WHERE false;
WITH u AS (UPDATE app.tickets SET title = title RETURNING organization_id) INSERT INTO returned SELECT * FROM u;
SELECT sectest.expect(count(*) = 2 AND bool_and(organization_id = :'org_a'), 'two Acme rows returned') FROM returned;
ROLLBACK;

-- @case D02b DELETE ... RETURNING removes only the context's rows
BEGIN;
SELECT tenancy.enter(:'tok_alice_a');
SELECT sectest.expect(sectest.row_count('DELETE FROM app.comments RETURNING *') = 2, 'only Acme''s 2 comments');
ROLLBACK;

-- @case D03 a data-modifying CTE touches only the context's rows
BEGIN;
SELECT tenancy.enter(:'tok_alice_a');
WITH d AS (DELETE FROM app.notes RETURNING organization_id)
SELECT sectest.expect(count(*) = 1 AND bool_and(organization_id = :'org_a'), 'the CTE deleted Acme''s note only')
  FROM d;
ROLLBACK;

-- @case D04 a holdable cursor left open is caught before the connection is reused
BEGIN;
SELECT tenancy.enter(:'tok_alice_a');
DECLARE held CURSOR WITH HOLD FOR SELECT title FROM app.tickets;
COMMIT;
SELECT tenancy.assert_session_clean();
SELECT sectest.expect_error(:'ERROR', :'LAST_ERROR_SQLSTATE', '55T01', 'assert_session_clean with an open cursor');

-- @case D05a enter() cannot switch tenants in the middle of a transaction
BEGIN;
SELECT tenancy.enter(:'tok_alice_a');
SELECT sectest.refused(format('SELECT tenancy.enter(%L), * FROM app.tickets', :'tok_bob_b'), '25001',
                       'a second enter() in a statement');
ROLLBACK;

-- @case D05b enter() outside a transaction block is refused
SELECT tenancy.enter(:'tok_alice_a');
SELECT sectest.expect_error(:'ERROR', :'LAST_ERROR_SQLSTATE', '25P01', 'enter() in autocommit');

-- @case D06 COPY TO writes only the context's rows
\getenv work SECURITY_WORK
\set copy_file :work '/copy_out.txt'
BEGIN;
SELECT tenancy.enter(:'tok_alice_a');
\o :copy_file
COPY app.tickets TO STDOUT;
\o
COMMIT;
\set leaked `grep -c globex "$SECURITY_WORK/copy_out.txt" || true`
\set copied `grep -c acme "$SECURITY_WORK/copy_out.txt" || true`
SELECT sectest.expect(:leaked = 0 AND :copied = 2, 'COPY wrote Acme''s two tickets and no Globex row');

-- @case D07 COPY FROM into a protected table is refused
BEGIN;
SELECT tenancy.enter(:'tok_alice_a');
COPY app.notes (organization_id, body) FROM STDIN;
0b000000-0000-4000-8000-00000000000b	smuggled
\.
\set e :ERROR
\set s :LAST_ERROR_SQLSTATE
ROLLBACK;
SELECT sectest.expect_error(:'e', :'s', '0A000', 'COPY FROM with row-level security');

-- @case D08 a set-based UPDATE without WHERE changes only the context's rows
BEGIN;
SELECT tenancy.enter(:'tok_alice_a');
SELECT sectest.expect(sectest.row_count($$UPDATE app.tickets SET title = 'renamed'$$) = 2, 'two rows updated');
ROLLBACK;

-- @case D09 SELECT ... FOR UPDATE cannot lock another organization's rows
BEGIN;
SELECT tenancy.enter(:'tok_alice_a');
SELECT sectest.expect(sectest.row_count('SELECT * FROM app.tickets WHERE id IN (3, 4) FOR UPDATE') = 0,
                      'Globex''s rows are not locked');
ROLLBACK;

-- @case D10 the application role cannot lock a protected table against every organization (issue 11)
BEGIN;
SELECT sectest.refused('LOCK TABLE app.tickets IN ACCESS EXCLUSIVE MODE', '42501', 'LOCK ACCESS EXCLUSIVE');
SELECT sectest.refused('LOCK TABLE app.tickets IN SHARE MODE', '42501', 'LOCK SHARE');
LOCK TABLE app.tickets IN ROW EXCLUSIVE MODE;
SELECT sectest.expect(EXISTS (SELECT 1 FROM pg_locks WHERE relation = 'app.tickets'::regclass
                               AND pid = pg_backend_pid() AND mode = 'RowExclusiveLock'), 'ROW EXCLUSIVE still allowed');
ROLLBACK;
