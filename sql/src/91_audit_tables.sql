-- ---------------------------------------------------------------------------
-- Rules T1xx: tenant tables and their protection.
-- ---------------------------------------------------------------------------

-- The guards protect() creates on a table (29_tenant_policies.sql, apply_policies()),
-- with their expressions as pg_get_expr() prints them, given the tenant
-- condition as printed, "(org = tenancy.current_org())".
CREATE FUNCTION tenancy.expected_guards(tenant_expr text, read_permission text, write_permission text)
    RETURNS TABLE (name name, cmd "char", commands text, qual text, checks text)
    LANGUAGE sql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    WITH can AS (
        SELECT CASE WHEN read_permission IS NULL THEN tenant_expr
                    ELSE pg_catalog.format('(%s AND tenancy.has_permission(%L::text))', tenant_expr, read_permission)
                    END AS read,
               CASE WHEN write_permission IS NULL THEN tenant_expr
                    ELSE pg_catalog.format('(%s AND tenancy.has_permission(%L::text))', tenant_expr, write_permission)
                    END AS write
    )
    SELECT g.* FROM can CROSS JOIN LATERAL (VALUES
        ('tenancy_guard'::name, '*'::"char", 'all commands and roles', tenant_expr, tenant_expr)) AS g
     WHERE read_permission IS NULL AND write_permission IS NULL
    UNION ALL
    SELECT g.* FROM can CROSS JOIN LATERAL (VALUES
        ('tenancy_guard_read'::name, 'r'::"char", 'SELECT and all roles', can.read, NULL::text),
        ('tenancy_guard_insert', 'a', 'INSERT and all roles', NULL, can.write),
        ('tenancy_guard_update', 'w', 'UPDATE and all roles', can.write, can.write),
        ('tenancy_guard_delete', 'd', 'DELETE and all roles', can.write, NULL)) AS g
     WHERE read_permission IS NOT NULL OR write_permission IS NOT NULL
$$;
REVOKE ALL ON FUNCTION tenancy.expected_guards(text, text, text) FROM PUBLIC;

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
               pg_catalog.format('(%s = tenancy.current_org())', pg_catalog.quote_ident(r.org_column)) AS tenant_expr,
               -- Protected: protect() recorded it (registry or trigger), or left any of its
               -- policies here or on the root.
               (r.protection).org_column IS NOT NULL
               OR EXISTS (SELECT 1 FROM pg_catalog.pg_policy AS p
                           WHERE p.polrelid IN (r.rel, r.root) AND p.polname = ANY (tenancy.policy_names()))
                   AS protected,
               CASE WHEN (r.protection).read_permission IS NULL AND (r.protection).write_permission IS NULL
                    THEN pg_catalog.format('SELECT tenancy.protect(%L, %L);', r.root::text, r.org_column)
                    ELSE pg_catalog.format('SELECT tenancy.protect(%L, %L, %L, %L);', r.root::text, r.org_column,
                                           (r.protection).read_permission, (r.protection).write_permission)
                    END AS remedy
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
    -- T104: pg_tenancy's restrictive guards (29_tenant_policies.sql, apply_policies()),
    -- each in its exact form: missing, turned permissive (as Citus does on its
    -- shards) or changed. A guard-named policy protect() would not create is
    -- harmless while restrictive and reported once permissive.
    SELECT CASE WHEN t.descendant THEN 'T105' ELSE 'T104' END, 'critical'::tenancy.severity, t.rel::text,
           CASE WHEN g.pol IS NULL
                THEN pg_catalog.format('pg_tenancy''s restrictive policy %I is missing', g.name)
                WHEN (g.pol).polpermissive
                THEN pg_catalog.format('policy %I was replaced by a permissive one', g.name)
                ELSE pg_catalog.format('policy %I was changed: expected %s %s for %s', g.name,
                                       CASE WHEN g.qual IS NULL THEN 'WITH CHECK'
                                            WHEN g.checks IS NULL THEN 'USING' ELSE 'USING and WITH CHECK' END,
                                       coalesce(g.qual, g.checks), g.commands) END,
           t.remedy
      FROM t CROSS JOIN LATERAL (
               SELECT e.name, e.qual, e.checks, e.commands, e.cmd,
                      (SELECT p FROM pg_catalog.pg_policy AS p WHERE p.polrelid = t.rel AND p.polname = e.name) AS pol
                 FROM tenancy.expected_guards(t.tenant_expr, (t.protection).read_permission,
                                              (t.protection).write_permission) AS e
           ) AS g
     WHERE t.protected
       AND (g.pol IS NULL OR (g.pol).polpermissive OR (g.pol).polcmd <> g.cmd OR (g.pol).polroles <> '{0}'
            OR pg_catalog.pg_get_expr((g.pol).polqual, t.rel) IS DISTINCT FROM g.qual
            OR pg_catalog.pg_get_expr((g.pol).polwithcheck, t.rel) IS DISTINCT FROM g.checks)
    UNION ALL
    SELECT CASE WHEN t.descendant THEN 'T105' ELSE 'T104' END, 'critical'::tenancy.severity, t.rel::text,
           pg_catalog.format('policy %I was replaced by a permissive one', p.polname), t.remedy
      FROM t JOIN pg_catalog.pg_policy AS p ON p.polrelid = t.rel
     WHERE t.protected AND p.polpermissive AND p.polname = ANY (tenancy.guard_names())
       AND p.polname NOT IN (SELECT e.name FROM tenancy.expected_guards(t.tenant_expr, (t.protection).read_permission,
                                                                        (t.protection).write_permission) AS e)
    UNION ALL
    -- T107: the trigger that pins rows to their organization (and records the protection) is gone.
    SELECT 'T107', 'medium'::tenancy.severity, t.rel::text,
           'trigger tenancy_org_immutable is missing: only the policies now keep a row from moving to another '
           'organization, and pg_tenancy no longer knows how the table was protected',
           pg_catalog.format('SELECT tenancy.protect(%L, %L);', t.root::text, t.org_column)
      FROM t
     WHERE t.protected AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger AS g
                                        WHERE g.tgrelid = t.rel AND g.tgname = 'tenancy_org_immutable')
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
