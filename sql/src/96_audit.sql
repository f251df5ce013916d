-- ---------------------------------------------------------------------------
-- tenancy.audit()
-- ---------------------------------------------------------------------------

CREATE FUNCTION tenancy.audit(app_role pg_catalog.regrole DEFAULT NULL) RETURNS SETOF tenancy.finding
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    -- Catalog queries over thousands of relations cross the JIT cost threshold,
    -- and compiling them costs seconds while running them takes milliseconds.
    SET jit = off
AS $$
DECLARE
    apps pg_catalog.oid[];
BEGIN
    SELECT pg_catalog.array_agg(r) INTO apps FROM tenancy.audited_roles(app_role) AS r;
    apps := coalesce(apps, '{}');
    RETURN QUERY
    SELECT f.* FROM (
        SELECT * FROM tenancy.audit_tables(apps)
        UNION ALL SELECT * FROM tenancy.audit_roles(apps)
        UNION ALL SELECT * FROM tenancy.audit_policies(apps)
        UNION ALL SELECT * FROM tenancy.audit_objects(apps)
        UNION ALL SELECT * FROM tenancy.audit_settings(apps)
        UNION ALL SELECT * FROM tenancy.audit_statement_texts()
        UNION ALL SELECT * FROM tenancy.audit_cluster(apps)
        UNION ALL
        SELECT 'T200', 'info'::tenancy.severity, 'application role',
               CASE WHEN pg_catalog.cardinality(apps) = 0
                    THEN 'no application role was given and none holds privileges on a tenant table, so the role '
                         'checks (T2xx) did not run'
                    ELSE 'no application role was given; the role checks ran for '
                         || (SELECT pg_catalog.string_agg(a::pg_catalog.regrole::text, ', ' ORDER BY 1)
                               FROM pg_catalog.unnest(apps) AS a)
                         || ' (roles holding privileges on tenant tables, and logins reaching them through a group)'
               END,
               'Name the role the application connects as: SELECT * FROM tenancy.audit(''<role>'');'
         WHERE app_role IS NULL
    ) AS f
    ORDER BY f.severity DESC, f.rule, f.object;
END
$$;
COMMENT ON FUNCTION tenancy.audit(pg_catalog.regrole) IS
    'Every configuration that would let data cross tenants, one finding per row (rule, severity, object, '
    'detail, remedy); app_role defaults to every role with privileges on tenant tables. See docs/security.md';
REVOKE ALL ON FUNCTION tenancy.audit(pg_catalog.regrole) FROM PUBLIC;
