-- 21_input_limits: 100 kB in every text parameter of every function the
-- application role may call (found in pg_proc, so new functions are covered):
-- every error stays short (input is echoed through tenancy.echo_safe()), and
-- nothing that long is stored. Run in an organization context and in a
-- user-only one, as the application role.
\set VERBOSITY terse
\i tests/regress/include/setup_vars.psql
\set alice_a `:mint --user :alice --org :org_a`
\set alice_u `:mint --user :alice`
-- Each function is called once per text parameter: that one gets 100 kB, the
-- others a short plausible value (by parameter name), so a check of an early
-- parameter cannot hide a later one's. A regclass is a real table the caller
-- owns (pg_temp.limits_probe), so protect() reaches its permission checks.
CREATE FUNCTION pg_temp.send_huge_text() RETURNS TABLE (function text, problem text)
LANGUAGE plpgsql AS $$
DECLARE
    f record;
    huge int;
    args text;
    msg text; detail text; hint text;
BEGIN
    FOR f IN SELECT p.oid, p.oid::regprocedure::text AS name, p.proargtypes::oid[] AS types,
                    coalesce(p.proargnames, '{}') AS names
               FROM pg_proc AS p
              WHERE p.pronamespace = 'tenancy'::regnamespace
                AND 'text'::regtype = ANY (p.proargtypes::oid[])
                AND has_function_privilege(p.oid, 'EXECUTE')
              ORDER BY 2 LOOP
      FOR huge IN SELECT n FROM unnest(f.types) WITH ORDINALITY AS a(t, n) WHERE t = 'text'::regtype ORDER BY n LOOP
        SELECT string_agg(CASE WHEN n = huge THEN 'repeat(''x'', 100000)'
                               WHEN t = 'text'::regtype THEN quote_literal(CASE
                                    WHEN f.names[n] LIKE '%email%' THEN 'someone@example.com'
                                    WHEN f.names[n] IN ('code', 'role_code', 'my_new_role', 'reassign_to') THEN 'member'
                                    WHEN f.names[n] = 'name' THEN 'A name'
                                    WHEN f.names[n] = 'issuer' THEN 'https://issuer.example'
                                    WHEN f.names[n] = 'subject' THEN 'subject-1'
                                    ELSE 'tickets.read' END)
                               WHEN t = 'uuid'::regtype THEN 'gen_random_uuid()'
                               WHEN t = 'jsonb'::regtype THEN '''["tickets.read"]''::jsonb'
                               WHEN t = 'interval'::regtype THEN '''7 days''::interval'
                               WHEN t = 'boolean'::regtype THEN 'false'
                               WHEN t = 'name'::regtype THEN '''organization_id''::name'
                               WHEN t = 'regclass'::regtype THEN '''pg_temp.limits_probe''::regclass'
                               ELSE 'NULL::' || t::regtype END, ', ' ORDER BY n)
          INTO args FROM unnest(f.types) WITH ORDINALITY AS a(t, n);
        BEGIN
            EXECUTE format('SELECT %s(%s)', f.oid::regproc, args);
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
            IF length(msg) + length(detail) + length(hint) > 400 THEN
                function := f.name || ' parameter ' || huge;
                problem := 'error of ' || length(msg) + length(detail) + length(hint) || ' characters';
                RETURN NEXT;
            END IF;
        END;
      END LOOP;
    END LOOP;
    function := 'count'; problem := count(*)::text FROM pg_proc AS p
     WHERE p.pronamespace = 'tenancy'::regnamespace AND 'text'::regtype = ANY (p.proargtypes::oid[])
       AND has_function_privilege(p.oid, 'EXECUTE');
    RETURN NEXT;
END
$$;
CREATE FUNCTION pg_temp.long_values_stored() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    c record;
    found bigint := 0;
    n bigint;
BEGIN
    FOR c IN SELECT a.attrelid::regclass AS rel, a.attname FROM pg_attribute AS a JOIN pg_class AS r ON r.oid = a.attrelid
              WHERE r.relnamespace = 'tenancy'::regnamespace AND r.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
                AND a.atttypid IN ('text'::regtype, 'jsonb'::regtype) LOOP
        EXECUTE format('SELECT count(*) FROM %s WHERE length(%I::text) > 10000', c.rel, c.attname) INTO n;
        found := found + n;
    END LOOP;
    RETURN found;
END
$$;
GRANT EXECUTE ON FUNCTION pg_temp.send_huge_text() TO tenancy_app;
SET ROLE tenancy_app;
CREATE TEMP TABLE limits_probe (id int, organization_id uuid);
BEGIN;
SELECT tenancy.enter(:'alice_a');
SELECT function, problem ~ '^[0-9]+$' AND problem::int >= 8 AS many FROM pg_temp.send_huge_text() WHERE function = 'count';
SELECT function, problem FROM pg_temp.send_huge_text() WHERE function <> 'count';
RESET ROLE;
SELECT pg_temp.long_values_stored() AS long_values_stored;
ROLLBACK;
SET ROLE tenancy_app;
BEGIN;
SELECT tenancy.enter(:'alice_u');
SELECT function, problem FROM pg_temp.send_huge_text() WHERE function <> 'count';
RESET ROLE;
SELECT pg_temp.long_values_stored() AS long_values_stored;
ROLLBACK;

-- The examples from issue 11: a 100 kB role code and 900 unknown permissions
-- are quoted in short; 20,000 permissions are refused by count.
SET ROLE tenancy_app;
BEGIN;
SELECT tenancy.enter(:'alice_a');
\set ON_ERROR_ROLLBACK on
SELECT tenancy.create_role(repeat('Q', 100000), 'x', '[]');
SELECT tenancy.create_role('many', 'x', (SELECT jsonb_agg('zz' || i || '.read') FROM generate_series(1, 900) AS i));
SELECT tenancy.create_role('toomany', 'x', (SELECT jsonb_agg('zz' || i || '.read') FROM generate_series(1, 20000) AS i));
SELECT tenancy.update_role('nope' || repeat('Q', 100000), 'x');
\set ON_ERROR_ROLLBACK off
ROLLBACK;
RESET ROLE;

-- permissions_cover(): bounded input, linear-logarithmic matching, the same
-- answers as before (superuser: it is not granted to PUBLIC).
SELECT tenancy.permissions_cover(ARRAY['*'], ARRAY['a.b']) AS star,
       tenancy.permissions_cover(ARRAY['tickets.*'], ARRAY['tickets.read', 'tickets.write']) AS resource_star,
       tenancy.permissions_cover(ARRAY['tickets.*'], ARRAY['tickets']) AS bare_resource,
       tenancy.permissions_cover(ARRAY['tickets.*'], ARRAY['ticketsx.read']) AS other_resource,
       tenancy.permissions_cover(ARRAY['tickets.read'], ARRAY['tickets.read', NULL]) AS null_wanted,
       tenancy.permissions_cover(ARRAY[NULL, 'tickets.read'], ARRAY['tickets.read']) AS null_granted,
       tenancy.permissions_cover(ARRAY[]::text[], ARRAY[]::text[]) AS empty;
SELECT tenancy.permissions_cover((SELECT array_agg('p' || i || '.read') FROM generate_series(1, 1000) AS i),
                                 (SELECT array_agg('p' || i || '.read') FROM generate_series(1, 1000) AS i)) AS thousand;
SELECT tenancy.permissions_cover((SELECT array_agg('p' || i || '.read') FROM generate_series(1, 14000) AS i),
                                 ARRAY['a.b']);
SELECT tenancy.permissions_cover(ARRAY['a.b'], ARRAY[repeat('a', 300)]);

-- unknown_permissions() and require_known_permissions() are executable by
-- PUBLIC: more than 1000 items are refused by count (54000), before any
-- matching; up to 1000 are matched (exact codes, "resource.*", "*").
CREATE FUNCTION pg_temp.outcome(statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE state text; msg text; hint text;
BEGIN
    EXECUTE statement;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
    RETURN state || ': ' || msg || ' (hint: ' || hint || ')';
END
$$;
GRANT EXECUTE ON FUNCTION pg_temp.outcome(text) TO tenancy_app;
SET ROLE tenancy_app;
BEGIN;
SELECT pg_temp.outcome($$SELECT tenancy.unknown_permissions((SELECT jsonb_agg('zz' || i || '.read') FROM generate_series(1, 20000) AS i))$$);
SELECT pg_temp.outcome($$SELECT tenancy.require_known_permissions((SELECT jsonb_agg('zz' || i || '.read') FROM generate_series(1, 1001) AS i))$$);
SELECT cardinality(tenancy.unknown_permissions((SELECT jsonb_agg('zz' || i || '.read') FROM generate_series(1, 1000) AS i))) AS unknown_of_1000;
SELECT tenancy.unknown_permissions('["tickets.read", "tickets.*", "*", "zz.*", "tickets.nope", "ticketsx.*", "tickets.read"]');
SELECT tenancy.unknown_permissions('[]') AS none_given;
ROLLBACK;
RESET ROLE;
