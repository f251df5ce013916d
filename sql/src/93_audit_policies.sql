-- ---------------------------------------------------------------------------
-- Rules T3xx: other policies on protected tables.
-- ---------------------------------------------------------------------------

CREATE FUNCTION tenancy.audit_policies(apps pg_catalog.oid[]) RETURNS SETOF tenancy.finding
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    WITH p AS (
        SELECT p.polname, t.rel, p.polpermissive, p.polcmd,
               pg_catalog.pg_get_expr(p.polqual, p.polrelid) AS qual,
               pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) AS checks,
               (0 = ANY (p.polroles) OR EXISTS (SELECT 1 FROM pg_catalog.unnest(p.polroles) AS r,
                                                                pg_catalog.unnest(apps) AS app
                                                 WHERE pg_catalog.pg_has_role(app, r, 'MEMBER'))) AS applies,
               pg_catalog.format('%I ON %s', p.polname, t.rel) AS object,
               EXISTS (SELECT 1 FROM pg_catalog.pg_policy AS g
                        WHERE g.polrelid = t.rel AND g.polname = 'tenancy_guard' AND NOT g.polpermissive) AS guarded
          FROM tenancy.tenant_relations() AS t
          JOIN pg_catalog.pg_policy AS p ON p.polrelid = t.rel
         -- pg_tenancy's own permissive policies too: one edited to USING (true)
         -- opens the rows its read and write permissions should hide. The guard
         -- is checked against its exact form by T104.
         WHERE t.relkind IN ('r', 'p') AND p.polname <> 'tenancy_guard'
    )
    SELECT 'T301', CASE WHEN p.guarded THEN 'high' ELSE 'critical' END::tenancy.severity, p.object,
           'permissive policy that is always true: it opens every row'
             || CASE WHEN p.guarded THEN ' of the organization to every role it applies to, whatever the read '
                                         'and write permissions say'
                     ELSE ' of every organization' END,
           pg_catalog.format('DROP POLICY %s; -- or make it AS RESTRICTIVE', p.object)
      FROM p
     WHERE p.polpermissive AND p.applies
       AND (p.qual = 'true' OR p.checks = 'true' OR (p.polcmd = 'a' AND p.checks IS NULL))
    UNION ALL
    SELECT 'T302', CASE WHEN p.guarded THEN 'medium' ELSE 'critical' END::tenancy.severity, p.object,
           'permissive policy without the tenant condition (tenancy.current_org()): it widens what the '
           'tenant policies allow' || CASE WHEN p.guarded THEN ' within the organization' ELSE '' END,
           pg_catalog.format('Add "AND %s" to its USING and WITH CHECK, or make it AS RESTRICTIVE.',
                             'organization_id = tenancy.current_org()')
      FROM p
     WHERE p.polpermissive AND p.applies AND p.qual IS DISTINCT FROM 'true' AND p.checks IS DISTINCT FROM 'true'
       AND coalesce(p.qual, '') || coalesce(p.checks, '') NOT LIKE '%tenancy.current_org()%'
       AND NOT (p.polcmd = 'a' AND p.checks IS NULL)
    UNION ALL
    SELECT 'T303', 'high'::tenancy.severity, p.object,
           'policy has an IS NULL fallback; with no context, or rows without an organization, it lets rows '
           'through instead of failing closed',
           'Remove the "OR ... IS NULL" branch: tenancy.current_org() never returns NULL into a policy by '
           'design, and organization columns are NOT NULL.'
      FROM p
     WHERE p.applies AND coalesce(p.qual, '') || ' ' || coalesce(p.checks, '') ~* 'IS NULL'
    UNION ALL
    SELECT 'T305', 'medium'::tenancy.severity, p.object,
           'policy reads current_setting(), current_user or session_user: under one shared application role '
           'these do not tell tenants apart, and current_setting() can be set by the session',
           'Use tenancy.current_org() and tenancy.has_permission() instead.'
      FROM p
     WHERE p.applies
       AND coalesce(p.qual, '') || ' ' || coalesce(p.checks, '') ~* '(current_setting|CURRENT_USER|SESSION_USER)'
$$;
REVOKE ALL ON FUNCTION tenancy.audit_policies(pg_catalog.oid[]) FROM PUBLIC;
