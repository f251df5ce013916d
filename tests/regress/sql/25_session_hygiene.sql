-- 25_session_hygiene: any object in the session's temporary schema makes the
-- session dirty, whatever its kind: composite types and domains named like the
-- types pg_tenancy and the engine use, enums, ranges, operators, sequences,
-- views, functions.
\set VERBOSITY terse
SET ROLE tenancy_app;
SELECT tenancy.session_leftovers() AS clean;
CREATE TYPE pg_temp.text AS (x int);
SELECT tenancy.session_leftovers();
\set ON_ERROR_ROLLBACK on
BEGIN;
SELECT tenancy.assert_session_clean();
ROLLBACK;
DISCARD TEMP;
CREATE DOMAIN pg_temp.jsonb AS int4[];
SELECT tenancy.session_leftovers();
DISCARD TEMP;
CREATE TYPE pg_temp.mood AS ENUM ('ok');
CREATE TYPE pg_temp.floats AS RANGE (subtype = float8);
CREATE FUNCTION pg_temp.always(int, int) RETURNS boolean LANGUAGE sql RETURN true;
CREATE OPERATOR pg_temp.= (function = pg_temp.always, leftarg = int, rightarg = int);
CREATE TEMP SEQUENCE counter;
CREATE TEMP VIEW one AS SELECT 1 AS x;
SELECT unnest(tenancy.session_leftovers()) AS leftover ORDER BY 1;
DISCARD TEMP;
SELECT tenancy.session_leftovers() AS clean_again;
-- Thousands of leftovers make a short error: the first 20 and a count
-- (session_leftovers() still lists every one).
DO $$ BEGIN FOR i IN 1..2000 LOOP EXECUTE format('LISTEN %I', 'channel_' || i); END LOOP; END $$;
DO $$ BEGIN FOR i IN 1..300 LOOP EXECUTE format('CREATE TEMP SEQUENCE %I', 'seq_' || i); END LOOP; END $$;
SELECT cardinality(tenancy.session_leftovers()) AS leftovers;
DO $$
DECLARE detail text;
BEGIN
    PERFORM tenancy.assert_session_clean();
EXCEPTION WHEN SQLSTATE '55T01' THEN
    GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
    RAISE NOTICE 'detail of % characters, ending "%"', length(detail), right(detail, 45);
END
$$;
UNLISTEN *;
DISCARD TEMP;
SELECT tenancy.session_leftovers() AS clean_again;
-- A check that found no SQL PREPARE and no LISTEN left skips listing them
-- until the next one: each must still be seen, however it is issued (at top
-- level, from PL/pgSQL, from a SQL function, after a DEALLOCATE or UNLISTEN).
PREPARE one AS SELECT 1;
SELECT tenancy.session_leftovers() AS prepared;
DEALLOCATE one;
SELECT tenancy.session_leftovers() AS deallocated;
SELECT tenancy.session_leftovers() AS still_clean;
DO $$ BEGIN EXECUTE 'PREPARE two AS SELECT 2'; END $$;
SELECT tenancy.session_leftovers() AS prepared_from_plpgsql;
DEALLOCATE ALL;
SELECT tenancy.session_leftovers() AS clean;
CREATE FUNCTION pg_temp.listen_quietly() RETURNS void LANGUAGE sql AS 'LISTEN quiet';
SELECT pg_temp.listen_quietly();
SELECT tenancy.session_leftovers() AS listening_from_a_sql_function;
DISCARD TEMP;
UNLISTEN quiet;
SELECT tenancy.session_leftovers() AS clean;
DO $$ BEGIN LISTEN from_plpgsql; END $$;
SELECT tenancy.session_leftovers() AS listening_from_plpgsql;
UNLISTEN *;
SELECT tenancy.session_leftovers() AS unlistened;
LISTEN again;
SELECT tenancy.session_leftovers() AS listening_again;
UNLISTEN again;
SELECT tenancy.session_leftovers() AS clean_at_last;
-- A LISTEN takes effect at COMMIT: a check earlier in its transaction sees no
-- channel, and must not let the checks after COMMIT skip the listing.
BEGIN;
LISTEN at_commit;
SELECT tenancy.session_leftovers() AS before_commit;
COMMIT;
SELECT tenancy.session_leftovers() AS after_commit;
UNLISTEN *;
BEGIN;
LISTEN rolled_back;
SELECT tenancy.session_leftovers() AS before_rollback;
ROLLBACK;
SELECT tenancy.session_leftovers() AS after_rollback;
RESET ROLE;
