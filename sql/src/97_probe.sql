-- ---------------------------------------------------------------------------
-- tenancy.probe(): the negative canary.
-- ---------------------------------------------------------------------------

CREATE FUNCTION tenancy.probe_enter(organization_id uuid, user_id uuid) RETURNS void
    AS 'MODULE_PATHNAME', 'tenancy_probe_enter'
    LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION tenancy.probe_enter(uuid, uuid) IS
    'Internal to tenancy.probe(): enter a synthetic organization without a signing key (superuser only)';
REVOKE ALL ON FUNCTION tenancy.probe_enter(uuid, uuid) FROM PUBLIC;

-- A value of the column's type for a synthetic row, or NULL if none is known.
CREATE FUNCTION tenancy.probe_value(type_oid pg_catalog.oid) RETURNS text
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE
        WHEN t.typtype = 'd' THEN tenancy.probe_value(t.typbasetype)
        WHEN t.oid = 'uuid'::pg_catalog.regtype THEN 'pg_catalog.gen_random_uuid()'
        WHEN t.oid IN ('json'::pg_catalog.regtype, 'jsonb'::pg_catalog.regtype) THEN '''{}'''
        WHEN t.typtype = 'e' THEN pg_catalog.quote_literal((SELECT e.enumlabel FROM pg_catalog.pg_enum AS e
                                                             WHERE e.enumtypid = t.oid
                                                             ORDER BY e.enumsortorder LIMIT 1))
        -- fresh values each time, so a second row does not collide with the first on a unique key
        WHEN t.typcategory = 'N' THEN '(1 + pg_catalog.floor(pg_catalog.random() * 30000))::integer'
        WHEN t.typcategory = 'S' THEN 'pg_catalog.substr(pg_catalog.md5(pg_catalog.random()::text), 1, 8)'
        WHEN t.typcategory = 'B' THEN 'false'
        WHEN t.typcategory = 'D' THEN 'pg_catalog.now()'
        WHEN t.typcategory = 'T' THEN '''1 day'''
        WHEN t.typcategory = 'A' THEN '''{}'''
        WHEN t.oid = 'bytea'::pg_catalog.regtype THEN '''\x00'''
        WHEN t.oid = 'inet'::pg_catalog.regtype THEN '''192.0.2.1'''
    END || CASE WHEN t.typtype = 'd' THEN '' ELSE '::' || pg_catalog.format_type(t.oid, NULL) END
      FROM pg_catalog.pg_type AS t WHERE t.oid = type_oid
$$;
REVOKE ALL ON FUNCTION tenancy.probe_value(pg_catalog.oid) FROM PUBLIC;

-- INSERT of one synthetic row into a tenant table for the given organization.
-- A column in a foreign key takes its value from a row of the referenced table
-- (of the same organization when the key includes it), looked up now as that
-- table's owner, so child tables can be seeded once their parents are and the
-- statement needs no look-up when it later runs as the application role.
CREATE FUNCTION tenancy.probe_insert_sql(tbl pg_catalog.regclass, org_column name, org uuid) RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    col record;
    names text[] := '{}';
    vals text[] := '{}';
    referenced text;
BEGIN
    FOR col IN
        SELECT a.attname, a.atttypid, fk.query, fk.query_owner
          FROM pg_catalog.pg_attribute AS a
          LEFT JOIN LATERAL (
              SELECT pg_catalog.format('SELECT r.%I::text FROM %s AS r %s LIMIT 1', ra.attname,
                                       k.confrelid::pg_catalog.regclass,
                                       CASE WHEN ro.attname IS NULL THEN ''
                                            ELSE pg_catalog.format('WHERE r.%I = %L::uuid', ro.attname, org) END)
                         AS query,
                     (SELECT c.relowner FROM pg_catalog.pg_class AS c WHERE c.oid = k.confrelid) AS query_owner
                FROM pg_catalog.pg_constraint AS k
                CROSS JOIN LATERAL pg_catalog.generate_subscripts(k.conkey, 1) AS i
                JOIN pg_catalog.pg_attribute AS ra ON ra.attrelid = k.confrelid AND ra.attnum = k.confkey[i]
                -- the referenced column paired with our organization column, if the key has one
                LEFT JOIN LATERAL (
                    SELECT rc.attname FROM pg_catalog.generate_subscripts(k.conkey, 1) AS j
                      JOIN pg_catalog.pg_attribute AS oc ON oc.attrelid = tbl AND oc.attnum = k.conkey[j]
                      JOIN pg_catalog.pg_attribute AS rc ON rc.attrelid = k.confrelid AND rc.attnum = k.confkey[j]
                     WHERE oc.attname = org_column) AS ro ON true
               WHERE k.conrelid = tbl AND k.contype = 'f' AND k.conkey[i] = a.attnum
               LIMIT 1
          ) AS fk ON true
         WHERE a.attrelid = tbl AND a.attnum > 0 AND NOT a.attisdropped
           AND (a.attname = org_column
                OR (a.attnotnull AND NOT a.atthasdef AND a.attidentity = '' AND a.attgenerated = ''))
         ORDER BY a.attnum
    LOOP
        names := names || pg_catalog.quote_ident(col.attname);
        IF col.attname = org_column THEN
            vals := vals || (pg_catalog.quote_literal(org) || '::uuid');
        ELSIF col.query IS NOT NULL THEN
            -- read as the referenced table's owner, in the probe's sandbox
            referenced := tenancy.probe_lookup(col.query_owner::pg_catalog.regrole, col.query);
            vals := vals || coalesce(pg_catalog.quote_literal(referenced) || '::'
                                     || pg_catalog.format_type(col.atttypid, NULL), 'NULL');
        ELSE
            vals := vals || coalesce(tenancy.probe_value(col.atttypid), 'NULL');
        END IF;
    END LOOP;
    RETURN pg_catalog.format('INSERT INTO %s (%s) VALUES (%s)', tbl, pg_catalog.array_to_string(names, ', '),
                             pg_catalog.array_to_string(vals, ', '));
END
$$;
REVOKE ALL ON FUNCTION tenancy.probe_insert_sql(pg_catalog.regclass, name, uuid) FROM PUBLIC;

CREATE FUNCTION tenancy.probe_lookup(owner pg_catalog.regrole, query text) RETURNS text
    AS 'MODULE_PATHNAME', 'tenancy_probe_lookup'
    LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION tenancy.probe_lookup(pg_catalog.regrole, text) IS
    'Internal to tenancy.probe(): the first value a query returns, read as a table''s (non-superuser) owner '
    'inside a security-restricted operation (superuser session only)';
REVOKE ALL ON FUNCTION tenancy.probe_lookup(pg_catalog.regrole, text) FROM PUBLIC;

CREATE FUNCTION tenancy.probe_run(role pg_catalog.regrole, statement text, arg uuid, seeding boolean)
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'tenancy_probe_run'
    LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION tenancy.probe_run(pg_catalog.regrole, text, uuid, boolean) IS
    'Internal to tenancy.probe(): run one statement as a role inside a security-restricted operation '
    '(superuser session only)';
REVOKE ALL ON FUNCTION tenancy.probe_run(pg_catalog.regrole, text, uuid, boolean) FROM PUBLIC;

-- One check, as the application role, in a subtransaction that is always rolled
-- back. touched: the rows it counted (a SELECT count) or changed. NULL with no
-- failure: refused the way isolation refuses (row-level security, no tenant
-- context, no privilege on the relation at all), the safe outcome. failure: any
-- other error, which leaves the check undecided. $1 in the statement is `arg`.
CREATE FUNCTION tenancy.probe_as(app_role pg_catalog.regrole, statement text, arg uuid,
                                 OUT touched bigint, OUT failure text)
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    -- PostgreSQL's own privilege refusals are told apart by message (below), so
    -- messages must not be translated.
    SET lc_messages = 'C'
AS $$
DECLARE
    n bigint;
BEGIN
    BEGIN
        n := tenancy.probe_run(app_role, statement, arg, false);
        -- kProbeStepRollback (token/include/pg_tenancy/token/sqlstates.hpp)
        RAISE EXCEPTION USING ERRCODE = 'TQ001', MESSAGE = 'pg_tenancy probe step rollback';
    EXCEPTION
        WHEN SQLSTATE 'TQ001' THEN
            touched := n;
        -- pg_tenancy's own refusals, by SQLSTATE (token/include/pg_tenancy/token/sqlstates.hpp):
        -- no tenant context, a context without an organization, a forged context,
        -- a row moved to another organization.
        WHEN SQLSTATE '42T02' OR SQLSTATE '42T04' OR SQLSTATE '42T05' OR SQLSTATE '42T06' THEN
            NULL;
        WHEN insufficient_privilege THEN
            -- PostgreSQL gives all its privilege refusals one SQLSTATE; only the
            -- relation-level ones and row-level security mean isolation held,
            -- so its own (untranslated) message is read.
            IF SQLERRM NOT LIKE 'new row violates row-level security policy%'
               AND SQLERRM NOT LIKE 'permission denied for table %'
               AND SQLERRM NOT LIKE 'permission denied for view %'
               AND SQLERRM NOT LIKE 'permission denied for materialized view %'
               AND SQLERRM NOT LIKE 'permission denied for foreign table %' THEN
                -- e.g. a sequence or column privilege: the application might still get through another way
                failure := SQLSTATE || ': ' || SQLERRM;
            END IF;
        WHEN OTHERS THEN
            failure := SQLSTATE || ': ' || SQLERRM;
    END;
END
$$;
REVOKE ALL ON FUNCTION tenancy.probe_as(pg_catalog.regrole, text, uuid) FROM PUBLIC;

CREATE FUNCTION tenancy.probe(app_role pg_catalog.regrole) RETURNS SETOF tenancy.finding
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    findings tenancy.finding[] := '{}';
    tag text := pg_catalog.substr(pg_catalog.md5(pg_catalog.random()::text), 1, 12);
    user_a uuid := pg_catalog.gen_random_uuid();
    user_b uuid := pg_catalog.gen_random_uuid();
    org_a uuid := pg_catalog.gen_random_uuid();
    org_b uuid := pg_catalog.gen_random_uuid();
    role_a uuid := pg_catalog.gen_random_uuid();
    role_b uuid := pg_catalog.gen_random_uuid();
    rel record;
    seeded pg_catalog.regclass[] := '{}';
    unseeded jsonb := '{}';
    statement text;
    pass integer;
    checked integer := 0;
    n bigint;
    msg text;
    state text;
BEGIN
    IF app_role IS NULL THEN
        RAISE EXCEPTION 'tenancy.probe() needs the application role' USING ERRCODE = '22004',
            HINT = 'SELECT * FROM tenancy.probe(''my_app_role'');';
    END IF;
    -- A superuser session, not a SET ROLE to one: only such a session may run
    -- statements as other roles (tenancy.probe_run).
    IF NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles AS r WHERE r.rolname = SESSION_USER)
       OR NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles AS r WHERE r.rolname = CURRENT_USER) THEN
        RAISE EXCEPTION 'tenancy.probe() must be run by a superuser' USING ERRCODE = '42501',
            HINT = 'It creates synthetic organizations and runs checks as the application role; connect as a '
                   'superuser (not SET ROLE).';
    END IF;
    IF tenancy.context() IS NOT NULL THEN
        RAISE EXCEPTION 'tenancy.probe() cannot run inside a tenant context' USING ERRCODE = '25001',
            HINT = 'Run it in a transaction that has not called tenancy.enter().';
    END IF;
    -- Every step runs as the application role or a table's owner inside a
    -- security-restricted operation, so code those roles own runs with their
    -- rights only. What is left is code other roles own calling code the
    -- application controls, or resolving names into a schema it can create in,
    -- or a trigger it attached: refuse while any of that is possible.
    SELECT pg_catalog.string_agg(o.what, ', ') INTO msg FROM (
        SELECT pg_catalog.format('function %s owned by %s', p.oid::pg_catalog.regprocedure,
                                 p.proowner::pg_catalog.regrole) AS what
          FROM pg_catalog.pg_proc AS p
          JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
         WHERE (pg_catalog.pg_has_role(app_role, p.proowner, 'MEMBER')
                OR pg_catalog.pg_has_role(p.proowner, app_role, 'MEMBER'))
           AND NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles AS r WHERE r.oid = p.proowner)
           AND n.nspname NOT LIKE 'pg_temp_%'
        UNION ALL
        SELECT 'CREATE on schema ' || pg_catalog.quote_ident(n.nspname)
          FROM pg_catalog.pg_namespace AS n
         WHERE pg_catalog.has_schema_privilege(app_role, n.oid, 'CREATE')
           AND n.nspname NOT LIKE 'pg_temp_%' AND n.nspname NOT LIKE 'pg_toast_temp_%'
        UNION ALL
        SELECT 'CREATE on database ' || pg_catalog.quote_ident(pg_catalog.current_database())
         WHERE pg_catalog.has_database_privilege(app_role, pg_catalog.current_database(), 'CREATE')
        UNION ALL
        SELECT 'TRIGGER on ' || t.rel::text FROM tenancy.tenant_relations() AS t
         WHERE t.relkind IN ('r', 'p') AND pg_catalog.has_table_privilege(app_role, t.rel, 'TRIGGER')
         ORDER BY 1 LIMIT 5) AS o;
    IF msg IS NOT NULL THEN
        RETURN QUERY SELECT 'P000', 'high'::tenancy.severity, 'tenancy.probe()',
            pg_catalog.format('the probe did not run: %s can run code of its own inside it (%s)', app_role, msg),
            'Fix the T203, T204 and T205 findings of tenancy.audit() first.';
        RETURN;
    END IF;

    -- Everything below is rolled back: the raise at the end undoes the block.
    BEGIN
        INSERT INTO tenancy.users (id, code, email) VALUES
            (user_a, 'probe-a-' || tag, 'probe-a-' || tag || '@probe.invalid'),
            (user_b, 'probe-b-' || tag, 'probe-b-' || tag || '@probe.invalid');
        INSERT INTO tenancy.organizations (id, name, created_by) VALUES
            (org_a, 'pg_tenancy probe A', user_a), (org_b, 'pg_tenancy probe B', user_b);
        INSERT INTO tenancy.roles (id, organization_id, code, name, permissions) VALUES
            (role_a, org_a, 'probe', 'Probe', '["*"]'), (role_b, org_b, 'probe', 'Probe', '["*"]');
        INSERT INTO tenancy.memberships (organization_id, user_id, role_id) VALUES
            (org_a, user_a, role_a), (org_b, user_b, role_b);

        -- Rows for both organizations in every tenant table, written as the
        -- table's owner; parents before children: a table whose foreign keys
        -- fail is retried once the others are in. Partitions get their rows
        -- through their parent.
        FOR pass IN 1..3 LOOP
            FOR rel IN SELECT t.rel, t.org_column, t.owner FROM tenancy.tenant_relations() AS t
                         JOIN pg_catalog.pg_class AS c ON c.oid = t.rel
                        WHERE t.relkind IN ('r', 'p') AND NOT c.relispartition
                          AND c.relnamespace <> 'tenancy'::pg_catalog.regnamespace AND t.rel <> ALL (seeded)
                        ORDER BY t.rel::text LOOP
                BEGIN
                    PERFORM tenancy.probe_run(rel.owner::pg_catalog.regrole,
                                              tenancy.probe_insert_sql(rel.rel, rel.org_column, org_a), NULL, true);
                    PERFORM tenancy.probe_run(rel.owner::pg_catalog.regrole,
                                              tenancy.probe_insert_sql(rel.rel, rel.org_column, org_b), NULL, true);
                    seeded := seeded || rel.rel;
                    unseeded := unseeded - rel.rel::text;
                EXCEPTION WHEN OTHERS THEN
                    GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
                    unseeded := unseeded || pg_catalog.jsonb_build_object(rel.rel::text, msg);
                END;
            END LOOP;
        END LOOP;
        FOR rel IN SELECT e.key AS name, e.value #>> '{}' AS reason FROM pg_catalog.jsonb_each(unseeded) AS e LOOP
            findings := findings || ROW('P010', 'info', rel.name,
                'the probe could not insert synthetic rows, so only existing rows were checked: ' || rel.reason,
                'Give the columns defaults, or check this table with a test of your own.')::tenancy.finding;
        END LOOP;

        -- P005: the application role cannot write the context itself.
        SELECT * INTO n, msg FROM tenancy.probe_as(
            app_role, $q$SELECT pg_catalog.set_config('tenancy.context', 'forged', true)$q$, NULL);
        IF n IS NOT NULL OR msg IS NOT NULL THEN
            findings := findings || ROW('P005', 'critical', 'tenancy.context',
                'the application role set the tenant context directly with set_config()' || coalesce(' (' || msg || ')', ''),
                'Preload pg_tenancy (shared_preload_libraries) and restart.')::tenancy.finding;
        END IF;

        -- P001: without a context the application role sees no row.
        FOR rel IN SELECT t.rel, t.org_column FROM tenancy.tenant_relations() AS t
                    WHERE t.relkind IN ('r', 'p', 'v', 'm', 'f') ORDER BY t.rel::text LOOP
            checked := checked + 1;
            SELECT * INTO n, msg FROM tenancy.probe_as(
                app_role, pg_catalog.format('SELECT pg_catalog.count(*) FROM %s', rel.rel), NULL);
            IF n > 0 THEN
                findings := findings || ROW('P001', 'critical', rel.rel::text,
                    pg_catalog.format('without a tenant context the application role read %s row(s)', n),
                    'Run SELECT * FROM tenancy.audit() for the cause.')::tenancy.finding;
            ELSIF msg IS NOT NULL THEN
                findings := findings || ROW('P011', 'medium', rel.rel::text,
                    'the read without a context could not be checked: ' || msg,
                    'Fix the error, then run the probe again.')::tenancy.finding;
            END IF;
        END LOOP;

        -- In organization A's context: nothing of B (or of anyone else) is visible or writable.
        PERFORM tenancy.probe_enter(org_a, user_a);
        FOR rel IN SELECT t.rel, t.org_column, t.relkind FROM tenancy.tenant_relations() AS t
                    WHERE t.relkind IN ('r', 'p', 'v', 'm', 'f') ORDER BY t.rel::text LOOP
            -- P002: reads
            SELECT * INTO n, msg FROM tenancy.probe_as(
                app_role, pg_catalog.format('SELECT pg_catalog.count(*) FROM %s WHERE %I IS DISTINCT FROM $1',
                                            rel.rel, rel.org_column), org_a);
            IF n > 0 THEN
                findings := findings || ROW('P002', 'critical', rel.rel::text,
                    pg_catalog.format('in one organization''s context the application role read %s row(s) of '
                                      'other organizations', n),
                    'Run SELECT * FROM tenancy.audit() for the cause.')::tenancy.finding;
            ELSIF msg IS NOT NULL THEN
                findings := findings || ROW('P011', 'medium', rel.rel::text,
                    'the read in one organization''s context could not be checked: ' || msg,
                    'Fix the error, then run the probe again.')::tenancy.finding;
            END IF;
            CONTINUE WHEN rel.relkind NOT IN ('r', 'p');
            -- P003: inserting a row for organization B; P004: changing or deleting B's rows.
            FOREACH statement IN ARRAY ARRAY[
                CASE WHEN rel.rel = ANY (seeded) THEN tenancy.probe_insert_sql(rel.rel, rel.org_column, org_b) END,
                pg_catalog.format('UPDATE %s SET %I = %I WHERE %I = $1', rel.rel, rel.org_column, rel.org_column,
                                  rel.org_column),
                pg_catalog.format('DELETE FROM %s WHERE %I = $1', rel.rel, rel.org_column)] LOOP
                CONTINUE WHEN statement IS NULL; -- no insert where the probe could not build a row
                SELECT * INTO n, msg FROM tenancy.probe_as(app_role, statement, org_b);
                IF n > 0 THEN
                    findings := findings || ROW(CASE WHEN statement LIKE 'INSERT%' THEN 'P003' ELSE 'P004' END,
                        'critical', rel.rel::text,
                        pg_catalog.format('in one organization''s context the application role %s %s row(s) %s '
                                          'another', CASE pg_catalog.split_part(statement, ' ', 1) WHEN 'INSERT' THEN 'inserted'
                                                    WHEN 'UPDATE' THEN 'updated' ELSE 'deleted' END,
                                          n, CASE WHEN statement LIKE 'INSERT%' THEN 'for' ELSE 'of' END),
                        'Run SELECT * FROM tenancy.audit() for the cause.')::tenancy.finding;
                ELSIF msg IS NOT NULL THEN
                    findings := findings || ROW('P011', 'medium', rel.rel::text,
                        pg_catalog.format('the %s in one organization''s context could not be checked: %s',
                                          pg_catalog.split_part(statement, ' ', 1), msg),
                        'Fix the error, then run the probe again.')::tenancy.finding;
                END IF;
            END LOOP;
        END LOOP;

        -- kProbeRollback (token/include/pg_tenancy/token/sqlstates.hpp)
        RAISE EXCEPTION USING ERRCODE = 'TQ000', MESSAGE = 'pg_tenancy probe rollback';
    EXCEPTION
        WHEN SQLSTATE 'TQ000' THEN
            NULL; -- the synthetic organizations and rows are gone
        WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, state = RETURNED_SQLSTATE;
            findings := findings || ROW('P000', 'high', 'tenancy.probe()',
                pg_catalog.format('the probe could not run to the end (%s): %s', state, msg),
                'Fix the cause and run the probe again.')::tenancy.finding;
    END;

    findings := findings || ROW('P999', 'info', 'tenancy.probe()',
        pg_catalog.format('checked %s tenant relations as %s; synthetic rows in %s table(s); %s problem(s)',
                          checked, app_role, pg_catalog.cardinality(seeded),
                          (SELECT pg_catalog.count(*) FROM pg_catalog.unnest(findings) AS f
                            WHERE f.severity >= 'high')),
        NULL)::tenancy.finding;
    RETURN QUERY SELECT * FROM pg_catalog.unnest(findings) AS f ORDER BY f.severity DESC, f.rule, f.object;
END
$$;
COMMENT ON FUNCTION tenancy.probe(pg_catalog.regrole) IS
    'Negative canary: two synthetic organizations with rows in every tenant table; as the application role, '
    'checks that no context sees nothing, one organization never sees or changes the other, and the context '
    'cannot be set directly. Always rolled back; superuser only. Findings as in tenancy.audit()';
REVOKE ALL ON FUNCTION tenancy.probe(pg_catalog.regrole) FROM PUBLIC;
