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

-- Does a policy confine one command (r, a, w, d) to the current organization:
-- for every row it lets through (USING) and every row it lets be written (WITH
-- CHECK, which is USING when not given, except for INSERT policies)?
CREATE FUNCTION tenancy.policy_confines(rel pg_catalog.oid, org_column name, polcmd "char",
                                        polqual pg_catalog.pg_node_tree, polwithcheck pg_catalog.pg_node_tree,
                                        command "char") RETURNS boolean
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    WITH e AS (
        SELECT a.attnum, 'tenancy.current_org()'::pg_catalog.regprocedure::pg_catalog.oid AS fn,
               CASE WHEN polcmd = 'a' THEN polwithcheck ELSE coalesce(polwithcheck, polqual) END AS checks
          FROM pg_catalog.pg_attribute AS a
         WHERE a.attrelid = rel AND a.attname = org_column AND NOT a.attisdropped
    )
    SELECT coalesce((SELECT CASE command
                WHEN 'a' THEN tenancy.expr_requires_tenant(e.checks, e.attnum, e.fn)
                WHEN 'w' THEN tenancy.expr_requires_tenant(polqual, e.attnum, e.fn)
                              AND tenancy.expr_requires_tenant(e.checks, e.attnum, e.fn)
                ELSE tenancy.expr_requires_tenant(polqual, e.attnum, e.fn) END
               FROM e), false)
$$;
REVOKE ALL ON FUNCTION tenancy.policy_confines(pg_catalog.oid, name, "char", pg_catalog.pg_node_tree,
                                               pg_catalog.pg_node_tree, "char") FROM PUBLIC;

CREATE FUNCTION tenancy.audit_policies(apps pg_catalog.oid[]) RETURNS SETOF tenancy.finding
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    WITH pol AS (
        SELECT p.*, t.rel, t.org_column,
               (0 = ANY (p.polroles) OR EXISTS (SELECT 1 FROM pg_catalog.unnest(p.polroles) AS r,
                                                                pg_catalog.unnest(apps) AS app
                                                 WHERE pg_catalog.pg_has_role(app, r, 'MEMBER'))) AS applies,
               -- the commands the policy covers
               CASE p.polcmd WHEN '*' THEN ARRAY['r', 'a', 'w', 'd']::"char"[] ELSE ARRAY[p.polcmd] END AS commands
          FROM tenancy.tenant_relations() AS t
          JOIN pg_catalog.pg_policy AS p ON p.polrelid = t.rel
         WHERE t.relkind IN ('r', 'p')
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
               NOT EXISTS (SELECT 1 FROM pg_catalog.unnest(pol.commands) AS c
                            WHERE NOT tenancy.policy_confines(pol.rel, pol.org_column, pol.polcmd, pol.polqual,
                                                              pol.polwithcheck, c)) AS confined,
               -- or does a restrictive policy that applies do it, for each command this one covers?
               NOT EXISTS (SELECT 1 FROM pg_catalog.unnest(pol.commands) AS c
                            WHERE NOT EXISTS (
                                SELECT 1 FROM pol AS g
                                 WHERE g.rel = pol.rel AND NOT g.polpermissive AND g.applies
                                   AND (g.polcmd = '*' OR g.polcmd = c)
                                   AND tenancy.policy_confines(g.rel, g.org_column, g.polcmd, g.polqual,
                                                               g.polwithcheck, c))) AS guarded
          FROM pol
         -- pg_tenancy's own permissive policies too: one edited to USING (true)
         -- opens the rows its read and write permissions should hide. The guard
         -- is checked against its exact form by T104.
         WHERE pol.polname <> 'tenancy_guard'
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
