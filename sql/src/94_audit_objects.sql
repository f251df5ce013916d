-- ---------------------------------------------------------------------------
-- Rules T4xx: objects that sidestep policies.
-- ---------------------------------------------------------------------------

-- Is security_invoker on in a view's reloptions? Read as PostgreSQL reads it:
-- a boolean in any spelling it accepts ('TRUE', 'y', 'On', '1', ...).
CREATE FUNCTION tenancy.has_security_invoker(options text[]) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce((SELECT pg_catalog.bool_or(o.option_value::boolean)
                       FROM pg_catalog.pg_options_to_table(options) AS o
                      WHERE o.option_name = 'security_invoker'), false)
$$;
REVOKE ALL ON FUNCTION tenancy.has_security_invoker(text[]) FROM PUBLIC;

CREATE FUNCTION tenancy.audit_objects(apps pg_catalog.oid[]) RETURNS SETOF tenancy.finding
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    WITH RECURSIVE tenant AS (SELECT * FROM tenancy.tenant_relations()),
    protected AS (SELECT t.rel FROM tenant AS t WHERE t.relkind IN ('r', 'p')),
    -- Views and materialized views that read tenant tables, directly or through other views.
    reads(view, base) AS (
        SELECT r.ev_class, d.refobjid
          FROM pg_catalog.pg_rewrite AS r
          JOIN pg_catalog.pg_depend AS d
            ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass AND d.objid = r.oid
           AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjid <> r.ev_class
         WHERE d.refobjid IN (SELECT rel FROM protected)
        UNION
        SELECT r.ev_class, reads.base
          FROM reads
          JOIN pg_catalog.pg_depend AS d
            ON d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjid = reads.view
           AND d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass
          JOIN pg_catalog.pg_rewrite AS r ON r.oid = d.objid AND r.ev_class <> reads.view
          JOIN pg_catalog.pg_class AS inner_view ON inner_view.oid = reads.view
          JOIN pg_catalog.pg_class AS outer_view ON outer_view.oid = r.ev_class
         -- A security_invoker view inside a view is checked as the caller of the
         -- outer one (PostgreSQL leaves its relations unmarked), so a plain view
         -- over it reads nothing with its owner's rights; a materialized view
         -- is filled as its owner, so it reads through anything.
         WHERE outer_view.relkind = 'm' OR inner_view.relkind = 'm'
            OR NOT tenancy.has_security_invoker(inner_view.reloptions)
    ),
    views AS (
        SELECT c.oid::pg_catalog.regclass AS view, c.relkind, c.relowner,
               pg_catalog.string_agg(DISTINCT reads.base::pg_catalog.regclass::text, ', ') AS bases,
               tenancy.has_security_invoker(c.reloptions) AS invoker,
               -- a grant on one column of the view is enough
               EXISTS (SELECT 1 FROM pg_catalog.unnest(apps) AS app WHERE tenancy.can_touch(app, c.oid))
               OR tenancy.can_touch(0, c.oid) AS reachable
          FROM reads JOIN pg_catalog.pg_class AS c ON c.oid = reads.view
         WHERE c.relnamespace <> 'tenancy'::pg_catalog.regnamespace OR c.relname <> 'protected_tables'
         GROUP BY c.oid
    ),
    definers AS (
        SELECT p.oid, p.oid::pg_catalog.regprocedure AS fn, p.proowner, p.proconfig,
               (SELECT pg_catalog.substr(s, 13) FROM pg_catalog.unnest(p.proconfig) AS s
                 WHERE s LIKE 'search_path=%' LIMIT 1) AS path,
               -- a trigger function cannot be called directly, only fired (T406)
               p.prorettype NOT IN ('pg_catalog.trigger'::pg_catalog.regtype,
                                    'pg_catalog.event_trigger'::pg_catalog.regtype)
               AND EXISTS (SELECT 1 FROM pg_catalog.unnest(apps) AS app, tenancy.roles_reachable(app) AS r
                            WHERE pg_catalog.has_function_privilege(r, p.oid, 'EXECUTE')) AS reachable
          FROM pg_catalog.pg_proc AS p
          JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
         WHERE p.prosecdef AND n.nspname NOT IN ('pg_catalog', 'information_schema')
           AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend AS d
                            JOIN pg_catalog.pg_extension AS e ON e.oid = d.refobjid
                           WHERE d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND d.objid = p.oid
                             AND d.deptype = 'e' AND e.extname = 'pg_tenancy')
    )
    -- T401: a view over tenant tables that checks policies as its owner.
    SELECT 'T401',
           CASE WHEN v.reachable AND tenancy.bypasses_rls(v.relowner) THEN 'critical'
                WHEN v.reachable THEN 'high' ELSE 'medium' END::tenancy.severity,
           v.view::text,
           pg_catalog.format('view reads %s with the privileges and row-level security of its owner %s%s, not '
                             'of the caller', v.bases, v.relowner::pg_catalog.regrole,
                             CASE WHEN tenancy.bypasses_rls(v.relowner) THEN ' (who bypasses row-level security)'
                                  ELSE '' END),
           pg_catalog.format('ALTER VIEW %s SET (security_invoker = true);', v.view)
      FROM views AS v WHERE v.relkind = 'v' AND NOT v.invoker
    UNION ALL
    -- T402: a materialized view copies tenant rows out of reach of any policy.
    SELECT 'T402', CASE WHEN v.reachable THEN 'critical' ELSE 'medium' END::tenancy.severity, v.view::text,
           pg_catalog.format('materialized view holds rows of %s for every organization; row-level security '
                             'cannot be enabled on it%s', v.bases,
                             CASE WHEN v.reachable THEN ', and an application role can read it' ELSE '' END),
           pg_catalog.format('REVOKE ALL ON %s FROM PUBLIC; -- expose it only through a security_invoker view '
                             'that filters on tenancy.current_org()', v.view)
      FROM views AS v WHERE v.relkind = 'm'
    UNION ALL
    -- T403: foreign tables are not subject to local row-level security.
    SELECT 'T403',
           CASE WHEN EXISTS (SELECT 1 FROM pg_catalog.unnest(apps) AS app WHERE tenancy.can_touch(app, t.rel))
                THEN 'critical' ELSE 'medium' END::tenancy.severity,
           t.rel::text,
           pg_catalog.format('foreign table with organization column %I: the remote side runs without this '
                             'session''s tenant context', t.org_column),
           pg_catalog.format('REVOKE ALL ON %s FROM PUBLIC; -- keep tenant data in local protected tables', t.rel)
      FROM tenant AS t WHERE t.relkind = 'f'
    UNION ALL
    -- T404: SECURITY DEFINER without a pinned search_path (or with pg_temp searched first).
    SELECT 'T404', CASE WHEN f.reachable THEN 'high' ELSE 'medium' END::tenancy.severity, f.fn::text,
           CASE WHEN f.path IS NULL
                THEN 'SECURITY DEFINER function without SET search_path: the caller''s search_path, including '
                     'temporary tables, decides what its unqualified names mean'
                ELSE pg_catalog.format('SECURITY DEFINER function with search_path %s, which does not put '
                                       'pg_temp last: temporary tables are searched first', f.path) END
             || CASE WHEN f.reachable THEN '; an application role can call it' ELSE '' END,
           pg_catalog.format('ALTER FUNCTION %s SET search_path = pg_catalog, pg_temp;', f.fn)
      FROM definers AS f
     WHERE f.path IS NULL OR pg_catalog.regexp_replace(f.path, '\s', '', 'g') !~ 'pg_temp"?$'
    UNION ALL
    -- T405: SECURITY DEFINER functions the application may call run as their owner.
    SELECT 'T405', CASE WHEN tenancy.bypasses_rls(f.proowner) THEN 'high' ELSE 'medium' END::tenancy.severity,
           f.fn::text,
           pg_catalog.format('an application role can call this SECURITY DEFINER function, which runs as %s%s',
                             f.proowner::pg_catalog.regrole,
                             CASE WHEN tenancy.bypasses_rls(f.proowner)
                                  THEN ', who bypasses row-level security: it can read every organization'
                                  ELSE '' END),
           pg_catalog.format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC; -- or make it SECURITY INVOKER', f.fn)
      FROM definers AS f WHERE f.reachable
    UNION ALL
    -- T406: triggers on tenant tables that run as someone else.
    SELECT 'T406', 'medium'::tenancy.severity, pg_catalog.format('%I ON %s', tg.tgname, t.rel),
           pg_catalog.format('trigger runs SECURITY DEFINER function %s as %s: whatever it reads or writes is '
                             'checked against that role, not the tenant''s', p.oid::pg_catalog.regprocedure,
                             p.proowner::pg_catalog.regrole),
           'Make the trigger function SECURITY INVOKER, or have it re-check the organization of every row it touches.'
      FROM tenant AS t
      JOIN pg_catalog.pg_trigger AS tg ON tg.tgrelid = t.rel AND NOT tg.tgisinternal AND tg.tgparentid = 0
      JOIN pg_catalog.pg_proc AS p ON p.oid = tg.tgfoid AND p.prosecdef
    UNION ALL
    -- T407: rules run their actions with the rights of the table's owner.
    SELECT 'T407', 'high'::tenancy.severity, pg_catalog.format('rule %I ON %s', r.rulename, t.rel),
           'rule actions run with the privileges of the table''s owner, outside the caller''s policies',
           pg_catalog.format('DROP RULE %I ON %s; -- use a SECURITY INVOKER trigger instead', r.rulename, t.rel)
      FROM tenant AS t
      JOIN pg_catalog.pg_rewrite AS r ON r.ev_class = t.rel AND r.rulename <> '_RETURN'
     WHERE t.relkind IN ('r', 'p')
    UNION ALL
    -- T408: LEAKPROOF lets a function run before the tenant policy filters rows.
    SELECT 'T408', 'high'::tenancy.severity, p.oid::pg_catalog.regprocedure::text,
           'user-defined LEAKPROOF function: the planner may run it on rows of other organizations before the '
           'tenant policy removes them, so any error or side effect leaks them',
           pg_catalog.format('ALTER FUNCTION %s NOT LEAKPROOF;', p.oid::pg_catalog.regprocedure)
      FROM pg_catalog.pg_proc AS p WHERE p.proleakproof AND p.oid >= 16384
    UNION ALL
    -- T409: unique keys without the organization column are existence oracles.
    SELECT 'T409',
           CASE WHEN k.cols = 1 AND k.first_type = 'uuid'::pg_catalog.regtype THEN 'info'
                ELSE 'medium' END::tenancy.severity,
           pg_catalog.format('%s (%s)', k.idx, t.rel),
           pg_catalog.format('unique key on %s leaves out %I: inserting a duplicate value tells a tenant that some '
                             'other organization already has it', k.columns, t.org_column),
           pg_catalog.format('Make the key (%I, %s), or use random uuids for the values.', t.org_column, k.columns)
      FROM tenant AS t
      CROSS JOIN LATERAL (
          SELECT i.indexrelid::pg_catalog.regclass AS idx,
                 pg_catalog.array_length(i.indkey::pg_catalog.int2[], 1) AS cols,
                 (SELECT a.atttypid FROM pg_catalog.pg_attribute AS a
                   WHERE a.attrelid = i.indrelid AND a.attnum = i.indkey[0]) AS first_type,
                 pg_catalog.pg_get_indexdef(i.indexrelid, 0, true) AS def,
                 -- each key column or expression as PostgreSQL prints it (attnum 0: an expression)
                 (SELECT pg_catalog.string_agg(pg_catalog.pg_get_indexdef(i.indexrelid, k.n, true), ', '
                                               ORDER BY k.n)
                    FROM pg_catalog.generate_series(1, i.indnkeyatts) AS k(n)) AS columns
            FROM pg_catalog.pg_index AS i
           WHERE i.indrelid = t.rel AND i.indisunique
             AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute AS a
                              WHERE a.attrelid = i.indrelid AND a.attname = t.org_column
                                AND a.attnum = ANY (i.indkey::pg_catalog.int2[]))
      ) AS k
     WHERE t.relkind IN ('r', 'p') AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_inherits AS i
                                                     WHERE i.inhrelid = t.rel)
       -- pg_tenancy's audit_log is written only by its own functions
       AND t.rel <> 'tenancy.audit_log'::pg_catalog.regclass
    UNION ALL
    -- T410: a foreign key between tenant tables that leaves out the organization.
    SELECT 'T410', 'high'::tenancy.severity, pg_catalog.format('%I ON %s', k.conname, t.rel),
           pg_catalog.format('foreign key to %s leaves out %I: a row can point at another organization''s row, '
                             'and the check (which bypasses row-level security) tells whether that row exists',
                             k.confrelid::pg_catalog.regclass, t.org_column),
           pg_catalog.format('Reference (%I, ...) with a composite key: ALTER TABLE %s ADD FOREIGN KEY (%I, ...) '
                             'REFERENCES %s (%I, ...);', t.org_column, t.rel, t.org_column,
                             k.confrelid::pg_catalog.regclass, parent.org_column)
      FROM tenant AS t
      JOIN pg_catalog.pg_constraint AS k ON k.conrelid = t.rel AND k.contype = 'f' AND k.conparentid = 0
      JOIN tenant AS parent ON parent.rel = k.confrelid
     WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute AS a
                        WHERE a.attrelid = t.rel AND a.attname = t.org_column AND a.attnum = ANY (k.conkey))
    UNION ALL
    -- T411: publications stream every organization's rows.
    SELECT 'T411', 'medium'::tenancy.severity, pg_catalog.quote_ident(pub.pubname),
           CASE WHEN pub.puballtables THEN 'publication FOR ALL TABLES streams every organization''s rows'
                ELSE pg_catalog.format('publication streams every organization''s rows of %s', rel.rel) END,
           'Review the subscriber: it must apply its own tenant isolation (or add a row filter).'
      FROM pg_catalog.pg_publication AS pub
      LEFT JOIN LATERAL (
          SELECT pg_catalog.string_agg(DISTINCT t.rel::text, ', ') AS rel
            FROM tenant AS t
           WHERE t.relkind IN ('r', 'p')
             AND (EXISTS (SELECT 1 FROM pg_catalog.pg_publication_rel AS pr
                           WHERE pr.prpubid = pub.oid AND pr.prrelid = t.rel)
                  -- FOR TABLES IN SCHEMA
                  OR EXISTS (SELECT 1 FROM pg_catalog.pg_publication_namespace AS pn
                               JOIN pg_catalog.pg_class AS c ON c.relnamespace = pn.pnnspid
                              WHERE pn.pnpubid = pub.oid AND c.oid = t.rel))) AS rel ON true
     WHERE pub.puballtables OR rel.rel IS NOT NULL
$$;
REVOKE ALL ON FUNCTION tenancy.audit_objects(pg_catalog.oid[]) FROM PUBLIC;
