-- ---------------------------------------------------------------------------
-- Rules T3xx: other policies on protected tables.
-- ---------------------------------------------------------------------------

-- What a policy expression means, read from its node tree (policy_analysis.cpp):
-- nothing in the expression is evaluated.
CREATE FUNCTION tenancy.expr_requires_tenant(expr pg_catalog.pg_node_tree, org_attnum smallint,
                                             current_org pg_catalog.oid) RETURNS boolean
    AS 'MODULE_PATHNAME', 'tenancy_expr_requires_tenant'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION tenancy.expr_requires_tenant(pg_catalog.pg_node_tree, smallint, pg_catalog.oid) IS
    'Internal to tenancy.audit(): is "column org_attnum = current_org()" a top-level AND conjunct of a policy '
    'expression?';
REVOKE ALL ON FUNCTION tenancy.expr_requires_tenant(pg_catalog.pg_node_tree, smallint, pg_catalog.oid) FROM PUBLIC;

CREATE FUNCTION tenancy.expr_always_true(expr pg_catalog.pg_node_tree) RETURNS boolean
    AS 'MODULE_PATHNAME', 'tenancy_expr_always_true'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION tenancy.expr_always_true(pg_catalog.pg_node_tree) IS
    'Internal to tenancy.audit(): is a policy expression recognizably true for every row (true, x OR true, 1 = 1)?';
REVOKE ALL ON FUNCTION tenancy.expr_always_true(pg_catalog.pg_node_tree) FROM PUBLIC;

CREATE FUNCTION tenancy.audit_policies(apps pg_catalog.oid[]) RETURNS SETOF tenancy.finding
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    -- A policy *confines* a command when the tenant equality is a top-level AND
    -- term of the expressions PostgreSQL applies for it: USING for SELECT and
    -- DELETE, WITH CHECK for INSERT (absent: none), both for UPDATE (WITH CHECK
    -- absent: USING).
    WITH pol AS MATERIALIZED (
        SELECT p.oid, p.polname, p.polrelid, p.polpermissive, p.polcmd, p.polqual, p.polwithcheck, t.rel,
               (0 = ANY (p.polroles) OR EXISTS (SELECT 1 FROM pg_catalog.unnest(p.polroles) AS r,
                                                                pg_catalog.unnest(apps) AS app
                                                 WHERE pg_catalog.pg_has_role(app, r, 'MEMBER'))) AS applies,
               -- the commands the policy covers
               CASE p.polcmd WHEN '*' THEN ARRAY['r', 'a', 'w', 'd']::"char"[] ELSE ARRAY[p.polcmd] END AS commands,
               coalesce(tenancy.expr_requires_tenant(p.polqual, a.attnum, fn.oid), false) AS using_ok,
               coalesce(tenancy.expr_requires_tenant(CASE WHEN p.polcmd = 'a' THEN p.polwithcheck
                                                          ELSE coalesce(p.polwithcheck, p.polqual) END,
                                                     a.attnum, fn.oid), false) AS check_ok
          FROM tenancy.tenant_relations() AS t
          JOIN pg_catalog.pg_policy AS p ON p.polrelid = t.rel
          LEFT JOIN pg_catalog.pg_attribute AS a
            ON a.attrelid = t.rel AND a.attname = t.org_column AND NOT a.attisdropped
          CROSS JOIN (SELECT 'tenancy.current_org()'::pg_catalog.regprocedure::pg_catalog.oid AS oid) AS fn
         WHERE t.relkind IN ('r', 'p')
    ),
    confines AS (
        SELECT pol.oid, c.command,
               CASE c.command WHEN 'a' THEN pol.check_ok WHEN 'w' THEN pol.using_ok AND pol.check_ok
                              ELSE pol.using_ok END AS ok
          FROM pol CROSS JOIN LATERAL pg_catalog.unnest(pol.commands) AS c(command)
    ),
    -- per table, the commands some applicable RESTRICTIVE policy confines
    guards AS (
        SELECT pol.rel, pg_catalog.array_agg(DISTINCT c.command) AS commands
          FROM pol JOIN confines AS c ON c.oid = pol.oid
         WHERE NOT pol.polpermissive AND pol.applies AND c.ok
         GROUP BY pol.rel
    ),
    p AS (
        SELECT pol.polname, pol.rel, pol.polpermissive, pol.polcmd, pol.applies,
               pg_catalog.pg_get_expr(pol.polqual, pol.polrelid) AS qual,
               pg_catalog.pg_get_expr(pol.polwithcheck, pol.polrelid) AS checks,
               pg_catalog.format('%I ON %s', pol.polname, pol.rel) AS object,
               coalesce(tenancy.expr_always_true(pol.polqual), false)
               OR coalesce(tenancy.expr_always_true(pol.polwithcheck), false)
               OR (pol.polcmd = 'a' AND pol.polwithcheck IS NULL) AS always_true,
               -- does the policy itself keep every row to the current organization?
               CASE pol.polcmd WHEN 'a' THEN pol.check_ok WHEN 'r' THEN pol.using_ok WHEN 'd' THEN pol.using_ok
                               ELSE pol.using_ok AND pol.check_ok END AS confined,
               -- or does a restrictive policy, for every command this one covers?
               pol.commands OPERATOR(pg_catalog.<@) coalesce(g.commands, '{}') AS guarded
          FROM pol LEFT JOIN guards AS g ON g.rel = pol.rel
         -- pg_tenancy's own permissive policies too: one edited to USING (true)
         -- opens the rows its read and write permissions should hide. The guards
         -- are checked against their exact form by T104.
         WHERE pol.polname <> ALL (tenancy.guard_names()) AND pol.applies
    )
    SELECT 'T301', CASE WHEN p.guarded THEN 'high' ELSE 'critical' END::tenancy.severity, p.object,
           'permissive policy that is always true: it opens every row'
             || CASE WHEN p.guarded THEN ' of the organization to every role it applies to, whatever the read '
                                         'and write permissions say'
                     ELSE ' of every organization' END,
           pg_catalog.format('DROP POLICY %s; -- or make it AS RESTRICTIVE', p.object)
      FROM p
     WHERE p.polpermissive AND p.applies AND p.always_true
    UNION ALL
    -- T302: judged on the parsed expression, not its text: unless the tenant
    -- equality is a top-level AND conjunct of its USING and WITH CHECK, the
    -- policy may let another organization's rows through (OR, NOT, CASE,
    -- coalesce(..., true) and the like are not provable, so they are reported).
    SELECT 'T302', CASE WHEN p.guarded THEN 'medium' ELSE 'critical' END::tenancy.severity, p.object,
           'permissive policy that does not require the tenant condition (organization column = '
           'tenancy.current_org(), as a top-level AND term of USING and WITH CHECK): it widens what the tenant '
           'policies allow' || CASE WHEN p.guarded THEN ' within the organization'
                                    ELSE ', across organizations: no restrictive policy confines it' END,
           pg_catalog.format('Add "AND %s" to its USING and WITH CHECK, or make it AS RESTRICTIVE.',
                             'organization_id = tenancy.current_org()')
      FROM p
     WHERE p.polpermissive AND p.applies AND NOT p.always_true AND NOT p.confined
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
