-- 07_parallel: the context readers are correct inside parallel workers, and a
-- large tenant count runs as a parallel plan.
\set VERBOSITY terse
\i tests/regress/include/setup_vars.psql
\set tok_a `:mint --user :alice --org :org_a`
\set tok_b `:mint --user :bob --org :org_b`
SET ROLE tenancy_app;
BEGIN;
SELECT tenancy.enter(:'tok_a');
INSERT INTO app.tickets (title) SELECT 'bulk acme ' || g FROM generate_series(1, 30000) g;
COMMIT;
BEGIN;
SELECT tenancy.enter(:'tok_b');
INSERT INTO app.tickets (title) SELECT 'bulk globex ' || g FROM generate_series(1, 20000) g;
COMMIT;
RESET ROLE;
ANALYZE app.tickets;
SET ROLE tenancy_app;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
BEGIN;
SELECT tenancy.enter(:'tok_a');
SET LOCAL enable_indexscan = off;
SET LOCAL enable_bitmapscan = off;
SET LOCAL enable_indexonlyscan = off;
-- With the leader out of the scan, every row is filtered inside a worker.
SET LOCAL parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM app.tickets;
SELECT count(*) FROM app.tickets;
-- Force every expression into a worker as well.
SET LOCAL force_parallel_mode = regress;
SELECT tenancy.current_org() = :'org_a' AS org_in_worker,
       tenancy.current_user_id() = :'alice' AS user_in_worker,
       tenancy.has_permission('tickets.read') AS permission_in_worker,
       tenancy.context()->'role'->>'code' AS role_in_worker;
SELECT count(*) FILTER (WHERE organization_id = :'org_a') AS mine, count(*) AS total FROM app.tickets;
COMMIT;
BEGIN;
SELECT tenancy.enter(:'tok_b');
SET LOCAL enable_indexscan = off;
SET LOCAL enable_bitmapscan = off;
SET LOCAL enable_indexonlyscan = off;
SELECT count(*) FROM app.tickets;
COMMIT;
RESET ROLE;
DELETE FROM app.tickets WHERE title LIKE 'bulk %';
