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
       AND c.relname IN ('users', 'organizations', 'roles', 'memberships', 'invitations', 'permissions', 'audit_log',
                        'user_identities')
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
REVOKE ALL ON FUNCTION tenancy.audit_roles(pg_catalog.oid[]) FROM PUBLIC;
