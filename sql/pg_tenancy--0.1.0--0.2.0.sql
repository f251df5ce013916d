-- pg_tenancy 0.1.0 -> 0.2.0: tenancy.audit() and tenancy.probe().
--
-- audit() reads the catalogs for every configuration that would let data cross
-- tenants; probe() proves isolation by behaviour, as the application role, on
-- two synthetic organizations inside a subtransaction it always rolls back,
-- each step in a security-restricted sandbox (probe_functions.cpp). Both are
-- for a DBA or a deployment pipeline: EXECUTE is revoked from PUBLIC.
-- docs/security.md explains every rule.
\echo Use "ALTER EXTENSION pg_tenancy UPDATE TO '0.2.0'" to load this file. \quit

CREATE TYPE tenancy.severity AS ENUM ('info', 'medium', 'high', 'critical');
COMMENT ON TYPE tenancy.severity IS 'How bad an audit finding is; ordered, so severity >= ''high'' works';

CREATE TYPE tenancy.finding AS (
    rule     text,
    severity tenancy.severity,
    object   text,
    detail   text,
    remedy   text
);
COMMENT ON TYPE tenancy.finding IS 'One row of tenancy.audit(): a stable rule id, its severity, the object, why, and a fix';

-- ---------------------------------------------------------------------------
-- What the audit looks at.
-- ---------------------------------------------------------------------------

-- Names of organization columns: every protected table's, plus the conventional one.
CREATE FUNCTION tenancy.org_column_names() RETURNS name[]
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.array_agg(DISTINCT n) FROM (
        SELECT 'organization_id'::name AS n
        UNION
        SELECT (tenancy.protection_of(t.tgrelid::pg_catalog.regclass)).org_column
          FROM pg_catalog.pg_trigger AS t WHERE t.tgname = 'tenancy_org_immutable'
    ) AS names
$$;

-- Relations that hold tenant data: every table, partition, view, materialized
-- view and foreign table with an organization column, outside the system schemas
-- and apart from pg_tenancy's own bookkeeping tables (checked by rule T207). One
-- row per relation: its organization column is the one it (or the hierarchy it
-- belongs to) was protected on, else organization_id, else another known name.
-- root is its topmost ancestor that also holds tenant data (itself if none).
CREATE FUNCTION tenancy.tenant_relations()
    RETURNS TABLE (rel pg_catalog.regclass, relkind "char", org_column name, owner pg_catalog.oid,
                   protection tenancy.protection, root pg_catalog.regclass)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    -- The column names once, not once per pg_attribute row.
    WITH RECURSIVE names AS MATERIALIZED (SELECT tenancy.org_column_names() AS list),
    candidates AS (
        SELECT c.oid, c.relkind, c.relowner, pg_catalog.array_agg(a.attname ORDER BY a.attname) AS columns
          FROM names, pg_catalog.pg_class AS c
          JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
          JOIN pg_catalog.pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
         WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
           AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
           AND n.nspname NOT LIKE 'pg_temp_%' AND n.nspname NOT LIKE 'pg_toast_temp_%'
           AND a.attname = ANY (names.list)
           AND NOT (n.nspname = 'tenancy' AND c.relname IN ('users', 'organizations', 'roles', 'memberships',
                                                              'invitations', 'permissions'))
         GROUP BY c.oid
    ),
    -- Walk up only through ancestors that hold tenant data themselves.
    up(relid, ancestor, depth) AS (
        SELECT oid, oid, 0 FROM candidates
        UNION ALL
        SELECT up.relid, i.inhparent, up.depth + 1
          FROM up JOIN pg_catalog.pg_inherits AS i ON i.inhrelid = up.ancestor
         WHERE i.inhparent IN (SELECT oid FROM candidates)
    ),
    placed AS (
        SELECT c.*, top.ancestor AS root_oid,
               coalesce(tenancy.protection_of(top.ancestor::pg_catalog.regclass),
                        tenancy.protection_of(c.oid::pg_catalog.regclass)) AS how
          FROM candidates AS c
          JOIN LATERAL (SELECT up.ancestor FROM up WHERE up.relid = c.oid ORDER BY up.depth DESC LIMIT 1) AS top
            ON true
    )
    SELECT p.oid::pg_catalog.regclass, p.relkind,
           CASE WHEN (p.how).org_column = ANY (p.columns) THEN (p.how).org_column
                WHEN 'organization_id' = ANY (p.columns) THEN 'organization_id'::name
                ELSE p.columns[1] END,
           p.relowner, p.how, p.root_oid::pg_catalog.regclass
      FROM placed AS p
$$;

-- The application roles to audit: the one given, or else every role other than
-- superusers and owners that holds a data privilege on a tenant table, and every
-- role that can log in and reaches such a grant through a group role.
CREATE FUNCTION tenancy.audited_roles(app_role pg_catalog.regrole) RETURNS SETOF pg_catalog.oid
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    WITH grantees AS (
        SELECT DISTINCT a.grantee
          FROM tenancy.tenant_relations() AS t
          JOIN pg_catalog.pg_class AS c ON c.oid = t.rel,
               pg_catalog.aclexplode(c.relacl) AS a
         WHERE app_role IS NULL AND a.grantee <> 0 AND a.grantee <> c.relowner
           AND a.privilege_type IN ('SELECT', 'INSERT', 'UPDATE', 'DELETE')
    )
    SELECT app_role::pg_catalog.oid WHERE app_role IS NOT NULL
    UNION
    SELECT r.oid FROM pg_catalog.pg_roles AS r
     WHERE app_role IS NULL AND NOT r.rolsuper
       AND (r.oid IN (SELECT grantee FROM grantees)
            OR (r.rolcanlogin AND EXISTS (SELECT 1 FROM grantees AS g
                                           WHERE pg_catalog.pg_has_role(r.oid, g.grantee, 'MEMBER'))))
$$;

-- Does a role bypass row-level security (superuser, BYPASSRLS, or a member of such a role)?
CREATE FUNCTION tenancy.bypasses_rls(role_oid pg_catalog.oid) RETURNS boolean
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_roles AS r
                    WHERE (r.rolsuper OR r.rolbypassrls) AND pg_catalog.pg_has_role(role_oid, r.oid, 'MEMBER'))
$$;

-- Can the role read, write or otherwise touch the relation's rows?
CREATE FUNCTION tenancy.can_touch(role_oid pg_catalog.oid, rel pg_catalog.regclass) RETURNS boolean
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.has_table_privilege(role_oid, rel, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE')
$$;

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
               OR pg_catalog.has_table_privilege('public', r.rel, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE')
                   AS reachable,
               (SELECT p FROM pg_catalog.pg_policy AS p
                 WHERE p.polrelid = r.rel AND p.polname = 'tenancy_guard') AS guard,
               pg_catalog.format('(%s = tenancy.current_org())', pg_catalog.quote_ident(r.org_column)) AS tenant_expr,
               -- Protected: protect() left its trigger or any of its policies here or on the root.
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

-- ---------------------------------------------------------------------------
-- Rules T2xx: the application role.
-- ---------------------------------------------------------------------------

CREATE FUNCTION tenancy.audit_roles(apps pg_catalog.oid[]) RETURNS SETOF tenancy.finding
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    WITH app AS (
        SELECT r.oid, r.rolname, r.rolsuper, r.rolbypassrls, r.rolcreaterole, r.rolcreatedb, r.rolreplication
          FROM pg_catalog.pg_roles AS r WHERE r.oid = ANY (apps)
    ),
    tenant AS (SELECT * FROM tenancy.tenant_relations() WHERE relkind IN ('r', 'p', 'm', 'f'))
    SELECT 'T201', 'critical'::tenancy.severity, pg_catalog.quote_ident(app.rolname),
           'the application role is a superuser: it bypasses every row-level security policy',
           pg_catalog.format('ALTER ROLE %I NOSUPERUSER;', app.rolname)
      FROM app WHERE app.rolsuper
    UNION ALL
    SELECT 'T202', 'critical'::tenancy.severity, pg_catalog.quote_ident(app.rolname),
           CASE WHEN r.oid = app.oid THEN 'the application role has BYPASSRLS'
                ELSE pg_catalog.format('the application role is a member of %I, which %s (SET ROLE reaches it '
                                       'even without INHERIT)', r.rolname,
                                       CASE WHEN r.rolsuper THEN 'is a superuser' ELSE 'has BYPASSRLS' END) END,
           CASE WHEN r.oid = app.oid THEN pg_catalog.format('ALTER ROLE %I NOBYPASSRLS;', app.rolname)
                ELSE pg_catalog.format('REVOKE %I FROM %I;', r.rolname, app.rolname) END
      FROM app JOIN pg_catalog.pg_roles AS r
        ON (r.rolsuper OR r.rolbypassrls) AND pg_catalog.pg_has_role(app.oid, r.oid, 'MEMBER')
     WHERE NOT app.rolsuper AND NOT (r.oid = app.oid AND r.rolsuper)
    UNION ALL
    SELECT 'T203', 'critical'::tenancy.severity, t.rel::text,
           CASE WHEN t.owner = app.oid THEN pg_catalog.format('owned by the application role %I itself', app.rolname)
                ELSE pg_catalog.format('owned by %s, a role the application role %I is a member of',
                                       t.owner::pg_catalog.regrole, app.rolname) END
             || ': the owner can disable or drop the policies, and bypasses them unless FORCE is set',
           pg_catalog.format('ALTER TABLE %s OWNER TO <a role the application cannot use>;', t.rel)
      FROM app JOIN tenant AS t ON pg_catalog.pg_has_role(app.oid, t.owner, 'MEMBER')
     WHERE NOT app.rolsuper
    UNION ALL
    SELECT 'T204', 'high'::tenancy.severity, t.rel::text,
           pg_catalog.format('%I holds %s, which row-level security does not cover', app.rolname,
                             pg_catalog.array_to_string(privs.list, ', ')),
           pg_catalog.format('REVOKE %s ON %s FROM %I;', pg_catalog.array_to_string(privs.list, ', '), t.rel,
                             app.rolname)
      FROM app JOIN tenant AS t ON t.relkind IN ('r', 'p')
      CROSS JOIN LATERAL (
          SELECT pg_catalog.array_agg(p ORDER BY p) AS list
            FROM pg_catalog.unnest(ARRAY['TRUNCATE', 'REFERENCES', 'TRIGGER']) AS p
           WHERE pg_catalog.has_table_privilege(app.oid, t.rel, p)) AS privs
     WHERE privs.list IS NOT NULL AND NOT pg_catalog.pg_has_role(app.oid, t.owner, 'MEMBER')
    UNION ALL
    SELECT 'T205', 'high'::tenancy.severity, pg_catalog.quote_ident(n.nspname),
           pg_catalog.format('%I can create objects in schema %I: functions, operators or tables there can '
                             'shadow what other code resolves through search_path', app.rolname, n.nspname),
           CASE WHEN pg_catalog.pg_has_role(app.oid, n.nspowner, 'MEMBER')
                THEN pg_catalog.format('ALTER SCHEMA %I OWNER TO <a role the application cannot use>;', n.nspname)
                ELSE pg_catalog.format('REVOKE CREATE ON SCHEMA %I FROM PUBLIC, %I;', n.nspname, app.rolname) END
      FROM app JOIN pg_catalog.pg_namespace AS n ON pg_catalog.has_schema_privilege(app.oid, n.oid, 'CREATE')
     WHERE NOT app.rolsuper AND n.nspname NOT LIKE 'pg_temp_%' AND n.nspname NOT LIKE 'pg_toast_temp_%'
    UNION ALL
    SELECT 'T205', 'high'::tenancy.severity, 'database ' || pg_catalog.quote_ident(pg_catalog.current_database()),
           pg_catalog.format('%I can create schemas in this database, and with them any object', app.rolname),
           pg_catalog.format('REVOKE CREATE ON DATABASE %I FROM PUBLIC, %I;', pg_catalog.current_database(),
                             app.rolname)
      FROM app
     WHERE NOT app.rolsuper AND pg_catalog.has_database_privilege(app.oid, pg_catalog.current_database(), 'CREATE')
    UNION ALL
    SELECT 'T206', 'high'::tenancy.severity, pg_catalog.quote_ident(app.rolname),
           pg_catalog.format('the application role has %s', attr.what), attr.fix
      FROM app CROSS JOIN LATERAL (
          SELECT 'CREATEROLE (it can grant itself other roles)',
                 pg_catalog.format('ALTER ROLE %I NOCREATEROLE;', app.rolname) WHERE app.rolcreaterole
          UNION ALL
          SELECT 'CREATEDB', pg_catalog.format('ALTER ROLE %I NOCREATEDB;', app.rolname) WHERE app.rolcreatedb
          UNION ALL
          SELECT 'REPLICATION (it can stream every tenant''s rows)',
                 pg_catalog.format('ALTER ROLE %I NOREPLICATION;', app.rolname) WHERE app.rolreplication
          UNION ALL
          SELECT pg_catalog.format('membership in %I', r.rolname), pg_catalog.format('REVOKE %I FROM %I;', r.rolname,
                                                                                    app.rolname)
            FROM pg_catalog.pg_roles AS r
           WHERE r.rolname IN ('pg_read_server_files', 'pg_write_server_files', 'pg_execute_server_program',
                               'pg_read_all_data', 'pg_write_all_data', 'pg_read_all_settings',
                               'pg_read_all_stats')
             AND pg_catalog.pg_has_role(app.oid, r.oid, 'MEMBER')
      ) AS attr(what, fix)
     WHERE NOT app.rolsuper
    UNION ALL
    SELECT 'T207', 'critical'::tenancy.severity, pg_catalog.format('tenancy.%I', c.relname),
           pg_catalog.format('%I can %s pg_tenancy''s own table directly, around the checks of its functions',
                             app.rolname, pg_catalog.lower(pg_catalog.array_to_string(privs.list, ', '))),
           pg_catalog.format('REVOKE ALL ON tenancy.%I FROM %I;', c.relname, app.rolname)
      FROM app JOIN pg_catalog.pg_class AS c
        ON c.relnamespace = 'tenancy'::pg_catalog.regnamespace
       AND c.relname IN ('users', 'organizations', 'roles', 'memberships', 'invitations', 'permissions', 'audit_log')
      CROSS JOIN LATERAL (
          SELECT pg_catalog.array_agg(p ORDER BY p) AS list
            FROM pg_catalog.unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES',
                                         'TRIGGER']) AS p
           WHERE pg_catalog.has_table_privilege(app.oid, c.oid, p)
             -- granted to PUBLIC by the extension itself
             AND NOT (c.relname IN ('permissions', 'audit_log') AND p = 'SELECT')) AS privs
     WHERE privs.list IS NOT NULL AND NOT app.rolsuper
    UNION ALL
    SELECT 'T208', 'high'::tenancy.severity, p.oid::pg_catalog.regprocedure::text,
           pg_catalog.format('%I can execute this internal pg_tenancy function, which the extension keeps '
                             'from PUBLIC', app.rolname),
           pg_catalog.format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC, %I;', p.oid::pg_catalog.regprocedure,
                             app.rolname)
      FROM app JOIN pg_catalog.pg_proc AS p ON p.pronamespace = 'tenancy'::pg_catalog.regnamespace
      -- Internal: the privileges the extension script left (pg_init_privs) keep it
      -- from PUBLIC, whatever has been granted since (to PUBLIC included).
      JOIN pg_catalog.pg_init_privs AS ip
        ON ip.classoid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND ip.objoid = p.oid AND ip.privtype = 'e'
     WHERE NOT app.rolsuper
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.aclexplode(ip.initprivs) AS a
                        WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE')
       AND pg_catalog.has_function_privilege(app.oid, p.oid, 'EXECUTE')
       AND NOT pg_catalog.pg_has_role(app.oid, p.proowner, 'MEMBER')
    UNION ALL
    SELECT 'T209', 'info'::tenancy.severity, pg_catalog.quote_ident(app.rolname),
           'the application role may create temporary tables, which come first in search_path for tables '
           'and can shadow unqualified names in functions that do not pin search_path',
           pg_catalog.format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC; -- then GRANT it to roles that need it',
                             pg_catalog.current_database())
      FROM app
     WHERE NOT app.rolsuper AND pg_catalog.has_database_privilege(app.oid, pg_catalog.current_database(), 'TEMP')
    UNION ALL
    SELECT 'T210', 'medium'::tenancy.severity, s.seq::text,
           pg_catalog.format('%I can read the current value of the sequence behind %s, which tells how many '
                             'rows all tenants together created', app.rolname, s.rel),
           pg_catalog.format('REVOKE SELECT ON SEQUENCE %s FROM %I; GRANT USAGE ON SEQUENCE %s TO %I;', s.seq,
                             app.rolname, s.seq, app.rolname)
      FROM app JOIN (
          SELECT d.objid::pg_catalog.regclass AS seq, t.rel
            FROM tenant AS t JOIN pg_catalog.pg_depend AS d
              ON d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjid = t.rel
             AND d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.deptype IN ('a', 'i')
            JOIN pg_catalog.pg_class AS c ON c.oid = d.objid AND c.relkind = 'S'
      ) AS s ON pg_catalog.has_sequence_privilege(app.oid, s.seq, 'SELECT')
     WHERE NOT app.rolsuper AND NOT pg_catalog.pg_has_role(app.oid, (SELECT c.relowner FROM pg_catalog.pg_class AS c
                                                                      WHERE c.oid = s.seq), 'MEMBER')
    UNION ALL
    SELECT 'T211', 'medium'::tenancy.severity,
           pg_catalog.format('default privileges of %s%s', d.defaclrole::pg_catalog.regrole,
                             CASE WHEN d.defaclnamespace = 0 THEN ''
                                  ELSE ' in schema ' || d.defaclnamespace::pg_catalog.regnamespace::text END),
           pg_catalog.format('new tables are granted to %I the moment they are created, before anyone calls '
                             'tenancy.protect() on them', app.rolname),
           'Protect every new tenant table in the same migration that creates it (SELECT tenancy.protect(...)), '
           'and run tenancy.audit() in the deployment pipeline.'
      FROM app JOIN pg_catalog.pg_default_acl AS d ON d.defaclobjtype = 'r'
     WHERE NOT app.rolsuper
       AND EXISTS (SELECT 1 FROM pg_catalog.aclexplode(d.defaclacl) AS a
                    WHERE (a.grantee = 0 OR pg_catalog.pg_has_role(app.oid, a.grantee, 'MEMBER'))
                      AND a.privilege_type IN ('SELECT', 'INSERT', 'UPDATE', 'DELETE'))
$$;

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

-- ---------------------------------------------------------------------------
-- Rules T4xx: objects that sidestep policies.
-- ---------------------------------------------------------------------------

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
    ),
    views AS (
        SELECT c.oid::pg_catalog.regclass AS view, c.relkind, c.relowner,
               pg_catalog.string_agg(DISTINCT reads.base::pg_catalog.regclass::text, ', ') AS bases,
               coalesce((SELECT o.option_value IN ('true', 'on', '1', 'yes')
                           FROM pg_catalog.pg_options_to_table(c.reloptions) AS o
                          WHERE o.option_name = 'security_invoker'), false) AS invoker,
               EXISTS (SELECT 1 FROM pg_catalog.unnest(apps) AS app
                        WHERE pg_catalog.has_table_privilege(app, c.oid, 'SELECT, INSERT, UPDATE, DELETE')) AS reachable
          FROM reads JOIN pg_catalog.pg_class AS c ON c.oid = reads.view
         WHERE c.relnamespace <> 'tenancy'::pg_catalog.regnamespace OR c.relname <> 'protected_tables'
         GROUP BY c.oid
    ),
    definers AS (
        SELECT p.oid, p.oid::pg_catalog.regprocedure AS fn, p.proowner, p.proconfig,
               (SELECT pg_catalog.substr(s, 13) FROM pg_catalog.unnest(p.proconfig) AS s
                 WHERE s LIKE 'search_path=%' LIMIT 1) AS path,
               EXISTS (SELECT 1 FROM pg_catalog.unnest(apps) AS app
                        WHERE pg_catalog.has_function_privilege(app, p.oid, 'EXECUTE')) AS reachable
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
                 (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY k.n)
                    FROM pg_catalog.unnest(i.indkey::pg_catalog.int2[]) WITH ORDINALITY AS k(attnum, n)
                    JOIN pg_catalog.pg_attribute AS a ON a.attrelid = i.indrelid AND a.attnum = k.attnum) AS columns
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

-- ---------------------------------------------------------------------------
-- Rules T5xx: server settings.
-- ---------------------------------------------------------------------------

-- The server's own value of a setting, not the auditor's session's: the last
-- applied line of the configuration files, or the value given on the server's
-- command line, or the built-in default. (A command-line value that the
-- auditor's own session overrides is not seen.)
CREATE FUNCTION tenancy.server_setting(setting_name text) RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    value text;
BEGIN
    SELECT CASE WHEN s.source IN ('default', 'configuration file', 'command line', 'environment variable',
                                  'override')
                THEN s.setting END
      INTO value FROM pg_catalog.pg_settings AS s WHERE s.name = setting_name;
    IF value IS NULL THEN
        BEGIN
            SELECT f.setting INTO value FROM pg_catalog.pg_file_settings AS f
             WHERE f.name = setting_name AND f.applied ORDER BY f.seqno DESC LIMIT 1;
        EXCEPTION WHEN insufficient_privilege THEN
            NULL; -- pg_file_settings is for superusers: fall back to the default
        END;
    END IF;
    RETURN coalesce(value, (SELECT s.boot_val FROM pg_catalog.pg_settings AS s WHERE s.name = setting_name));
END
$$;

CREATE FUNCTION tenancy.audit_settings(apps pg_catalog.oid[]) RETURNS SETOF tenancy.finding
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    -- What a new session of each audited role starts with (app 0: any role):
    -- role-in-database, role, then database defaults over the server's value.
    -- Values keep their units ('1s', '64kB'), so they are compared as text.
    WITH setting_for AS (
        SELECT app, s.name, coalesce(
                   (SELECT pg_catalog.substr(c, pg_catalog.length(s.name) + 2)
                      FROM pg_catalog.pg_db_role_setting AS d, pg_catalog.unnest(d.setconfig) AS c
                     WHERE c LIKE s.name || '=%'
                       AND (d.setrole = app OR d.setrole = 0)
                       AND d.setdatabase IN (0, (SELECT oid FROM pg_catalog.pg_database
                                                  WHERE datname = pg_catalog.current_database()))
                     ORDER BY d.setrole = app DESC, d.setdatabase <> 0 DESC LIMIT 1),
                   tenancy.server_setting(s.name)) AS value
          FROM pg_catalog.unnest(apps || ARRAY[0::pg_catalog.oid]) AS app, pg_catalog.pg_settings AS s
         WHERE s.name IN ('log_statement', 'log_min_duration_statement', 'log_min_duration_sample',
                          'log_parameter_max_length', 'log_parameter_max_length_on_error')
    ),
    logging AS (
        SELECT app, statement, duration, sample, param_len, error_len,
               pg_catalog.lower(statement) = 'all' OR duration !~ '^\s*-' OR sample !~ '^\s*-' AS logs_statements,
               param_len !~ '^\s*0+\s*[A-Za-z]*\s*$' AS logs_parameters,
               error_len !~ '^\s*0+\s*[A-Za-z]*\s*$' AS logs_parameters_on_error
          FROM (SELECT app,
                       pg_catalog.max(value) FILTER (WHERE name = 'log_statement') AS statement,
                       pg_catalog.max(value) FILTER (WHERE name = 'log_min_duration_statement') AS duration,
                       pg_catalog.max(value) FILTER (WHERE name = 'log_min_duration_sample') AS sample,
                       pg_catalog.max(value) FILTER (WHERE name = 'log_parameter_max_length') AS param_len,
                       pg_catalog.max(value) FILTER (WHERE name = 'log_parameter_max_length_on_error') AS error_len
                  FROM setting_for GROUP BY app) AS v
    ),
    version AS (
        SELECT pg_catalog.current_setting('server_version_num')::integer AS num,
               CASE pg_catalog.current_setting('server_version_num')::integer / 10000
                    WHEN 15 THEN 150014 WHEN 16 THEN 160010 WHEN 17 THEN 170006 ELSE 0 END AS minimum
    )
    SELECT 'T501', 'critical'::tenancy.severity, 'shared_preload_libraries',
           'pg_tenancy is not preloaded: until a session loads it, tenancy.* settings are unchecked placeholders',
           'ALTER SYSTEM SET shared_preload_libraries = ''pg_tenancy''; -- append to the existing list, then restart'
     WHERE NOT 'pg_tenancy' = ANY (pg_catalog.string_to_array(
                   pg_catalog.replace(pg_catalog.current_setting('shared_preload_libraries'), ' ', ''), ','))
    UNION ALL
    SELECT 'T502', 'critical'::tenancy.severity,
           CASE WHEN d.setrole = 0 AND d.setdatabase = 0 THEN 'all roles'
                WHEN d.setrole = 0 THEN pg_catalog.format('database %I', db.datname)
                WHEN d.setdatabase = 0 THEN pg_catalog.format('role %s', d.setrole::pg_catalog.regrole)
                ELSE pg_catalog.format('role %s in database %I', d.setrole::pg_catalog.regrole, db.datname) END,
           pg_catalog.format('a stored default sets %s for every new session',
                             pg_catalog.split_part(c, '=', 1)),
           CASE WHEN d.setrole = 0 AND d.setdatabase = 0
                THEN pg_catalog.format('ALTER ROLE ALL RESET %s;', pg_catalog.split_part(c, '=', 1))
                WHEN d.setrole = 0
                THEN pg_catalog.format('ALTER DATABASE %I RESET %s;', db.datname, pg_catalog.split_part(c, '=', 1))
                ELSE pg_catalog.format('ALTER ROLE %s%s RESET %s;', d.setrole::pg_catalog.regrole,
                                       CASE WHEN d.setdatabase = 0 THEN ''
                                            ELSE pg_catalog.format(' IN DATABASE %I', db.datname) END,
                                       pg_catalog.split_part(c, '=', 1)) END
      FROM pg_catalog.pg_db_role_setting AS d
      CROSS JOIN LATERAL pg_catalog.unnest(d.setconfig) AS c
      LEFT JOIN pg_catalog.pg_database AS db ON db.oid = d.setdatabase
     WHERE c LIKE 'tenancy.%'
    UNION ALL
    SELECT 'T503', 'high'::tenancy.severity, pg_catalog.format('parameter %s', pa.parname),
           pg_catalog.format('%s was granted %s on a pg_tenancy parameter',
                             CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::pg_catalog.regrole::text END,
                             a.privilege_type),
           pg_catalog.format('REVOKE %s ON PARAMETER %s FROM %s;', a.privilege_type, pa.parname,
                             CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::pg_catalog.regrole::text END)
      FROM pg_catalog.pg_parameter_acl AS pa, pg_catalog.aclexplode(pa.paracl) AS a
     WHERE pa.parname LIKE 'tenancy.%'
       AND (a.grantee = 0 OR NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles AS r WHERE r.oid = a.grantee))
    UNION ALL
    SELECT 'T504', CASE WHEN v.num < v.minimum - 5 THEN 'critical' ELSE 'high' END::tenancy.severity, 'server_version',
           pg_catalog.format('PostgreSQL %s lacks fixes for row-level security and statistics leaks '
                             '(CVE-2023-39418, CVE-2024-10976, CVE-2025-8713); the first fixed minor release is %s.%s',
                             pg_catalog.current_setting('server_version'), v.minimum / 10000, v.minimum % 100),
           'Upgrade to the latest minor release of your major version.'
      FROM version AS v WHERE v.num < v.minimum
    UNION ALL
    SELECT 'T505', 'high'::tenancy.severity,
           CASE WHEN l.app = 0 THEN 'server logging' ELSE pg_catalog.format('logging for role %s', l.app::pg_catalog.regrole) END,
           pg_catalog.format('%s and log_parameter_max_length = %s: the server log records bind parameters, '
                             'so every context token passed to tenancy.enter($1)',
                             CASE WHEN pg_catalog.lower(l.statement) = 'all' THEN 'log_statement = all'
                                  WHEN l.duration !~ '^\s*-' THEN 'log_min_duration_statement = ' || l.duration
                                  ELSE 'log_min_duration_sample = ' || l.sample END, l.param_len),
           CASE WHEN l.app = 0 THEN 'ALTER SYSTEM SET log_parameter_max_length = 0; SELECT pg_reload_conf();'
                ELSE pg_catalog.format('ALTER ROLE %s SET log_parameter_max_length = 0;', l.app::pg_catalog.regrole) END
      FROM logging AS l
     WHERE l.logs_statements AND l.logs_parameters
       AND (l.app = 0 OR NOT EXISTS (SELECT 1 FROM logging AS g
                                      WHERE g.app = 0 AND g.logs_statements AND g.logs_parameters))
    UNION ALL
    SELECT 'T505', 'high'::tenancy.severity,
           CASE WHEN l.app = 0 THEN 'server logging' ELSE pg_catalog.format('logging for role %s', l.app::pg_catalog.regrole) END,
           pg_catalog.format('log_parameter_max_length_on_error = %s: a failing statement logs its bind '
                             'parameters, context tokens included', l.error_len),
           CASE WHEN l.app = 0 THEN 'ALTER SYSTEM SET log_parameter_max_length_on_error = 0; SELECT pg_reload_conf();'
                ELSE pg_catalog.format('ALTER ROLE %s SET log_parameter_max_length_on_error = 0;',
                                       l.app::pg_catalog.regrole) END
      FROM logging AS l
     WHERE l.logs_parameters_on_error
       AND (l.app = 0 OR NOT EXISTS (SELECT 1 FROM logging AS g WHERE g.app = 0 AND g.logs_parameters_on_error))
    UNION ALL
    SELECT 'T506', 'high'::tenancy.severity, 'lo_compat_privileges',
           'lo_compat_privileges is on: any role can read and write every large object, whoever stored it',
           'ALTER SYSTEM SET lo_compat_privileges = off; SELECT pg_reload_conf();'
     WHERE pg_catalog.current_setting('lo_compat_privileges')::boolean
    UNION ALL
    SELECT 'T507', 'medium'::tenancy.severity, 'tenancy.accept_forwarded_context',
           'forwarded contexts are accepted: any session holding a valid token may SET LOCAL tenancy.context, '
           'and its membership is not re-checked (meant for Citus worker nodes only)',
           'ALTER SYSTEM SET tenancy.accept_forwarded_context = off; SELECT pg_reload_conf();'
     WHERE pg_catalog.current_setting('tenancy.accept_forwarded_context', true) = 'on'
$$;

-- T508: tokens recorded in pg_stat_statements (needs the view; skipped without it).
CREATE FUNCTION tenancy.audit_statement_texts() RETURNS SETOF tenancy.finding
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    view_name pg_catalog.regclass;
    hits bigint;
BEGIN
    -- Only the view the extension itself installed: a look-up by name could find
    -- a look-alike in a schema (or another session's temporary schema) that a
    -- less privileged role controls, and this runs as the auditor.
    SELECT c.oid INTO view_name
      FROM pg_catalog.pg_extension AS e
      JOIN pg_catalog.pg_depend AS d ON d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
       AND d.refobjid = e.oid AND d.deptype = 'e' AND d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
      JOIN pg_catalog.pg_class AS c ON c.oid = d.objid AND c.relname = 'pg_stat_statements' AND c.relkind = 'v'
     WHERE e.extname = 'pg_stat_statements';
    IF view_name IS NULL THEN
        RETURN;
    END IF;
    BEGIN
        -- A JWS header always starts with eyJ ({" in base64url).
        EXECUTE pg_catalog.format('SELECT pg_catalog.count(*) FROM %s WHERE query ~ ''eyJ[A-Za-z0-9_-]{10,}\.'' '
                                  'AND dbid = (SELECT oid FROM pg_catalog.pg_database '
                                  'WHERE datname = pg_catalog.current_database())', view_name) INTO hits;
    EXCEPTION WHEN OTHERS THEN
        RETURN; -- not loaded in shared_preload_libraries, or not readable
    END;
    IF hits > 0 THEN
        RETURN QUERY SELECT 'T508', 'high'::tenancy.severity, view_name::text,
            pg_catalog.format('%s statement(s) recorded for this database contain a token-like literal: a token '
                              'was written into SQL text instead of being bound as a parameter', hits),
            'Pass tokens as bind parameters (SELECT tenancy.enter($1)), then SELECT pg_stat_statements_reset();';
    END IF;
END
$$;

-- ---------------------------------------------------------------------------
-- tenancy.audit()
-- ---------------------------------------------------------------------------

CREATE FUNCTION tenancy.audit(app_role pg_catalog.regrole DEFAULT NULL) RETURNS SETOF tenancy.finding
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
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

-- ---------------------------------------------------------------------------
-- tenancy.probe(): the negative canary.
-- ---------------------------------------------------------------------------

CREATE FUNCTION tenancy.probe_enter(organization_id uuid, user_id uuid) RETURNS void
    AS 'MODULE_PATHNAME', 'tenancy_probe_enter'
    LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION tenancy.probe_enter(uuid, uuid) IS
    'Internal to tenancy.probe(): enter a synthetic organization without a signing key (superuser only)';

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

CREATE FUNCTION tenancy.probe_lookup(owner pg_catalog.regrole, query text) RETURNS text
    AS 'MODULE_PATHNAME', 'tenancy_probe_lookup'
    LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION tenancy.probe_lookup(pg_catalog.regrole, text) IS
    'Internal to tenancy.probe(): the first value a query returns, read as a table''s (non-superuser) owner '
    'inside a security-restricted operation (superuser session only)';

CREATE FUNCTION tenancy.probe_run(role pg_catalog.regrole, statement text, arg uuid, seeding boolean)
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'tenancy_probe_run'
    LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION tenancy.probe_run(pg_catalog.regrole, text, uuid, boolean) IS
    'Internal to tenancy.probe(): run one statement as a role inside a security-restricted operation '
    '(superuser session only)';

-- One check, as the application role, in a subtransaction that is always rolled
-- back. touched: the rows it counted (a SELECT count) or changed. NULL with no
-- failure: refused the way isolation refuses (row-level security, no tenant
-- context, no privilege on the relation at all), the safe outcome. failure: any
-- other error, which leaves the check undecided. $1 in the statement is `arg`.
CREATE FUNCTION tenancy.probe_as(app_role pg_catalog.regrole, statement text, arg uuid,
                                 OUT touched bigint, OUT failure text)
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    -- The refusal is recognized by its message, so messages must not be translated.
    SET lc_messages = 'C'
AS $$
DECLARE
    n bigint;
BEGIN
    BEGIN
        n := tenancy.probe_run(app_role, statement, arg, false);
        RAISE EXCEPTION USING ERRCODE = 'PT001', MESSAGE = 'pg_tenancy probe step rollback';
    EXCEPTION
        WHEN SQLSTATE 'PT001' THEN
            touched := n;
        WHEN insufficient_privilege THEN
            IF SQLERRM NOT LIKE 'new row violates row-level security policy%'
               AND SQLERRM NOT LIKE 'no tenant context is active%'
               AND SQLERRM NOT LIKE 'permission denied for table %'
               AND SQLERRM NOT LIKE 'permission denied for view %'
               AND SQLERRM NOT LIKE 'permission denied for materialized view %'
               AND SQLERRM NOT LIKE 'permission denied for foreign table %'
               AND SQLERRM NOT LIKE 'a row cannot move to another organization%'
               AND SQLERRM NOT LIKE 'tenancy.context can only be set by tenancy.enter()%' THEN
                -- e.g. a sequence or column privilege: the application might still get through another way
                failure := SQLSTATE || ': ' || SQLERRM;
            END IF;
        WHEN OTHERS THEN
            failure := SQLSTATE || ': ' || SQLERRM;
    END;
END
$$;

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

        RAISE EXCEPTION USING ERRCODE = 'PT000', MESSAGE = 'pg_tenancy probe rollback';
    EXCEPTION
        WHEN SQLSTATE 'PT000' THEN
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

-- ---------------------------------------------------------------------------
-- 0.1.0 helpers behind the role, member and invitation functions: a NULL is
-- now "missing input" (22004) rather than "not found", and a huge role code
-- is not echoed back whole into the error and the server log.
-- ---------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION tenancy.role_id(organization_id uuid, code text) RETURNS uuid
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    found_id uuid;
BEGIN
    IF code IS NULL THEN
        RAISE EXCEPTION 'a role code is required' USING ERRCODE = '22004', HINT = 'See tenancy.list_roles().';
    END IF;
    SELECT r.id INTO found_id FROM tenancy.roles AS r
     WHERE r.organization_id OPERATOR(pg_catalog.=) role_id.organization_id AND r.code OPERATOR(pg_catalog.=) role_id.code;
    IF found_id IS NULL THEN
        RAISE EXCEPTION 'role "%" does not exist in this organization',
                        CASE WHEN pg_catalog.length(code) > 64 THEN pg_catalog.left(code, 64) || '...' ELSE code END
            USING ERRCODE = '42704', HINT = 'See tenancy.list_roles().';
    END IF;
    RETURN found_id;
END
$$;

CREATE OR REPLACE FUNCTION tenancy.membership_of(organization_id uuid, user_id uuid) RETURNS tenancy.memberships
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    found_row tenancy.memberships;
BEGIN
    IF user_id IS NULL THEN
        RAISE EXCEPTION 'a user id is required' USING ERRCODE = '22004', HINT = 'See tenancy.list_members().';
    END IF;
    SELECT m.* INTO found_row FROM tenancy.memberships AS m
     WHERE m.organization_id = membership_of.organization_id AND m.user_id = membership_of.user_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'that user is not a member of this organization' USING ERRCODE = '42704';
    END IF;
    RETURN found_row;
END
$$;

-- The audit is for DBAs and pipelines, not for the application.
REVOKE ALL ON FUNCTION tenancy.org_column_names() FROM PUBLIC;
REVOKE ALL ON FUNCTION tenancy.tenant_relations() FROM PUBLIC;
REVOKE ALL ON FUNCTION tenancy.audited_roles(pg_catalog.regrole) FROM PUBLIC;
REVOKE ALL ON FUNCTION tenancy.bypasses_rls(pg_catalog.oid) FROM PUBLIC;
REVOKE ALL ON FUNCTION tenancy.can_touch(pg_catalog.oid, pg_catalog.regclass) FROM PUBLIC;
REVOKE ALL ON FUNCTION tenancy.audit_tables(pg_catalog.oid[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION tenancy.audit_roles(pg_catalog.oid[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION tenancy.audit_policies(pg_catalog.oid[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION tenancy.audit_objects(pg_catalog.oid[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION tenancy.server_setting(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION tenancy.audit_settings(pg_catalog.oid[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION tenancy.audit_statement_texts() FROM PUBLIC;
REVOKE ALL ON FUNCTION tenancy.audit(pg_catalog.regrole) FROM PUBLIC;
REVOKE ALL ON FUNCTION tenancy.probe_enter(uuid, uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION tenancy.probe_value(pg_catalog.oid) FROM PUBLIC;
REVOKE ALL ON FUNCTION tenancy.probe_insert_sql(pg_catalog.regclass, name, uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION tenancy.probe_run(pg_catalog.regrole, text, uuid, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION tenancy.probe_lookup(pg_catalog.regrole, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION tenancy.probe_as(pg_catalog.regrole, text, uuid) FROM PUBLIC;
REVOKE ALL ON FUNCTION tenancy.probe(pg_catalog.regrole) FROM PUBLIC;
