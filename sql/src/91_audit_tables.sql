-- ---------------------------------------------------------------------------
-- Rules T1xx: tenant tables and their protection.
-- ---------------------------------------------------------------------------

CREATE FUNCTION tenancy.audit_tables(apps pg_catalog.oid[]) RETURNS SETOF tenancy.finding
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    WITH t AS (
        SELECT r.*, c.relrowsecurity, c.relforcerowsecurity, c.relispartition,
               r.rel <> r.root AS descendant,
               -- by an audited role, or by every role through a grant to PUBLIC
               EXISTS (SELECT 1 FROM pg_catalog.unnest(apps) AS app WHERE tenancy.can_touch(app, r.rel))
               OR tenancy.can_touch(0, r.rel) AS reachable,
               (SELECT p FROM pg_catalog.pg_policy AS p
                 WHERE p.polrelid = r.rel AND p.polname = 'tenancy_guard') AS guard,
               pg_catalog.format('(%s = tenancy.current_org())', pg_catalog.quote_ident(r.org_column)) AS tenant_expr,
               -- Protected: protect() recorded it (registry or trigger), or left any of its
               -- policies here or on the root.
               (r.protection).org_column IS NOT NULL
               OR EXISTS (SELECT 1 FROM pg_catalog.pg_policy AS p
                           WHERE p.polrelid IN (r.rel, r.root) AND p.polname = ANY (tenancy.policy_names()))
                   AS protected
          FROM tenancy.tenant_relations() AS r
          JOIN pg_catalog.pg_class AS c ON c.oid = r.rel
         WHERE r.relkind IN ('r', 'p')
    )
    -- T101: a table with an organization column that pg_tenancy does not protect.
    SELECT 'T101', CASE WHEN t.reachable THEN 'critical' ELSE 'medium' END::tenancy.severity, t.rel::text,
           pg_catalog.format('table has the organization column %I but no tenant policies%s', t.org_column,
                             CASE WHEN t.reachable THEN '; an application role can read or change it'
                                  ELSE '' END),
           pg_catalog.format('SELECT tenancy.protect(%L, %L);', t.rel::text, t.org_column)
      FROM t
     WHERE NOT t.protected AND NOT t.descendant
    UNION ALL
    -- T102/T103/T104 on protected tables; T105 when the table is a partition or child.
    SELECT CASE WHEN t.descendant THEN 'T105' ELSE 'T102' END,
           CASE WHEN t.descendant AND NOT t.reachable THEN 'high' ELSE 'critical' END::tenancy.severity,
           t.rel::text,
           CASE WHEN t.descendant
                THEN pg_catalog.format('%s of protected table %s has row-level security disabled',
                                       CASE WHEN t.relispartition THEN 'partition' ELSE 'inheritance child' END,
                                       t.root)
                ELSE 'protected table has row-level security disabled' END
             || CASE WHEN t.reachable THEN '; an application role can query it directly' ELSE '' END,
           pg_catalog.format('SELECT tenancy.protect(%L, %L);', t.root::text, t.org_column)
      FROM t
     WHERE t.protected AND NOT t.relrowsecurity
    UNION ALL
    SELECT CASE WHEN t.descendant THEN 'T105' ELSE 'T103' END,
           CASE WHEN t.descendant AND t.reachable THEN 'critical' ELSE 'high' END::tenancy.severity,
           t.rel::text,
           'row-level security is not forced, so the table''s owner (and any role that is a member of it) '
           'is not subject to the tenant policies',
           pg_catalog.format('ALTER TABLE %s FORCE ROW LEVEL SECURITY;', t.rel)
      FROM t
     WHERE t.protected AND t.relrowsecurity AND NOT t.relforcerowsecurity
    UNION ALL
    SELECT CASE WHEN t.descendant THEN 'T105' ELSE 'T104' END, 'critical'::tenancy.severity, t.rel::text,
           CASE WHEN t.guard IS NULL THEN 'pg_tenancy''s restrictive policy tenancy_guard is missing'
                WHEN (t.guard).polpermissive THEN 'policy tenancy_guard was replaced by a permissive one'
                ELSE pg_catalog.format('policy tenancy_guard was changed: expected USING and WITH CHECK %s for '
                                       'all commands and roles', t.tenant_expr) END,
           pg_catalog.format('SELECT tenancy.protect(%L, %L);', t.root::text, t.org_column)
      FROM t
     WHERE t.protected
       AND (t.guard IS NULL OR (t.guard).polpermissive OR (t.guard).polcmd <> '*' OR (t.guard).polroles <> '{0}'
            OR pg_catalog.pg_get_expr((t.guard).polqual, t.rel) IS DISTINCT FROM t.tenant_expr
            OR pg_catalog.pg_get_expr((t.guard).polwithcheck, t.rel) IS DISTINCT FROM t.tenant_expr)
    UNION ALL
    -- T107: the trigger that pins rows to their organization (and records the protection) is gone.
    -- With Citus, protect() leaves it out (31_citus.sql): a table distributed by its
    -- organization column needs none, since Citus forbids updating that column.
    SELECT 'T107', 'medium'::tenancy.severity, t.rel::text,
           CASE WHEN tenancy.citus_installed()
                THEN pg_catalog.format('the table is not distributed by %I and has no trigger '
                                       'tenancy_org_immutable (protect() leaves it out where Citus is installed): '
                                       'only the policies keep a row from moving to another organization',
                                       t.org_column)
                ELSE 'trigger tenancy_org_immutable is missing: only the policies now keep a row from moving to '
                     'another organization, and pg_tenancy no longer knows how the table was protected' END,
           CASE WHEN tenancy.citus_installed()
                THEN pg_catalog.format('SELECT create_distributed_table(%L, %L);', t.root::text, t.org_column)
                ELSE pg_catalog.format('SELECT tenancy.protect(%L, %L);', t.root::text, t.org_column) END
      FROM t
     WHERE t.protected AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger AS g
                                        WHERE g.tgrelid = t.rel AND g.tgname = 'tenancy_org_immutable')
       AND tenancy.citus_distribution_column(t.rel) IS DISTINCT FROM t.org_column
    UNION ALL
    -- T106: tenant predicates need an index led by the organization column.
    SELECT 'T106', 'medium'::tenancy.severity, t.rel::text,
           pg_catalog.format('no index is led by %I: every tenant query scans the whole table, and its '
                             'timing reveals the size of other tenants', t.org_column),
           pg_catalog.format('CREATE INDEX ON %s (%I);', t.rel, t.org_column)
      FROM t
     WHERE t.relkind = 'r' AND NOT EXISTS (
               SELECT 1 FROM pg_catalog.pg_index AS i
                 JOIN pg_catalog.pg_attribute AS a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                WHERE i.indrelid = t.rel AND a.attname = t.org_column AND i.indpred IS NULL)
$$;
REVOKE ALL ON FUNCTION tenancy.audit_tables(pg_catalog.oid[]) FROM PUBLIC;
