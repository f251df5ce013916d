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
RESET ROLE;
