-- E: plan caching, roles and context changes.

-- @case E01 a prepared statement planned for one tenant returns only the next tenant's rows
PREPARE seen AS SELECT count(*) AS total, count(*) FILTER (WHERE organization_id <> :'org_b') AS not_globex
                  FROM app.tickets;
BEGIN;
SELECT tenancy.enter(:'tok_alice_a');
EXECUTE seen; EXECUTE seen; EXECUTE seen; EXECUTE seen; EXECUTE seen; EXECUTE seen;
COMMIT;
BEGIN;
SELECT tenancy.enter(:'tok_bob_b');
EXECUTE seen \gset
COMMIT;
SELECT sectest.expect(:total = 2 AND :not_globex = 0, 'Globex sees only its own two tickets');
DEALLOCATE seen;

-- @case E02 a forced generic plan does not fold one tenant into the plan
SET plan_cache_mode = force_generic_plan;
PREPARE foreign_rows AS SELECT count(*) AS n FROM app.tickets WHERE organization_id <> tenancy.current_org();
PREPARE own_rows AS SELECT count(*) AS own FROM app.tickets;
BEGIN;
SELECT tenancy.enter(:'tok_alice_a');
EXECUTE foreign_rows; EXECUTE own_rows;
COMMIT;
BEGIN;
SELECT tenancy.enter(:'tok_bob_b');
EXECUTE foreign_rows \gset
EXECUTE own_rows \gset
COMMIT;
SELECT sectest.expect(:n = 0 AND :own = 2, 'the generic plan gives Globex its own rows only');

-- @case E03 the context readers are STABLE and not LEAKPROOF; enter() is VOLATILE
SELECT sectest.expect(bool_and(CASE WHEN proname IN ('enter', 'leave') THEN provolatile = 'v'
                                    ELSE provolatile = 's' END AND NOT proleakproof),
                      'volatility as designed')
  FROM pg_proc WHERE pronamespace = 'tenancy'::regnamespace
   AND proname IN ('current_org', 'current_user_id', 'has_permission', 'context', 'enter', 'leave');

-- @case E04 parallel workers apply the same context
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET force_parallel_mode = on;
BEGIN;
SELECT tenancy.enter(:'tok_alice_a');
SELECT sectest.expect(count(*) = 2 AND count(*) FILTER (WHERE organization_id <> :'org_a') = 0,
                      'parallel count: Acme''s rows only') FROM app.tickets;
ROLLBACK;

-- @case E05 a prepared statement on a partitioned table follows the context
PREPARE events_seen AS SELECT count(*) FILTER (WHERE organization_id <> tenancy.current_org()) AS foreign_events,
                              count(*) AS total_events FROM app.events;
BEGIN;
SELECT tenancy.enter(:'tok_bob_b');
EXECUTE events_seen; EXECUTE events_seen; EXECUTE events_seen; EXECUTE events_seen; EXECUTE events_seen;
COMMIT;
BEGIN;
SELECT tenancy.enter(:'tok_alice_a');
EXECUTE events_seen \gset
COMMIT;
SELECT sectest.expect(:foreign_events = 0 AND :total_events = 1, 'Acme sees its one event after Globex''s plans');
