-- pg_tenancy 0.2.0 -> 0.3.0.
--
-- The rule: sql/src/*.sql hold the final form of every object and are built into
-- the 0.3.0 install script; this script is written by hand and makes exactly the
-- same changes to a 0.2.0 database. Every change to sql/src in this release is
-- mirrored here (CREATE OR REPLACE FUNCTION with the new body, ALTER TABLE, new
-- objects with their REVOKEs and COMMENTs, ...), in the same words, so that an
-- upgraded database and a fresh install are identical. tests/cluster/
-- upgrade_matches_fresh.sh compares their catalogs (function bodies and
-- settings, tables, constraints, indexes, ACLs, policies, triggers, comments,
-- types) and fails on any difference. Once 0.3.0 is released this file is frozen.
--
-- 0.3.0 so far: sql/src replaces the 0.1.0 install script plus the 0.1.0--0.2.0
-- upgrade as the source of the install script; the objects are unchanged.
-- External identities (sql/src/45_identities.sql): tenancy.user_identities and
-- tenancy.link_identity(), unlink_identity(), resolve_identity(); the audit's rule
-- T207 (sql/src/92_audit_roles.sql) also watches tenancy.user_identities.
-- Citus (issue 15, sql/src/31_citus.sql): protect() works before and after
-- create_distributed_table and leaves out the row trigger where Citus is
-- installed (protection_of() then reads the registry); the audit's rules T6xx
-- (sql/src/95_audit_cluster.sql) inspect a Citus cluster from its coordinator.
\echo Use "ALTER EXTENSION pg_tenancy UPDATE TO '0.3.0'" to load this file. \quit

-- enter(): no SECURITY DEFINER and no SET clause (see sql/src/20_context.sql).
ALTER FUNCTION tenancy.enter(text) SECURITY INVOKER RESET ALL;

-- The commit-time checks in C (see sql/src/50_engine_support.sql).
CREATE OR REPLACE FUNCTION tenancy.assert_session_clean() RETURNS void
    AS 'MODULE_PATHNAME', 'tenancy_assert_session_clean'
    LANGUAGE C VOLATILE PARALLEL UNSAFE;
CREATE OR REPLACE FUNCTION tenancy.require_context() RETURNS void
    AS 'MODULE_PATHNAME', 'tenancy_require_context'
    LANGUAGE C VOLATILE PARALLEL UNSAFE;

-- ---------------------------------------------------------------------------
-- External identities: an identity provider's (issuer, subject) linked to a
-- pg_tenancy user, so providers whose subjects are not pg_tenancy user ids
-- (Auth0's "auth0|abc", Keycloak's own uuids, Azure AD object ids) can sign
-- users in. The engine resolves a verified bearer token's issuer and subject
-- with tenancy.resolve_identity() (identity_subject_mapping = linked). All three
-- functions are for the engine's privileged role only: grant them explicitly.
-- ---------------------------------------------------------------------------

CREATE TABLE tenancy.user_identities (
    issuer      text NOT NULL
                CONSTRAINT user_identities_issuer_length CHECK (pg_catalog.octet_length(issuer) BETWEEN 1 AND 2048),
    subject     text NOT NULL
                CONSTRAINT user_identities_subject_length CHECK (pg_catalog.octet_length(subject) BETWEEN 1 AND 255),
    user_id     uuid NOT NULL REFERENCES tenancy.users (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT user_identities_pkey PRIMARY KEY (issuer, subject)
);
CREATE INDEX user_identities_user_id_idx ON tenancy.user_identities (user_id);
COMMENT ON TABLE tenancy.user_identities IS
    'Identity-provider subjects (issuer, subject) linked to pg_tenancy users; one user may have several';
SELECT pg_catalog.pg_extension_config_dump('tenancy.user_identities', '');
REVOKE ALL ON TABLE tenancy.user_identities FROM PUBLIC;

CREATE FUNCTION tenancy.link_identity(user_id uuid, issuer text, subject text) RETURNS void
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF link_identity.user_id IS NULL OR link_identity.issuer IS NULL OR link_identity.subject IS NULL THEN
        RAISE EXCEPTION 'tenancy.link_identity() needs a user id, an issuer and a subject' USING ERRCODE = '22004';
    END IF;
    IF pg_catalog.octet_length(link_identity.issuer) NOT BETWEEN 1 AND 2048
       OR pg_catalog.octet_length(link_identity.subject) NOT BETWEEN 1 AND 255 THEN
        RAISE EXCEPTION 'invalid issuer or subject'
            USING ERRCODE = '22023',
                  HINT = 'Give the token''s iss claim (1 to 2048 bytes) and its user claim (1 to 255 bytes) exactly.';
    END IF;
    IF NOT EXISTS (SELECT FROM tenancy.users AS u WHERE u.id OPERATOR(pg_catalog.=) link_identity.user_id) THEN
        RAISE EXCEPTION 'no such user' USING ERRCODE = '22023',
            HINT = 'Register the user first (tenancy.register_user()).';
    END IF;
    INSERT INTO tenancy.user_identities AS i (issuer, subject, user_id)
        VALUES (link_identity.issuer, link_identity.subject, link_identity.user_id)
        ON CONFLICT ON CONSTRAINT user_identities_pkey DO NOTHING;
    IF NOT EXISTS (SELECT FROM tenancy.user_identities AS i
                    WHERE i.issuer OPERATOR(pg_catalog.=) link_identity.issuer
                      AND i.subject OPERATOR(pg_catalog.=) link_identity.subject
                      AND i.user_id OPERATOR(pg_catalog.=) link_identity.user_id) THEN
        RAISE EXCEPTION 'this identity is already linked to another user'
            USING ERRCODE = '23505',
                  HINT = 'Unlink it first (tenancy.unlink_identity()) if it really changed hands.';
    END IF;
END
$$;
REVOKE ALL ON FUNCTION tenancy.link_identity(uuid, text, text) FROM PUBLIC;
COMMENT ON FUNCTION tenancy.link_identity(uuid, text, text) IS
    'Link an identity provider''s (issuer, subject) to a user; linking the same pair again is a no-op '
    '(for the engine''s privileged role only)';

CREATE FUNCTION tenancy.unlink_identity(issuer text, subject text) RETURNS boolean
    LANGUAGE sql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    WITH gone AS (
        DELETE FROM tenancy.user_identities AS i
         WHERE i.issuer OPERATOR(pg_catalog.=) unlink_identity.issuer
           AND i.subject OPERATOR(pg_catalog.=) unlink_identity.subject
        RETURNING 1
    )
    SELECT EXISTS (SELECT FROM gone)
$$;
REVOKE ALL ON FUNCTION tenancy.unlink_identity(text, text) FROM PUBLIC;
COMMENT ON FUNCTION tenancy.unlink_identity(text, text) IS
    'Remove the link of an identity provider''s (issuer, subject); true if there was one '
    '(for the engine''s privileged role only)';

CREATE FUNCTION tenancy.resolve_identity(issuer text, subject text) RETURNS uuid
    LANGUAGE sql STABLE
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT i.user_id
      FROM tenancy.user_identities AS i
     WHERE i.issuer OPERATOR(pg_catalog.=) resolve_identity.issuer
       AND i.subject OPERATOR(pg_catalog.=) resolve_identity.subject
$$;
REVOKE ALL ON FUNCTION tenancy.resolve_identity(text, text) FROM PUBLIC;
COMMENT ON FUNCTION tenancy.resolve_identity(text, text) IS
    'The user linked to an identity provider''s (issuer, subject), or NULL (for the engine''s privileged role only)';

-- Rule T207 also covers tenancy.user_identities (sql/src/92_audit_roles.sql).
CREATE OR REPLACE FUNCTION tenancy.audit_roles(apps pg_catalog.oid[]) RETURNS SETOF tenancy.finding
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

-- ---------------------------------------------------------------------------
-- Citus (issue 15): what protect() and the audit need to know about a Citus
-- cluster. pg_tenancy installs and behaves the same without Citus: every call
-- into Citus is dynamic (EXECUTE), behind tenancy.citus_installed().
-- ---------------------------------------------------------------------------

CREATE FUNCTION tenancy.citus_installed() RETURNS boolean
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    RETURN EXISTS (SELECT 1 FROM pg_catalog.pg_extension AS e WHERE e.extname OPERATOR(pg_catalog.=) 'citus');
COMMENT ON FUNCTION tenancy.citus_installed() IS 'Is the citus extension installed in this database?';

-- The column Citus distributes tbl (or the distributed table tbl is a
-- partition of) by, or NULL: not distributed by a column, or no Citus.
CREATE FUNCTION tenancy.citus_distribution_column(tbl pg_catalog.regclass) RETURNS name
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    col name;
BEGIN
    IF NOT tenancy.citus_installed() THEN
        RETURN NULL;
    END IF;
    EXECUTE 'SELECT pg_catalog.column_to_column_name(p.logicalrelid, p.partkey)::name '
            'FROM pg_catalog.pg_dist_partition AS p WHERE p.logicalrelid OPERATOR(pg_catalog.=) $1 '
            'AND p.partkey IS NOT NULL' INTO col USING tbl;
    RETURN col;
END
$$;
COMMENT ON FUNCTION tenancy.citus_distribution_column(pg_catalog.regclass) IS
    'The column Citus distributes a table by, or NULL (not a distributed table, or no Citus)';

-- The organization column's default and NOT NULL, each only if missing, so
-- protect() can run again on a distributed table. Citus refuses SET DEFAULT on a
-- distribution column; there the default is set on this node's table only
-- (DDL propagation off for that one statement). That is where Citus plans an
-- INSERT and evaluates the default to route the row; a node without it gets
-- NULL, which NOT NULL and Citus both refuse (fails closed).
CREATE FUNCTION tenancy.set_org_column_default(tbl pg_catalog.regclass, org_column name) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    col record;
    propagation text := pg_catalog.current_setting('citus.enable_ddl_propagation', true);
BEGIN
    SELECT a.attnotnull,
           pg_catalog.pg_get_expr(d.adbin, d.adrelid) IS NOT DISTINCT FROM 'tenancy.current_org()' AS has_default
      INTO col
      FROM pg_catalog.pg_attribute AS a
      LEFT JOIN pg_catalog.pg_attrdef AS d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
     WHERE a.attrelid = tbl AND a.attname = org_column AND NOT a.attisdropped;
    IF NOT col.has_default THEN
        IF tenancy.citus_distribution_column(tbl) IS NOT DISTINCT FROM org_column THEN
            PERFORM pg_catalog.set_config('citus.enable_ddl_propagation', 'off', true);
        END IF;
        EXECUTE pg_catalog.format('ALTER TABLE %s ALTER COLUMN %I SET DEFAULT tenancy.current_org()',
                                  tbl, org_column);
        IF propagation IS NOT NULL THEN
            PERFORM pg_catalog.set_config('citus.enable_ddl_propagation', propagation, true);
        END IF;
    END IF;
    IF NOT col.attnotnull THEN
        EXECUTE pg_catalog.format('ALTER TABLE %s ALTER COLUMN %I SET NOT NULL', tbl, org_column);
    END IF;
END
$$;
COMMENT ON FUNCTION tenancy.set_org_column_default(pg_catalog.regclass, name) IS
    'Part of tenancy.protect(): the organization column defaults to tenancy.current_org() and is NOT NULL';

-- The row trigger that pins rows to their organization, (re)created; left out
-- where Citus is installed (but for pg_tenancy's own tables), because Citus
-- refuses to distribute a table with triggers. A row still cannot move: the
-- UPDATE policies require the current organization of the old and the new row,
-- and Citus forbids updating a distribution column. The registry
-- (28_protection_registry.sql) then records what the trigger's arguments would.
CREATE FUNCTION tenancy.pin_rows_to_org(tbl pg_catalog.regclass, how tenancy.protection) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_trigger AS t
                WHERE t.tgrelid = tbl AND t.tgname = 'tenancy_org_immutable' AND t.tgparentid = 0) THEN
        EXECUTE pg_catalog.format('DROP TRIGGER tenancy_org_immutable ON %s', tbl);
    END IF;
    -- pg_tenancy's own tables (audit_log) stay local to each node: they keep it.
    IF NOT tenancy.citus_installed()
       OR (SELECT c.relnamespace FROM pg_catalog.pg_class AS c WHERE c.oid = tbl) = 'tenancy'::pg_catalog.regnamespace THEN
        PERFORM tenancy.create_org_trigger(tbl, how);
    END IF;
END
$$;
COMMENT ON FUNCTION tenancy.pin_rows_to_org(pg_catalog.regclass, tenancy.protection) IS
    'Part of tenancy.protect(): the tenancy_org_immutable trigger, except where Citus is installed';

-- ---------------------------------------------------------------------------
-- Audit (issue 14): column grants, the whole role graph, policies judged by their
-- parsed expressions, a registry of protected tables, stored settings, large
-- objects, no false positives, tenancy_auditor, no JIT. Same words as
-- sql/src/30_protect.sql (registry part) and sql/src/9x_audit_*.sql.
-- ---------------------------------------------------------------------------

-- ---- Registry of protected tables (issue 14) ------------------------------
-- protect() records each table and its organization column here, so the audit
-- and the probe keep finding it when its trigger or policies are dropped. A
-- role may write only the rows of tables it can act as the owner of (that is,
-- what protect() and unprotect() themselves need); everyone may read it, as
-- tenancy.protected_tables. Kept by pg_dump.
CREATE TABLE tenancy.protection_registry (
    table_name       pg_catalog.regclass PRIMARY KEY,
    org_column       name NOT NULL,
    read_permission  text,
    write_permission text
);
COMMENT ON TABLE tenancy.protection_registry IS
    'Tables protected by tenancy.protect(), with their organization column; audited by tenancy.audit()';
ALTER TABLE tenancy.protection_registry ENABLE ROW LEVEL SECURITY;
CREATE POLICY registry_read ON tenancy.protection_registry FOR SELECT TO PUBLIC USING (true);
CREATE POLICY registry_owner ON tenancy.protection_registry FOR ALL TO PUBLIC
    USING (pg_catalog.pg_has_role((SELECT c.relowner FROM pg_catalog.pg_class AS c
                                    WHERE c.oid OPERATOR(pg_catalog.=) table_name), 'USAGE'))
    WITH CHECK (pg_catalog.pg_has_role((SELECT c.relowner FROM pg_catalog.pg_class AS c
                                         WHERE c.oid OPERATOR(pg_catalog.=) table_name), 'USAGE'));
GRANT SELECT, INSERT, UPDATE, DELETE ON tenancy.protection_registry TO PUBLIC;
-- (pg_tenancy's own audit_log is registered by this script itself, so it is not dumped)
SELECT pg_catalog.pg_extension_config_dump('tenancy.protection_registry',
    'WHERE table_name::pg_catalog.oid OPERATOR(pg_catalog.<>) ''tenancy.audit_log''::pg_catalog.regclass::pg_catalog.oid');
-- ---- end of the registry ---------------------------------------------------

-- Backfill: every table protect() protected before 0.3.0, from its trigger (or,
-- where the trigger was dropped, from the column defaulting to current_org()
-- on a table that still has the guard).
INSERT INTO tenancy.protection_registry (table_name, org_column, read_permission, write_permission)
SELECT t.tgrelid::pg_catalog.regclass, (tenancy.protection_of(t.tgrelid::pg_catalog.regclass)).*
  FROM pg_catalog.pg_trigger AS t
 WHERE t.tgname = 'tenancy_org_immutable' AND t.tgparentid = 0
ON CONFLICT (table_name) DO NOTHING;
INSERT INTO tenancy.protection_registry (table_name, org_column)
SELECT DISTINCT ON (p.polrelid) p.polrelid::pg_catalog.regclass, a.attname
  FROM pg_catalog.pg_policy AS p
  JOIN pg_catalog.pg_attrdef AS d ON d.adrelid = p.polrelid
  JOIN pg_catalog.pg_attribute AS a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
 WHERE p.polname = 'tenancy_guard'
   AND pg_catalog.pg_get_expr(d.adbin, d.adrelid) = 'tenancy.current_org()'
ON CONFLICT (table_name) DO NOTHING;

-- ---- Guards as strict as the access they stand for (issue 15, item 3) -------
-- Citus re-creates every policy on its shards AS PERMISSIVE; the single
-- tenant-only tenancy_guard then let members without the read or write
-- permission read and write. On tables protected with permissions the guards
-- are now one per command, each as strict as its permissive twin (see
-- apply_policies() in sql/src/29_tenant_policies.sql); the end of this script
-- re-applies the policies of every table protected with permissions.
CREATE OR REPLACE FUNCTION tenancy.policy_names() RETURNS name[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    RETURN ARRAY['tenancy_isolation', 'tenancy_guard', 'tenancy_read', 'tenancy_insert', 'tenancy_update',
                 'tenancy_delete', 'tenancy_guard_read', 'tenancy_guard_insert', 'tenancy_guard_update',
                 'tenancy_guard_delete']::name[];

-- Its RESTRICTIVE guards: tenancy_guard on a table protected without
-- permissions, the four per-command ones on a table protected with them. A
-- table carrying any of them is protected.
CREATE FUNCTION tenancy.guard_names() RETURNS name[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    RETURN ARRAY['tenancy_guard', 'tenancy_guard_read', 'tenancy_guard_insert', 'tenancy_guard_update',
                 'tenancy_guard_delete']::name[];

CREATE OR REPLACE FUNCTION tenancy.apply_policies(tbl pg_catalog.regclass, how tenancy.protection) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant text := pg_catalog.format('%I OPERATOR(pg_catalog.=) tenancy.current_org()', how.org_column);
    can_read text := tenant;
    can_write text := tenant;
    kind text;
    prefix text;
BEGIN
    PERFORM tenancy.drop_policies(tbl);
    -- The tenant condition is inside every permissive policy itself, so
    -- isolation never depends on a RESTRICTIVE policy alone. The restrictive
    -- guards stop any other permissive policy a user adds from widening access
    -- across organizations or past the permissions. Citus re-creates every
    -- policy on its shards AS PERMISSIVE, so each guard is exactly as strict as
    -- the access it stands for, never wider: permissive, it grants nothing its
    -- permissive twin does not. Hence one guard per command when permissions
    -- are set (a FOR ALL tenant-only guard, made permissive, would let members
    -- without them read and write). UPDATE and DELETE that read rows (WHERE,
    -- RETURNING), INSERT ... RETURNING and ON CONFLICT DO UPDATE are also held to
    -- the SELECT policies by PostgreSQL, so they need the read permission as
    -- before; with no permissions the one FOR ALL tenant guard is as strict as
    -- tenancy_isolation.
    IF how.read_permission IS NULL AND how.write_permission IS NULL THEN
        EXECUTE pg_catalog.format('CREATE POLICY tenancy_isolation ON %s AS PERMISSIVE FOR ALL TO PUBLIC '
                                  'USING (%s) WITH CHECK (%s)', tbl, tenant, tenant);
        EXECUTE pg_catalog.format('CREATE POLICY tenancy_guard ON %s AS RESTRICTIVE FOR ALL TO PUBLIC '
                                  'USING (%s) WITH CHECK (%s)', tbl, tenant, tenant);
    ELSE
        IF how.read_permission IS NOT NULL THEN
            can_read := pg_catalog.format('%s AND tenancy.has_permission(%L)', tenant, how.read_permission);
        END IF;
        IF how.write_permission IS NOT NULL THEN
            can_write := pg_catalog.format('%s AND tenancy.has_permission(%L)', tenant, how.write_permission);
        END IF;
        FOREACH kind IN ARRAY ARRAY['PERMISSIVE', 'RESTRICTIVE'] LOOP
            prefix := CASE kind WHEN 'PERMISSIVE' THEN 'tenancy_' ELSE 'tenancy_guard_' END;
            EXECUTE pg_catalog.format('CREATE POLICY %I ON %s AS %s FOR SELECT TO PUBLIC USING (%s)',
                                      prefix || 'read', tbl, kind, can_read);
            EXECUTE pg_catalog.format('CREATE POLICY %I ON %s AS %s FOR INSERT TO PUBLIC WITH CHECK (%s)',
                                      prefix || 'insert', tbl, kind, can_write);
            EXECUTE pg_catalog.format('CREATE POLICY %I ON %s AS %s FOR UPDATE TO PUBLIC USING (%s) WITH CHECK (%s)',
                                      prefix || 'update', tbl, kind, can_write, can_write);
            EXECUTE pg_catalog.format('CREATE POLICY %I ON %s AS %s FOR DELETE TO PUBLIC USING (%s)',
                                      prefix || 'delete', tbl, kind, can_write);
        END LOOP;
    END IF;
    -- Last, so that the event trigger (30_protect.sql) finds the table complete.
    EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY', tbl);
END
$$;
COMMENT ON FUNCTION tenancy.apply_policies(pg_catalog.regclass, tenancy.protection) IS
    'Part of tenancy.protect(): RLS on and forced, and the tenant policies, on one relation';

CREATE OR REPLACE FUNCTION tenancy.protect_new_children() RETURNS event_trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    changed pg_catalog.regclass;
    root pg_catalog.regclass;
    child pg_catalog.regclass;
    how tenancy.protection;
BEGIN
    FOR changed IN SELECT DISTINCT c.objid::pg_catalog.regclass
                     FROM pg_catalog.pg_event_trigger_ddl_commands() AS c
                    WHERE c.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                      AND c.object_type IN ('table', 'foreign table') LOOP
        -- The nearest protected ancestor of the changed table, or the table itself.
        WITH RECURSIVE up(relid, depth) AS (
            SELECT changed::pg_catalog.oid, 0
            UNION ALL
            SELECT i.inhparent, up.depth + 1 FROM pg_catalog.pg_inherits AS i JOIN up ON i.inhrelid = up.relid
        )
        SELECT up.relid::pg_catalog.regclass INTO root FROM up
         WHERE (tenancy.protection_of(up.relid::pg_catalog.regclass)).org_column IS NOT NULL
           AND EXISTS (SELECT 1 FROM pg_catalog.pg_policy AS p
                        WHERE p.polrelid = up.relid AND p.polname = ANY (tenancy.guard_names()))
         ORDER BY up.depth LIMIT 1;
        CONTINUE WHEN root IS NULL;
        how := tenancy.protection_of(root);
        FOR child IN SELECT d FROM tenancy.descendants(root) AS d LOOP
            CONTINUE WHEN (SELECT c.relrowsecurity AND c.relforcerowsecurity FROM pg_catalog.pg_class AS c
                            WHERE c.oid = child)
                      AND EXISTS (SELECT 1 FROM pg_catalog.pg_policy AS p
                                   WHERE p.polrelid = child AND p.polname = ANY (tenancy.guard_names()));
            RAISE NOTICE 'pg_tenancy: protecting %, which now inherits from protected table %', child, root;
            PERFORM tenancy.protect_descendant(child, how);
        END LOOP;
    END LOOP;
END
$$;
COMMENT ON FUNCTION tenancy.protect_new_children() IS
    'Event trigger: protect partitions and inheritance children added to a protected table';

CREATE OR REPLACE VIEW tenancy.protected_tables WITH (security_invoker = true) AS
SELECT c.oid::pg_catalog.regclass AS table_name,
       c.relkind OPERATOR(pg_catalog.=) 'p' AS partitioned,
       c.relispartition AS is_partition,
       c.relrowsecurity AS rls_enabled,
       c.relforcerowsecurity AS rls_forced,
       (tenancy.protection_of(c.oid::pg_catalog.regclass)).read_permission,
       (tenancy.protection_of(c.oid::pg_catalog.regclass)).write_permission
  FROM pg_catalog.pg_class AS c
 WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_policy AS p
                WHERE p.polrelid OPERATOR(pg_catalog.=) c.oid
                  AND p.polname OPERATOR(pg_catalog.=) ANY (tenancy.guard_names()));
-- ---- end of the guards -------------------------------------------------------

CREATE OR REPLACE FUNCTION tenancy.protect(tbl pg_catalog.regclass, org_column name DEFAULT 'organization_id',
                                read_permission text DEFAULT NULL, write_permission text DEFAULT NULL)
    RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    rel record;
    col record;
    part pg_catalog.regclass;
    other_policies text;
    risky_grants text;
    how tenancy.protection := ROW(org_column, read_permission, write_permission);
    permission text;
BEGIN
    IF tbl IS NULL OR org_column IS NULL THEN
        RAISE EXCEPTION 'tenancy.protect() needs a table and the name of its organization column'
            USING ERRCODE = '22004';
    END IF;
    SELECT c.relkind, c.relispartition, c.relname INTO rel FROM pg_catalog.pg_class AS c WHERE c.oid = tbl;
    IF rel.relkind NOT IN ('r', 'p') THEN
        RAISE EXCEPTION '% is not a table', tbl
            USING ERRCODE = '42809',
                  HINT = 'tenancy.protect() applies to ordinary and partitioned tables; protect the tables a view reads.';
    END IF;
    IF rel.relispartition THEN
        RAISE EXCEPTION '% is a partition', tbl
            USING ERRCODE = '42809',
                  HINT = 'Protect the partitioned table; its partitions are protected with it.';
    END IF;
    SELECT a.attnum, a.atttypid INTO col
      FROM pg_catalog.pg_attribute AS a
     WHERE a.attrelid = tbl AND a.attname = org_column AND a.attnum > 0 AND NOT a.attisdropped;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'column "%" of relation % does not exist', org_column, tbl
            USING ERRCODE = '42703',
                  HINT = 'Pass the organization column: SELECT tenancy.protect(''my_table'', ''tenant_id'');';
    END IF;
    IF col.atttypid <> 'uuid'::pg_catalog.regtype THEN
        RAISE EXCEPTION 'column "%" of relation % is of type %, not uuid', org_column, tbl,
                        pg_catalog.format_type(col.atttypid, NULL)
            USING ERRCODE = '42804',
                  HINT = 'Organization ids are uuids; convert the column first.';
    END IF;
    FOREACH permission IN ARRAY ARRAY[read_permission, write_permission] LOOP
        CONTINUE WHEN permission IS NULL;
        IF NOT tenancy.is_valid_permission(permission) THEN
            RAISE EXCEPTION 'invalid permission "%"', tenancy.echo_safe(permission)
                USING ERRCODE = '22023', HINT = 'Use resource.action, e.g. tickets.read.';
        END IF;
        PERFORM tenancy.require_known_permissions(pg_catalog.jsonb_build_array(permission));
    END LOOP;

    -- Only the owner may (the ALTERs below may all be skipped once protected).
    IF NOT pg_catalog.pg_has_role((SELECT c.relowner FROM pg_catalog.pg_class AS c WHERE c.oid = tbl), 'USAGE') THEN
        RAISE EXCEPTION 'must be owner of table %', rel.relname USING ERRCODE = '42501';
    END IF;
    PERFORM tenancy.set_org_column_default(tbl, org_column);

    -- Tenant predicates must be able to use an index led by the organization column.
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_index AS i
                    WHERE i.indrelid = tbl AND i.indkey[0] = col.attnum AND i.indpred IS NULL) THEN
        EXECUTE pg_catalog.format('CREATE INDEX ON %s (%I)', tbl, org_column);
    END IF;

    -- Row triggers on a partitioned table are cloned onto its partitions.
    PERFORM tenancy.pin_rows_to_org(tbl, how);

    -- Children first: the policies on the parent are what the event trigger
    -- looks for, so they come last.
    FOR part IN SELECT d FROM tenancy.descendants(tbl) AS d LOOP
        PERFORM tenancy.protect_descendant(part, how);
    END LOOP;
    PERFORM tenancy.apply_policies(tbl, how);
    -- Registry (issue 14, 28_protection_registry.sql): the audit finds the table by this record.
    INSERT INTO tenancy.protection_registry VALUES (tbl, how.org_column, how.read_permission, how.write_permission)
        ON CONFLICT (table_name) DO UPDATE SET org_column = EXCLUDED.org_column,
            read_permission = EXCLUDED.read_permission, write_permission = EXCLUDED.write_permission;

    -- Row-level security does not cover TRUNCATE, and TRIGGER or REFERENCES let a
    -- role see or probe other tenants' rows.
    SELECT pg_catalog.string_agg(DISTINCT pg_catalog.format('%s on %s', a.privilege_type,
                                                            CASE WHEN a.grantee = 0 THEN 'PUBLIC'
                                                                 ELSE a.grantee::pg_catalog.regrole::text END), ', ')
      INTO risky_grants
      FROM pg_catalog.pg_class AS c, pg_catalog.aclexplode(c.relacl) AS a
     WHERE c.oid = tbl AND a.grantee <> c.relowner AND a.privilege_type IN ('TRUNCATE', 'TRIGGER', 'REFERENCES');
    IF risky_grants IS NOT NULL THEN
        RAISE WARNING 'table % grants privileges that bypass tenant isolation: %', tbl, risky_grants
            USING HINT = pg_catalog.format('REVOKE TRUNCATE, TRIGGER, REFERENCES ON %s FROM <role>;', tbl);
    END IF;

    SELECT pg_catalog.string_agg(pg_catalog.quote_ident(p.polname), ', ' ORDER BY p.polname) INTO other_policies
      FROM pg_catalog.pg_policy AS p
     WHERE p.polrelid = tbl AND p.polname <> ALL (tenancy.policy_names());
    IF other_policies IS NOT NULL THEN
        RAISE NOTICE 'table % also has the policies %', tbl, other_policies
            USING DETAIL = 'pg_tenancy''s restrictive policies still confine them to the current organization and '
                           'to the table''s read and write permissions.';
    END IF;
END
$$;
COMMENT ON FUNCTION tenancy.protect(pg_catalog.regclass, name, text, text) IS
    'Isolate a table by organization: RLS enabled and forced, tenant policies (optionally also requiring a read '
    'and a write permission), column default and NOT NULL, an index led by the column, rows pinned to their '
    'organization; partitions and inheritance children included. Idempotent.';

CREATE OR REPLACE FUNCTION tenancy.unprotect(tbl pg_catalog.regclass) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    rel pg_catalog.regclass;
    org_column name;
BEGIN
    IF tbl IS NULL THEN
        RAISE EXCEPTION 'tenancy.unprotect() needs a table' USING ERRCODE = '22004';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_policy AS p
                    WHERE p.polrelid = tbl AND p.polname = ANY (tenancy.guard_names())) THEN
        RAISE EXCEPTION 'table % is not protected by pg_tenancy', tbl USING ERRCODE = '55000';
    END IF;
    SELECT a.attname INTO org_column
      FROM pg_catalog.pg_attrdef AS d
      JOIN pg_catalog.pg_attribute AS a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
     WHERE d.adrelid = tbl AND pg_catalog.pg_get_expr(d.adbin, d.adrelid) = 'tenancy.current_org()';
    IF org_column IS NOT NULL THEN
        EXECUTE pg_catalog.format('ALTER TABLE %s ALTER COLUMN %I DROP DEFAULT', tbl, org_column);
    END IF;
    DELETE FROM tenancy.protection_registry AS r WHERE r.table_name OPERATOR(pg_catalog.=) tbl; -- issue 14
    FOR rel IN SELECT tbl UNION ALL SELECT d FROM tenancy.descendants(tbl) AS d LOOP
        IF EXISTS (SELECT 1 FROM pg_catalog.pg_trigger AS t
                    WHERE t.tgrelid = rel AND t.tgname = 'tenancy_org_immutable' AND t.tgparentid = 0) THEN
            EXECUTE pg_catalog.format('DROP TRIGGER tenancy_org_immutable ON %s', rel);
        END IF;
        PERFORM tenancy.drop_policies(rel);
        -- Leave RLS on where the owner has policies of their own: turning it off
        -- would silently change what those policies protect.
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_policy AS p WHERE p.polrelid = rel) THEN
            EXECUTE pg_catalog.format('ALTER TABLE %s NO FORCE ROW LEVEL SECURITY, DISABLE ROW LEVEL SECURITY', rel);
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION tenancy.unprotect(pg_catalog.regclass) IS
    'Undo tenancy.protect(): drop its policies, trigger and column default (the index and NOT NULL stay)';

CREATE OR REPLACE FUNCTION tenancy.org_column_names() RETURNS name[]
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.array_agg(DISTINCT n) FROM (
        SELECT 'organization_id'::name AS n
        UNION
        -- the trigger's first argument (arguments end in a zero byte), read here
        -- rather than with protection_of() once per table
        SELECT pg_catalog.convert_from(pg_catalog.substr(t.tgargs, 1,
                                                         pg_catalog.position(t.tgargs, '\000'::bytea) - 1),
                                       'UTF8')::name
          FROM pg_catalog.pg_trigger AS t
         WHERE t.tgname = 'tenancy_org_immutable' AND pg_catalog.position(t.tgargs, '\000'::bytea) > 1
        UNION
        -- the registry protect() keeps, so a dropped trigger cannot hide a column name
        SELECT r.org_column FROM tenancy.protection_registry AS r
    ) AS names
$$;
REVOKE ALL ON FUNCTION tenancy.org_column_names() FROM PUBLIC;

CREATE OR REPLACE FUNCTION tenancy.tenant_relations()
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
    -- each relation's topmost such ancestor (one sort, not a scan of up per relation)
    tops AS (
        SELECT DISTINCT ON (up.relid) up.relid, up.ancestor FROM up ORDER BY up.relid, up.depth DESC
    ),
    placed AS MATERIALIZED (
        -- The registry first (a join, not a function call per table); the trigger
        -- only for what the registry does not know.
        SELECT c.*, top.ancestor AS root_oid,
               coalesce((SELECT ROW(r.org_column, r.read_permission, r.write_permission)::tenancy.protection
                           FROM tenancy.protection_registry AS r WHERE r.table_name = top.ancestor),
                        (SELECT ROW(r.org_column, r.read_permission, r.write_permission)::tenancy.protection
                           FROM tenancy.protection_registry AS r WHERE r.table_name = c.oid),
                        tenancy.protection_of(top.ancestor::pg_catalog.regclass),
                        tenancy.protection_of(c.oid::pg_catalog.regclass)) AS how
          FROM candidates AS c
          JOIN tops AS top ON top.relid = c.oid
    )
    SELECT p.oid::pg_catalog.regclass, p.relkind,
           CASE WHEN (p.how).org_column = ANY (p.columns) THEN (p.how).org_column
                WHEN 'organization_id' = ANY (p.columns) THEN 'organization_id'::name
                ELSE p.columns[1] END,
           p.relowner, p.how, p.root_oid::pg_catalog.regclass
      FROM placed AS p
$$;
REVOKE ALL ON FUNCTION tenancy.tenant_relations() FROM PUBLIC;

CREATE OR REPLACE FUNCTION tenancy.audited_roles(app_role pg_catalog.regrole) RETURNS SETOF pg_catalog.oid
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
        UNION
        -- column grants count as much as table grants
        SELECT a.grantee
          FROM tenancy.tenant_relations() AS t
          JOIN pg_catalog.pg_class AS c ON c.oid = t.rel
          JOIN pg_catalog.pg_attribute AS att ON att.attrelid = t.rel AND att.attacl IS NOT NULL,
               pg_catalog.aclexplode(att.attacl) AS a
         WHERE app_role IS NULL AND a.grantee <> 0 AND a.grantee <> c.relowner
    )
    SELECT app_role::pg_catalog.oid WHERE app_role IS NOT NULL
    UNION
    SELECT r.oid FROM pg_catalog.pg_roles AS r
     WHERE app_role IS NULL AND NOT r.rolsuper
       AND (r.oid IN (SELECT grantee FROM grantees)
            OR (r.rolcanlogin AND EXISTS (SELECT 1 FROM grantees AS g
                                           WHERE pg_catalog.pg_has_role(r.oid, g.grantee, 'MEMBER'))))
$$;
REVOKE ALL ON FUNCTION tenancy.audited_roles(pg_catalog.regrole) FROM PUBLIC;

CREATE OR REPLACE FUNCTION tenancy.roles_reachable(role_oid pg_catalog.oid) RETURNS SETOF pg_catalog.oid
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT r.oid FROM pg_catalog.pg_roles AS r WHERE pg_catalog.pg_has_role(role_oid, r.oid, 'MEMBER')
$$;
REVOKE ALL ON FUNCTION tenancy.roles_reachable(pg_catalog.oid) FROM PUBLIC;

CREATE OR REPLACE FUNCTION tenancy.can_touch(role_oid pg_catalog.oid, rel pg_catalog.regclass) RETURNS boolean
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN role_oid = 0
                THEN pg_catalog.has_table_privilege('public', rel, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE')
                     OR pg_catalog.has_any_column_privilege('public', rel, 'SELECT, INSERT, UPDATE, REFERENCES')
                ELSE EXISTS (SELECT 1 FROM tenancy.roles_reachable(role_oid) AS r
                              WHERE pg_catalog.has_table_privilege(r, rel, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE')
                                 OR pg_catalog.has_any_column_privilege(r, rel, 'SELECT, INSERT, UPDATE, REFERENCES'))
           END
$$;
REVOKE ALL ON FUNCTION tenancy.can_touch(pg_catalog.oid, pg_catalog.regclass) FROM PUBLIC;

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

CREATE OR REPLACE FUNCTION tenancy.audit_tables(apps pg_catalog.oid[]) RETURNS SETOF tenancy.finding
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

CREATE OR REPLACE FUNCTION tenancy.audit_roles(apps pg_catalog.oid[]) RETURNS SETOF tenancy.finding
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
           WHERE EXISTS (SELECT 1 FROM tenancy.roles_reachable(app.oid) AS r
                          WHERE pg_catalog.has_table_privilege(r, t.rel, p)
                             OR (p = 'REFERENCES' AND pg_catalog.has_any_column_privilege(r, t.rel, p)))) AS privs
     WHERE privs.list IS NOT NULL AND NOT pg_catalog.pg_has_role(app.oid, t.owner, 'MEMBER')
    UNION ALL
    SELECT 'T205', 'high'::tenancy.severity, pg_catalog.quote_ident(n.nspname),
           pg_catalog.format('%I can create objects in schema %I: functions, operators or tables there can '
                             'shadow what other code resolves through search_path', app.rolname, n.nspname),
           CASE WHEN pg_catalog.pg_has_role(app.oid, n.nspowner, 'MEMBER')
                THEN pg_catalog.format('ALTER SCHEMA %I OWNER TO <a role the application cannot use>;', n.nspname)
                ELSE pg_catalog.format('REVOKE CREATE ON SCHEMA %I FROM PUBLIC, %I;', n.nspname, app.rolname) END
      FROM app JOIN pg_catalog.pg_namespace AS n
        ON EXISTS (SELECT 1 FROM tenancy.roles_reachable(app.oid) AS r
                    WHERE pg_catalog.has_schema_privilege(r, n.oid, 'CREATE'))
     WHERE NOT app.rolsuper AND n.nspname NOT LIKE 'pg_temp_%' AND n.nspname NOT LIKE 'pg_toast_temp_%'
    UNION ALL
    SELECT 'T205', 'high'::tenancy.severity, 'database ' || pg_catalog.quote_ident(pg_catalog.current_database()),
           pg_catalog.format('%I can create schemas in this database, and with them any object', app.rolname),
           pg_catalog.format('REVOKE CREATE ON DATABASE %I FROM PUBLIC, %I;', pg_catalog.current_database(),
                             app.rolname)
      FROM app
     WHERE NOT app.rolsuper
       AND EXISTS (SELECT 1 FROM tenancy.roles_reachable(app.oid) AS r
                    WHERE pg_catalog.has_database_privilege(r, pg_catalog.current_database(), 'CREATE'))
    UNION ALL
    SELECT 'T206', attr.severity::tenancy.severity, pg_catalog.quote_ident(app.rolname),
           pg_catalog.format('the application role %s %s', attr.via, attr.what), attr.fix
      FROM app CROSS JOIN LATERAL (
          -- Attributes of every role the application can become (SET ROLE reaches
          -- NOINHERIT memberships too), not only of its own.
          SELECT CASE WHEN r.oid = app.oid THEN 'has'
                      ELSE pg_catalog.format('can SET ROLE to %I, which has', r.rolname) END,
                 a.what, a.severity,
                 CASE WHEN r.oid = app.oid THEN pg_catalog.format('ALTER ROLE %I %s;', app.rolname, a.undo)
                      ELSE pg_catalog.format('REVOKE %I FROM %I; -- or ALTER ROLE %I %s;', r.rolname, app.rolname,
                                             r.rolname, a.undo) END
            FROM pg_catalog.pg_roles AS r
            CROSS JOIN LATERAL (
                -- CREATEROLE grants any non-superuser role, a table owner's too: as
                -- bad as owning the tables (T203)
                SELECT 'CREATEROLE (it can grant itself other roles, the tables'' owners included)', 'NOCREATEROLE',
                       'critical'
                 WHERE r.rolcreaterole
                UNION ALL SELECT 'CREATEDB', 'NOCREATEDB', 'high' WHERE r.rolcreatedb
                UNION ALL
                SELECT 'REPLICATION (it can stream every tenant''s rows)', 'NOREPLICATION', 'high'
                 WHERE r.rolreplication
            ) AS a(what, undo, severity)
           WHERE pg_catalog.pg_has_role(app.oid, r.oid, 'MEMBER') AND NOT r.rolsuper
          UNION ALL
          SELECT 'is a member of', r.rolname::text, 'high',
                 pg_catalog.format('REVOKE %I FROM %I;', r.rolname, app.rolname)
            FROM pg_catalog.pg_roles AS r
           WHERE r.rolname IN ('pg_read_server_files', 'pg_write_server_files', 'pg_execute_server_program',
                               'pg_read_all_data', 'pg_write_all_data', 'pg_read_all_settings',
                               'pg_read_all_stats')
             AND pg_catalog.pg_has_role(app.oid, r.oid, 'MEMBER')
      ) AS attr(via, what, severity, fix)
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
           -- a privilege on one column is enough (INSERT (organization_id, user_id, role_id) ON memberships)
           WHERE EXISTS (SELECT 1 FROM tenancy.roles_reachable(app.oid) AS r
                          WHERE pg_catalog.has_table_privilege(r, c.oid, p)
                             OR (p IN ('SELECT', 'INSERT', 'UPDATE', 'REFERENCES')
                                 AND pg_catalog.has_any_column_privilege(r, c.oid, p)))
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
       AND EXISTS (SELECT 1 FROM tenancy.roles_reachable(app.oid) AS r
                    WHERE pg_catalog.has_function_privilege(r, p.oid, 'EXECUTE'))
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
          -- OWNED BY and identity sequences
          SELECT d.objid::pg_catalog.regclass AS seq, t.rel
            FROM tenant AS t JOIN pg_catalog.pg_depend AS d
              ON d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjid = t.rel
             AND d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.deptype IN ('a', 'i')
            JOIN pg_catalog.pg_class AS c ON c.oid = d.objid AND c.relkind = 'S'
          UNION
          -- standalone sequences a column DEFAULT (nextval()) uses
          SELECT d.refobjid::pg_catalog.regclass, t.rel
            FROM tenant AS t JOIN pg_catalog.pg_attrdef AS ad ON ad.adrelid = t.rel
            JOIN pg_catalog.pg_depend AS d
              ON d.classid = 'pg_catalog.pg_attrdef'::pg_catalog.regclass AND d.objid = ad.oid
             AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
            JOIN pg_catalog.pg_class AS c ON c.oid = d.refobjid AND c.relkind = 'S'
      ) AS s ON EXISTS (SELECT 1 FROM tenancy.roles_reachable(app.oid) AS r
                         WHERE pg_catalog.has_sequence_privilege(r, s.seq, 'SELECT'))
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
    UNION ALL
    -- T212: large objects belong to a role, not to an organization: one written in
    -- one organization's context is readable in any other's, by the same role.
    SELECT 'T212', 'high'::tenancy.severity, pg_catalog.format('large objects of %s', lo.lomowner::pg_catalog.regrole),
           pg_catalog.format('%s large object(s) owned by %s, which %I can act as: large objects have no '
                             'row-level security, so every tenant''s session of the application reads them all',
                             pg_catalog.count(*), lo.lomowner::pg_catalog.regrole, app.rolname),
           pg_catalog.format('Keep tenant files in a protected table (bytea) or outside the database; remove '
                             'these: SELECT lo_unlink(oid) FROM pg_largeobject_metadata WHERE lomowner = %L::regrole;',
                             lo.lomowner::pg_catalog.regrole::text)
      FROM app JOIN pg_catalog.pg_largeobject_metadata AS lo ON pg_catalog.pg_has_role(app.oid, lo.lomowner, 'MEMBER')
     WHERE NOT app.rolsuper
     GROUP BY app.oid, app.rolname, lo.lomowner
$$;
REVOKE ALL ON FUNCTION tenancy.audit_roles(pg_catalog.oid[]) FROM PUBLIC;

CREATE OR REPLACE FUNCTION tenancy.expr_requires_tenant(expr pg_catalog.pg_node_tree, org_attnum smallint,
                                             current_org pg_catalog.oid) RETURNS boolean
    AS 'MODULE_PATHNAME', 'tenancy_expr_requires_tenant'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION tenancy.expr_requires_tenant(pg_catalog.pg_node_tree, smallint, pg_catalog.oid) IS
    'Internal to tenancy.audit(): is "column org_attnum = current_org()" a top-level AND conjunct of a policy '
    'expression?';
REVOKE ALL ON FUNCTION tenancy.expr_requires_tenant(pg_catalog.pg_node_tree, smallint, pg_catalog.oid) FROM PUBLIC;

CREATE OR REPLACE FUNCTION tenancy.expr_always_true(expr pg_catalog.pg_node_tree) RETURNS boolean
    AS 'MODULE_PATHNAME', 'tenancy_expr_always_true'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION tenancy.expr_always_true(pg_catalog.pg_node_tree) IS
    'Internal to tenancy.audit(): is a policy expression recognizably true for every row (true, x OR true, 1 = 1)?';
REVOKE ALL ON FUNCTION tenancy.expr_always_true(pg_catalog.pg_node_tree) FROM PUBLIC;

CREATE OR REPLACE FUNCTION tenancy.audit_policies(apps pg_catalog.oid[]) RETURNS SETOF tenancy.finding
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

CREATE OR REPLACE FUNCTION tenancy.has_security_invoker(options text[]) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce((SELECT pg_catalog.bool_or(o.option_value::boolean)
                       FROM pg_catalog.pg_options_to_table(options) AS o
                      WHERE o.option_name = 'security_invoker'), false)
$$;
REVOKE ALL ON FUNCTION tenancy.has_security_invoker(text[]) FROM PUBLIC;

CREATE OR REPLACE FUNCTION tenancy.audit_objects(apps pg_catalog.oid[]) RETURNS SETOF tenancy.finding
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

CREATE OR REPLACE FUNCTION tenancy.setting_ms(value text) RETURNS numeric
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.substring(value, '^\s*([0-9]+(?:\.[0-9]+)?)')::numeric
           * CASE pg_catalog.substring(value, '^\s*[0-9.]+\s*(us|ms|s|min|h|d)\s*$')
                  WHEN 'us' THEN 0.001 WHEN 's' THEN 1000 WHEN 'min' THEN 60000 WHEN 'h' THEN 3600000
                  WHEN 'd' THEN 86400000 ELSE 1 END
     WHERE value ~ '^\s*[0-9]+(\.[0-9]+)?\s*(us|ms|s|min|h|d)?\s*$'
$$;
REVOKE ALL ON FUNCTION tenancy.setting_ms(text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION tenancy.audit_settings(apps pg_catalog.oid[]) RETURNS SETOF tenancy.finding
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
    -- the server's value, not the auditor's session's (stored values: T509)
    SELECT 'T506', 'high'::tenancy.severity, 'lo_compat_privileges',
           'lo_compat_privileges is on: any role can read and write every large object, whoever stored it',
           'ALTER SYSTEM SET lo_compat_privileges = off; SELECT pg_reload_conf();'
     WHERE tenancy.server_setting('lo_compat_privileges')::boolean
    UNION ALL
    SELECT 'T507', 'medium'::tenancy.severity, 'tenancy.accept_forwarded_context',
           'forwarded contexts are accepted (meant for Citus workers only): a session holding a forwarding context '
           'signed with a use:forward key gets it here, within tenancy.forwarding_lifetime and its distributed '
           'transaction, without a membership check on this node',
           'on nodes that are not Citus workers: ALTER SYSTEM SET tenancy.accept_forwarded_context = off; '
           'SELECT pg_reload_conf();'
     WHERE pg_catalog.current_setting('tenancy.accept_forwarded_context', true) = 'on'
    UNION ALL
    -- T509: every setting stored for an audited role or for this database (ALTER
    -- ROLE ... [IN DATABASE ...] SET, ALTER DATABASE ... SET): each new session of
    -- the application starts with it. Any role may store settings for itself.
    -- tenancy.* settings are T502.
    SELECT 'T509', st.severity, st.object,
           pg_catalog.format('stored setting %s = %s applies to every new session%s', st.name, st.value, st.why),
           st.remedy
      FROM (SELECT v.*,
                   CASE WHEN v.name IN ('statement_timeout', 'lock_timeout', 'idle_in_transaction_session_timeout',
                                        'idle_session_timeout')
                             AND coalesce(tenancy.setting_ms(v.value) BETWEEN 0.0001 AND 999.9999, true)
                        THEN 'high'
                        WHEN v.name IN ('session_replication_role', 'role', 'session_authorization',
                                        'lo_compat_privileges', 'default_transaction_read_only')
                        THEN 'high'
                        WHEN v.name IN ('search_path', 'row_security', 'default_transaction_isolation',
                                        'temp_tablespaces', 'default_tablespace')
                        THEN 'medium'
                        ELSE 'info' END::tenancy.severity AS severity,
                   CASE WHEN v.name IN ('statement_timeout', 'lock_timeout', 'idle_in_transaction_session_timeout',
                                        'idle_session_timeout')
                        THEN ': a tiny timeout makes every tenant''s statements or sessions fail (availability)'
                        WHEN v.name = 'session_replication_role'
                        THEN ': as replica, ordinary triggers (tenancy_org_immutable among them) stop firing'
                        WHEN v.name = 'lo_compat_privileges'
                        THEN ': every large object is readable and writable, whoever stored it'
                        WHEN v.name = 'search_path'
                        THEN ': it decides what unqualified names in the application''s SQL resolve to'
                        ELSE '' END AS why
              FROM (SELECT pg_catalog.split_part(c, '=', 1) AS name,
                           pg_catalog.substr(c, pg_catalog.strpos(c, '=') + 1) AS value,
                           CASE WHEN d.setrole = 0 AND d.setdatabase = 0 THEN 'all roles'
                                WHEN d.setrole = 0 THEN pg_catalog.format('database %I', db.datname)
                                WHEN d.setdatabase = 0 THEN pg_catalog.format('role %s', d.setrole::pg_catalog.regrole)
                                ELSE pg_catalog.format('role %s in database %I', d.setrole::pg_catalog.regrole,
                                                       db.datname) END AS object,
                           CASE WHEN d.setrole = 0 AND d.setdatabase = 0
                                THEN pg_catalog.format('ALTER ROLE ALL RESET %s;', pg_catalog.split_part(c, '=', 1))
                                WHEN d.setrole = 0
                                THEN pg_catalog.format('ALTER DATABASE %I RESET %s;', db.datname,
                                                       pg_catalog.split_part(c, '=', 1))
                                ELSE pg_catalog.format('ALTER ROLE %s%s RESET %s;', d.setrole::pg_catalog.regrole,
                                                       CASE WHEN d.setdatabase = 0 THEN ''
                                                            ELSE pg_catalog.format(' IN DATABASE %I', db.datname)
                                                       END, pg_catalog.split_part(c, '=', 1)) END AS remedy
                      FROM pg_catalog.pg_db_role_setting AS d
                      CROSS JOIN LATERAL pg_catalog.unnest(d.setconfig) AS c
                      LEFT JOIN pg_catalog.pg_database AS db ON db.oid = d.setdatabase
                     WHERE (d.setrole = 0 OR d.setrole = ANY (apps))
                       AND (d.setdatabase = 0 OR db.datname = pg_catalog.current_database())
                       AND c NOT LIKE 'tenancy.%') AS v) AS st
$$;
REVOKE ALL ON FUNCTION tenancy.audit_settings(pg_catalog.oid[]) FROM PUBLIC;

-- audit() without JIT (its body is unchanged).
ALTER FUNCTION tenancy.audit(pg_catalog.regrole) SET jit = off;

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'tenancy_auditor') THEN
        CREATE ROLE tenancy_auditor NOLOGIN;
        COMMENT ON ROLE tenancy_auditor IS
            'May run tenancy.audit() and `tenancy audit` (created by pg_tenancy; see docs/security.md)';
    END IF;
END
$$;
GRANT pg_read_all_settings, pg_read_all_stats TO tenancy_auditor;
GRANT USAGE ON SCHEMA tenancy TO tenancy_auditor;
GRANT EXECUTE ON FUNCTION
    tenancy.audit(pg_catalog.regrole),
    tenancy.audited_roles(pg_catalog.regrole),
    tenancy.tenant_relations(),
    tenancy.org_column_names(),
    tenancy.roles_reachable(pg_catalog.oid),
    tenancy.can_touch(pg_catalog.oid, pg_catalog.regclass),
    tenancy.bypasses_rls(pg_catalog.oid),
    tenancy.audit_tables(pg_catalog.oid[]),
    tenancy.expected_guards(text, text, text),
    tenancy.audit_roles(pg_catalog.oid[]),
    tenancy.expr_requires_tenant(pg_catalog.pg_node_tree, smallint, pg_catalog.oid),
    tenancy.expr_always_true(pg_catalog.pg_node_tree),
    tenancy.audit_policies(pg_catalog.oid[]),
    tenancy.has_security_invoker(text[]),
    tenancy.audit_objects(pg_catalog.oid[]),
    tenancy.server_setting(text),
    tenancy.setting_ms(text),
    tenancy.audit_settings(pg_catalog.oid[]),
    tenancy.audit_statement_texts()
    TO tenancy_auditor;

-- The probe does not pay JIT either (see tenancy.audit()).
ALTER FUNCTION tenancy.probe(pg_catalog.regrole) SET jit = off;

-- Hardening (issue 11) ---------------------------------------------------------

-- Email identity: one normalization, tenancy.normalize_email(), for
-- registration, invitations and acceptance (see sql/src/05_validation.sql).
CREATE FUNCTION tenancy.normalize_email(email text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    RETURN CASE WHEN pg_catalog.getdatabaseencoding() OPERATOR(pg_catalog.=) 'UTF8'
                THEN pg_catalog.normalize(pg_catalog.lower(pg_catalog.normalize(email, 'NFKC') COLLATE "und-x-icu"), 'NFKC')
                ELSE pg_catalog.lower(email) END;
REVOKE ALL ON FUNCTION tenancy.normalize_email(text) FROM PUBLIC;
COMMENT ON FUNCTION tenancy.normalize_email(text) IS
    'The form in which email addresses are compared: NFKC, lower case (ICU root locale), NFKC';

-- Errors quote caller input through tenancy.echo_safe().
CREATE FUNCTION tenancy.echo_safe(input text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    RETURN CASE WHEN input IS NULL THEN '(null)'
                ELSE pg_catalog.regexp_replace(pg_catalog.left(input, 64), '[[:cntrl:]]', '?', 'g')
                     OPERATOR(pg_catalog.||) CASE WHEN pg_catalog.length(input) OPERATOR(pg_catalog.>) 64
                                                  THEN '...' ELSE '' END END;
COMMENT ON FUNCTION tenancy.echo_safe(text) IS
    'Caller input as quoted in error messages: at most 64 characters, then an ellipsis';

-- Existing users whose addresses normalize to the same one would make the new
-- unique index fail with an obscure message; name them instead.
DO $$
DECLARE
    clashes text;
BEGIN
    SELECT pg_catalog.string_agg(pg_catalog.format('%s (users %s)', g.address, g.codes), '; ')
      INTO clashes
      FROM (SELECT tenancy.normalize_email(u.email) AS address,
                   pg_catalog.string_agg(u.code, ', ' ORDER BY u.code) AS codes
              FROM tenancy.users AS u GROUP BY 1 HAVING pg_catalog.count(*) > 1 ORDER BY 1 LIMIT 20) AS g;
    IF clashes IS NOT NULL THEN
        RAISE EXCEPTION 'pg_tenancy 0.3.0 allows one account per normalized email address; these share one: %', clashes
            USING ERRCODE = '23505',
                  HINT = 'Change the email of all but one account in each group (see tenancy.normalize_email()), '
                         'then run ALTER EXTENSION pg_tenancy UPDATE again.';
    END IF;
END
$$;
DROP INDEX tenancy.users_email_key;
CREATE UNIQUE INDEX users_email_key ON tenancy.users (tenancy.normalize_email(email));
COMMENT ON TABLE tenancy.users IS 'People who can sign in; email is unique under tenancy.normalize_email()';

-- Scans stay inside one organization.
CREATE INDEX memberships_role_id_idx ON tenancy.memberships (role_id);
CREATE INDEX invitations_organization_id_idx ON tenancy.invitations (organization_id, created_at);
CREATE INDEX invitations_role_id_idx ON tenancy.invitations (role_id);

-- Audit log ids: random uuids instead of one platform-wide sequence (existing
-- rows get one each; their order stays created_at, id).
ALTER TABLE tenancy.audit_log ALTER COLUMN id DROP IDENTITY;
ALTER TABLE tenancy.audit_log ALTER COLUMN id SET DATA TYPE uuid USING pg_catalog.gen_random_uuid();
ALTER TABLE tenancy.audit_log ALTER COLUMN id SET DEFAULT pg_catalog.gen_random_uuid();
-- protect() had given it an index on organization_id alone, under this name.
DROP INDEX tenancy.audit_log_organization_id_idx;
CREATE INDEX audit_log_organization_id_idx ON tenancy.audit_log (organization_id, created_at, id);

-- Bounded input and grants: permissions_cover() is internal.
COMMENT ON FUNCTION tenancy.permissions_cover(text[], text[]) IS
    'True if every wanted permission is covered by a granted one ("*", "resource.*" or an exact match); '
    'at most 1000 permissions of at most 256 bytes per array';
REVOKE ALL ON FUNCTION tenancy.permissions_cover(text[], text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION tenancy.permission_array(jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION tenancy.valid_permissions(jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION tenancy.forbid_audit_change() FROM PUBLIC;
REVOKE ALL ON FUNCTION tenancy.keep_an_owner() FROM PUBLIC;
REVOKE ALL ON FUNCTION tenancy.protect_system_roles() FROM PUBLIC;
REVOKE ALL ON FUNCTION tenancy.announce_membership_change() FROM PUBLIC;
CREATE FUNCTION tenancy.require_permission_count(permissions jsonb) RETURNS void
    LANGUAGE plpgsql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF pg_catalog.jsonb_typeof(permissions) OPERATOR(pg_catalog.=) 'array'
       AND pg_catalog.jsonb_array_length(permissions) > 1000 THEN
        RAISE EXCEPTION 'a role can hold at most 1000 permissions' USING ERRCODE = '54000',
            HINT = 'Grant "resource.*" instead of listing every action.';
    END IF;
END
$$;
REVOKE ALL ON FUNCTION tenancy.require_permission_count(jsonb) FROM PUBLIC;

-- Functions with new bodies: bounded echoes, locked and current authorization,
-- the statement's clock, normalized email comparison, TTL as timestamps.
CREATE OR REPLACE FUNCTION tenancy.register_permission(code text, description text) RETURNS void
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF code IS NULL OR description IS NULL THEN
        RAISE EXCEPTION 'tenancy.register_permission() needs a code and a description' USING ERRCODE = '22004';
    END IF;
    IF NOT tenancy.is_valid_permission(code) OR code ~ '\*' THEN
        RAISE EXCEPTION 'invalid permission "%"', tenancy.echo_safe(code)
            USING ERRCODE = '22023',
                  HINT = 'Use resource.action in lower case, e.g. tickets.read.';
    END IF;
    INSERT INTO tenancy.permissions (code, description) VALUES (code, description)
        ON CONFLICT ON CONSTRAINT permissions_pkey DO UPDATE SET description = EXCLUDED.description;
END
$$;
CREATE OR REPLACE FUNCTION tenancy.require_known_permissions(permissions jsonb) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    unknown text[] := tenancy.unknown_permissions(permissions);
BEGIN
    IF pg_catalog.cardinality(unknown) > 0 THEN
        -- The first five, each bounded, and how many more.
        RAISE EXCEPTION 'unknown permission: %',
                        (SELECT pg_catalog.string_agg(tenancy.echo_safe(u), ', ')
                           FROM pg_catalog.unnest(unknown[1:5]) AS u)
                        OPERATOR(pg_catalog.||)
                        CASE WHEN pg_catalog.cardinality(unknown) > 5
                             THEN pg_catalog.format(' and %s more', pg_catalog.cardinality(unknown) - 5) ELSE '' END
            USING ERRCODE = '22023',
                  HINT = 'Register application permissions with tenancy.register_permission() first.';
    END IF;
END
$$;
CREATE OR REPLACE FUNCTION tenancy.authorize(permission text, for_change boolean DEFAULT true) RETURNS tenancy.caller
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    me tenancy.caller;
BEGIN
    me.organization_id := tenancy.current_org();
    me.user_id := tenancy.current_user_id();
    IF me.organization_id IS NULL OR me.user_id IS NULL THEN
        RAISE EXCEPTION 'this needs an organization context'
            USING ERRCODE = '42501', HINT = 'Call tenancy.enter($1) with a token for the organization first.';
    END IF;
    -- Changes lock the caller's membership (against a concurrent removal) before
    -- reading its role, so a concurrent role change is seen as the new role, not
    -- as a missing membership, and then lock the role row itself (against a
    -- concurrent edit of its permissions). A concurrent removal or demotion
    -- therefore blocks the change until it ends; under READ COMMITTED the change
    -- then sees it, under REPEATABLE READ it fails with a serialization error
    -- instead of acting on the snapshot's stale membership. Reads take no lock:
    -- they work in read-only transactions and on standbys.
    IF for_change THEN
        SELECT m.role_id INTO me.role_id FROM tenancy.memberships AS m
         WHERE m.organization_id OPERATOR(pg_catalog.=) me.organization_id
           AND m.user_id OPERATOR(pg_catalog.=) me.user_id
           FOR SHARE;
    ELSE
        SELECT m.role_id INTO me.role_id FROM tenancy.memberships AS m
         WHERE m.organization_id OPERATOR(pg_catalog.=) me.organization_id
           AND m.user_id OPERATOR(pg_catalog.=) me.user_id;
    END IF;
    IF me.role_id IS NULL THEN
        RAISE EXCEPTION 'you are no longer a member of this organization' USING ERRCODE = '42501';
    END IF;
    IF for_change THEN
        SELECT r.is_system, tenancy.permission_array(r.permissions)
          INTO me.is_owner, me.permissions
          FROM tenancy.roles AS r WHERE r.id OPERATOR(pg_catalog.=) me.role_id
           FOR SHARE;
    ELSE
        SELECT r.is_system, tenancy.permission_array(r.permissions)
          INTO me.is_owner, me.permissions
          FROM tenancy.roles AS r WHERE r.id OPERATOR(pg_catalog.=) me.role_id;
    END IF;
    IF permission IS NOT NULL AND tenancy.permissions_cover(me.permissions, ARRAY[permission]) IS NOT TRUE THEN
        RAISE EXCEPTION 'permission denied: this needs %', tenancy.echo_safe(permission)
            USING ERRCODE = '42501', HINT = 'Ask an owner for a role that grants it.';
    END IF;
    RETURN me;
END
$$;
CREATE OR REPLACE FUNCTION tenancy.require_grantable(me tenancy.caller, role_id uuid) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    target record;
BEGIN
    SELECT r.code, r.is_system, tenancy.permission_array(r.permissions) AS permissions
      INTO target FROM tenancy.roles AS r
     WHERE r.id OPERATOR(pg_catalog.=) role_id AND r.organization_id OPERATOR(pg_catalog.=) me.organization_id
       FOR SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'that role does not exist in this organization' USING ERRCODE = '42704';
    END IF;
    IF target.is_system AND me.is_owner IS NOT TRUE THEN
        RAISE EXCEPTION 'only an owner can grant the owner role' USING ERRCODE = '42501';
    END IF;
    IF tenancy.permissions_cover(me.permissions, target.permissions) IS NOT TRUE THEN
        RAISE EXCEPTION 'role "%" has permissions you do not hold', target.code
            USING ERRCODE = '42501', HINT = 'You can only grant roles whose permissions you hold yourself.';
    END IF;
END
$$;
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
        RAISE EXCEPTION 'role "%" does not exist in this organization', tenancy.echo_safe(code)
            USING ERRCODE = '42704', HINT = 'See tenancy.list_roles().';
    END IF;
    RETURN found_id;
END
$$;
CREATE OR REPLACE FUNCTION tenancy.register_user(code text, email text) RETURNS uuid
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    new_id uuid;
BEGIN
    IF code IS NULL OR email IS NULL THEN
        RAISE EXCEPTION 'tenancy.register_user() needs a code and an email' USING ERRCODE = '22004';
    END IF;
    IF code !~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$' THEN
        RAISE EXCEPTION 'invalid user code'
            USING ERRCODE = '22023',
                  HINT = 'Use 1 to 128 characters from [A-Za-z0-9._@-], starting with a letter or digit.';
    END IF;
    IF NOT tenancy.is_valid_email(email) THEN
        RAISE EXCEPTION 'invalid email address' USING ERRCODE = '22023',
            HINT = 'Give an address of the form name@domain, at most 320 characters.';
    END IF;
    INSERT INTO tenancy.users (code, email) VALUES (code, email) RETURNING id INTO new_id;
    RETURN new_id;
EXCEPTION WHEN unique_violation THEN
    -- Emails are unique as tenancy.normalize_email() sees them.
    RAISE EXCEPTION 'a user with this code or email is already registered' USING ERRCODE = '23505',
        HINT = 'Email addresses are compared after Unicode NFKC normalization and lower-casing.';
END
$$;
CREATE OR REPLACE FUNCTION tenancy.create_role(code text, name text, permissions jsonb) RETURNS uuid
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    me tenancy.caller := tenancy.authorize('roles.manage');
    new_id uuid;
BEGIN
    IF code IS NULL OR name IS NULL OR permissions IS NULL THEN
        RAISE EXCEPTION 'tenancy.create_role() needs a code, a name and permissions' USING ERRCODE = '22004';
    END IF;
    IF pg_catalog.length(pg_catalog.btrim(name)) NOT BETWEEN 1 AND 200 THEN
        RAISE EXCEPTION 'a role name must be 1 to 200 characters' USING ERRCODE = '22023';
    END IF;
    IF NOT tenancy.is_valid_role_code(code) THEN
        RAISE EXCEPTION 'invalid role code "%"', tenancy.echo_safe(code)
            USING ERRCODE = '22023', HINT = 'Use a lower-case letter followed by up to 62 of [a-z0-9_-].';
    END IF;
    PERFORM tenancy.require_permission_count(permissions);
    IF NOT tenancy.valid_permissions(permissions) THEN
        RAISE EXCEPTION 'permissions must be a JSON array of distinct permission strings'
            USING ERRCODE = '22023', HINT = 'For example ["tickets.read", "tickets.write"] or ["tickets.*"].';
    END IF;
    PERFORM tenancy.require_known_permissions(permissions);
    IF NOT tenancy.permissions_cover(me.permissions, tenancy.permission_array(permissions)) THEN
        RAISE EXCEPTION 'you cannot create a role with permissions you do not hold' USING ERRCODE = '42501';
    END IF;
    BEGIN
        INSERT INTO tenancy.roles (organization_id, code, name, permissions, created_by)
        VALUES (me.organization_id, code, pg_catalog.btrim(name), permissions, me.user_id)
        RETURNING id INTO new_id;
    EXCEPTION WHEN unique_violation THEN
        RAISE EXCEPTION 'a role "%" already exists in this organization', tenancy.echo_safe(code)
            USING ERRCODE = '23505';
    END;
    PERFORM tenancy.record(me.organization_id, 'role.created',
                           pg_catalog.jsonb_build_object('role', code, 'permissions', permissions));
    RETURN new_id;
END
$$;
CREATE OR REPLACE FUNCTION tenancy.update_role(code text, name text DEFAULT NULL, permissions jsonb DEFAULT NULL) RETURNS void
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    me tenancy.caller := tenancy.authorize('roles.manage');
    target tenancy.roles;
BEGIN
    SELECT r.* INTO target FROM tenancy.roles AS r WHERE r.id = tenancy.role_id(me.organization_id, update_role.code) FOR UPDATE;
    IF target.is_system THEN
        RAISE EXCEPTION 'the system role "%" cannot be changed', code USING ERRCODE = '42501';
    END IF;
    IF name IS NOT NULL AND pg_catalog.length(pg_catalog.btrim(name)) NOT BETWEEN 1 AND 200 THEN
        RAISE EXCEPTION 'a role name must be 1 to 200 characters' USING ERRCODE = '22023';
    END IF;
    IF permissions IS NOT NULL THEN
        PERFORM tenancy.require_permission_count(permissions);
    END IF;
    IF permissions IS NOT NULL AND NOT tenancy.valid_permissions(permissions) THEN
        RAISE EXCEPTION 'permissions must be a JSON array of distinct permission strings' USING ERRCODE = '22023';
    END IF;
    IF permissions IS NOT NULL THEN
        PERFORM tenancy.require_known_permissions(permissions);
    END IF;
    -- Editing a role means holding everything it grants, before and after.
    IF NOT tenancy.permissions_cover(me.permissions,
             tenancy.permission_array(target.permissions)
             OPERATOR(pg_catalog.||) tenancy.permission_array(coalesce(permissions, '[]'))) THEN
        RAISE EXCEPTION 'you cannot edit a role with permissions you do not hold' USING ERRCODE = '42501';
    END IF;
    UPDATE tenancy.roles AS r
       SET name = coalesce(pg_catalog.btrim(update_role.name), r.name),
           permissions = coalesce(update_role.permissions, r.permissions)
     WHERE r.id = target.id;
    PERFORM tenancy.record(me.organization_id, 'role.updated',
                           pg_catalog.jsonb_build_object('role', code, 'name', name, 'permissions', permissions));
END
$$;
CREATE OR REPLACE FUNCTION tenancy.revoke_invitations_for(organization_id uuid, user_id uuid) RETURNS void
    LANGUAGE sql
    SET search_path = pg_catalog, pg_temp
AS $$
    UPDATE tenancy.invitations AS i SET revoked_at = pg_catalog.clock_timestamp()
      FROM tenancy.users AS u
     WHERE u.id OPERATOR(pg_catalog.=) revoke_invitations_for.user_id
       AND i.organization_id OPERATOR(pg_catalog.=) revoke_invitations_for.organization_id
       AND tenancy.normalize_email(i.email) OPERATOR(pg_catalog.=) tenancy.normalize_email(u.email)
       AND i.accepted_at IS NULL AND i.revoked_at IS NULL
$$;
CREATE OR REPLACE FUNCTION tenancy.invite(email text, role_code text, ttl interval DEFAULT '7 days') RETURNS text
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    me tenancy.caller := tenancy.authorize('members.invite');
    invited_role uuid := tenancy.role_id(me.organization_id, role_code);
    token text;
    invitation_id uuid;
    issued_at timestamptz := pg_catalog.statement_timestamp();
    expiry timestamptz;
BEGIN
    IF tenancy.is_valid_email(email) IS NOT TRUE THEN
        RAISE EXCEPTION 'invalid email address' USING ERRCODE = '22023';
    END IF;
    -- Compared as the timestamps they give, not by interval parts (which would let
    -- '1000 years -359970 days' pass as shorter than 30 days).
    BEGIN
        expiry := issued_at OPERATOR(pg_catalog.+) ttl;
    EXCEPTION WHEN datetime_field_overflow THEN -- beyond the timestamp range
        expiry := NULL;
    END;
    IF expiry IS NULL OR NOT pg_catalog.isfinite(expiry)
       OR expiry < issued_at OPERATOR(pg_catalog.+) interval '1 minute'
       OR expiry > issued_at OPERATOR(pg_catalog.+) interval '30 days' THEN
        RAISE EXCEPTION 'an invitation must last between 1 minute and 30 days' USING ERRCODE = '22023';
    END IF;
    PERFORM tenancy.require_grantable(me, invited_role);
    token := tenancy.new_secret_token();
    INSERT INTO tenancy.invitations (organization_id, email, role_id, token_hash, invited_by, expires_at)
    VALUES (me.organization_id, email, invited_role, pg_catalog.sha256(pg_catalog.convert_to(token, 'UTF8')),
            me.user_id, expiry)
    RETURNING id INTO invitation_id;
    PERFORM tenancy.record(me.organization_id, 'invitation.created',
                           pg_catalog.jsonb_build_object('invitation', invitation_id, 'email', email, 'role', role_code,
                                                         'expires_at', expiry));
    RETURN token; -- shown once; only its SHA-256 is stored
END
$$;
CREATE OR REPLACE FUNCTION tenancy.accept_invitation(token text) RETURNS uuid
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ctx jsonb := tenancy.context();
    me uuid;
    my_email text;
    invitation tenancy.invitations;
    inviter tenancy.caller;
    role_permissions text[];
    role_is_system boolean;
BEGIN
    IF ctx IS NULL OR ctx OPERATOR(pg_catalog.->>) 'org' IS NOT NULL THEN
        RAISE EXCEPTION 'tenancy.accept_invitation() needs a user-only context'
            USING ERRCODE = '42501', HINT = 'Enter a context token minted without an organization.';
    END IF;
    me := (ctx OPERATOR(pg_catalog.->>) 'user')::uuid;
    SELECT u.email INTO my_email FROM tenancy.users AS u WHERE u.id = me;
    SELECT i.* INTO invitation FROM tenancy.invitations AS i
     WHERE i.token_hash = pg_catalog.sha256(pg_catalog.convert_to(coalesce(token, ''), 'UTF8'))
       FOR UPDATE;
    -- Unknown, expired, revoked, used and someone else's: one answer for all.
    -- Expiry against the clock, not the transaction's start; addresses compared
    -- as tenancy.normalize_email() sees them.
    IF NOT FOUND OR invitation.accepted_at IS NOT NULL OR invitation.revoked_at IS NOT NULL
       OR invitation.expires_at <= pg_catalog.clock_timestamp()
       OR tenancy.normalize_email(invitation.email) IS DISTINCT FROM tenancy.normalize_email(my_email) THEN
        RAISE EXCEPTION 'this invitation is not valid'
            USING ERRCODE = '22023', HINT = 'Ask the organization for a new invitation.';
    END IF;
    -- The role is checked again now: the inviter must still be a member holding
    -- everything it grants (and still an owner, for the owner role). The rows are
    -- locked, so a concurrent removal or demotion of the inviter, or an edit of
    -- either role, blocks this until it ends and is then seen (READ COMMITTED),
    -- or fails it with a serialization error (REPEATABLE READ and above).
    SELECT r.is_system, tenancy.permission_array(r.permissions)
      INTO role_is_system, role_permissions FROM tenancy.roles AS r WHERE r.id = invitation.role_id
       FOR SHARE;
    SELECT m.organization_id, m.user_id, m.role_id, r.is_system,
           tenancy.permission_array(r.permissions)
      INTO inviter
      FROM tenancy.memberships AS m JOIN tenancy.roles AS r ON r.id = m.role_id
     WHERE m.organization_id = invitation.organization_id AND m.user_id = invitation.invited_by
       FOR SHARE;
    IF inviter.user_id IS NULL
       OR tenancy.permissions_cover(inviter.permissions, role_permissions) IS NOT TRUE
       OR tenancy.permissions_cover(inviter.permissions, ARRAY['members.invite']) IS NOT TRUE
       OR (role_is_system AND inviter.is_owner IS NOT TRUE) THEN
        RAISE EXCEPTION 'this invitation is not valid'
            USING ERRCODE = '22023', HINT = 'Ask the organization for a new invitation.';
    END IF;
    IF EXISTS (SELECT 1 FROM tenancy.memberships AS m
                WHERE m.organization_id = invitation.organization_id AND m.user_id = me) THEN
        RAISE EXCEPTION 'you are already a member of this organization' USING ERRCODE = '23505';
    END IF;
    BEGIN
        INSERT INTO tenancy.memberships (organization_id, user_id, role_id)
        VALUES (invitation.organization_id, me, invitation.role_id);
    EXCEPTION WHEN unique_violation THEN -- a second invitation accepted at the same moment
        RAISE EXCEPTION 'you are already a member of this organization' USING ERRCODE = '23505';
    END;
    UPDATE tenancy.invitations AS i SET accepted_at = pg_catalog.clock_timestamp(), accepted_by = me
     WHERE i.id = invitation.id;
    PERFORM tenancy.record(invitation.organization_id, 'invitation.accepted',
                           pg_catalog.jsonb_build_object('invitation', invitation.id, 'user', me));
    PERFORM tenancy.record(invitation.organization_id, 'member.added',
                           pg_catalog.jsonb_build_object('user', me, 'via', 'invitation'));
    RETURN invitation.organization_id;
END
$$;
CREATE OR REPLACE FUNCTION tenancy.revoke_invitation(invitation_id uuid) RETURNS void
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    me tenancy.caller := tenancy.authorize('members.invite');
BEGIN
    UPDATE tenancy.invitations AS i SET revoked_at = pg_catalog.clock_timestamp()
     WHERE i.id = invitation_id AND i.organization_id = me.organization_id
       AND i.accepted_at IS NULL AND i.revoked_at IS NULL;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no pending invitation with that id in this organization' USING ERRCODE = '42704';
    END IF;
    PERFORM tenancy.record(me.organization_id, 'invitation.revoked',
                           pg_catalog.jsonb_build_object('invitation', invitation_id));
END
$$;
CREATE OR REPLACE FUNCTION tenancy.list_invitations()
    RETURNS TABLE (id uuid, email text, role_code text, invited_by uuid, created_at timestamptz,
                   expires_at timestamptz, status text)
    LANGUAGE plpgsql STABLE
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    me tenancy.caller := tenancy.authorize('members.read', for_change => false);
BEGIN
    RETURN QUERY
    SELECT i.id, i.email, r.code, i.invited_by, i.created_at, i.expires_at,
           CASE WHEN i.accepted_at IS NOT NULL THEN 'accepted'
                WHEN i.revoked_at IS NOT NULL THEN 'revoked'
                WHEN i.expires_at <= pg_catalog.clock_timestamp() THEN 'expired'
                ELSE 'pending' END
      FROM tenancy.invitations AS i JOIN tenancy.roles AS r ON r.id = i.role_id
     WHERE i.organization_id = me.organization_id
     ORDER BY i.created_at DESC, i.id;
END
$$;

-- ---------------------------------------------------------------------------
-- Error codes (issue 13): pg_tenancy's own SQLSTATEs, declared once in
-- token/include/pg_tenancy/token/sqlstates.hpp (28T01 invalid context token,
-- 28T02 user not registered, 42T01 not a member, 42T02 no tenant context, 42T03
-- missing permission, 42T04 wrong kind of context, 42T05 context set directly,
-- 42T06 row moved to another organization, 22T01 invitation not valid, 55T01
-- session carries state). The functions below are restated last, in their final
-- form (sql/src), since earlier sections of this script replace some of them too.
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION tenancy.reject_org_change() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION 'a row cannot move to another organization'
        USING ERRCODE = '42T06', -- kRowChangesOrganization (token/include/pg_tenancy/token/sqlstates.hpp)
              DETAIL = pg_catalog.format('Column %I of %s is fixed once a row is written.',
                                         TG_ARGV[0], TG_RELID::pg_catalog.regclass),
              HINT = 'Insert a copy in the other organization and delete the original instead.';
END
$$;
CREATE OR REPLACE FUNCTION tenancy.create_organization(name text) RETURNS uuid
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ctx jsonb := tenancy.context();
    creator uuid;
    org_id uuid;
    owner_role uuid;
BEGIN
    IF ctx IS NULL OR ctx OPERATOR(pg_catalog.->>) 'org' IS NOT NULL THEN
        RAISE EXCEPTION 'tenancy.create_organization() needs a user-only context'
            USING ERRCODE = '42T04', -- kWrongContextKind (token/include/pg_tenancy/token/sqlstates.hpp)
                  HINT = 'Enter a context token minted without an organization, then call it in that transaction.';
    END IF;
    IF name IS NULL OR pg_catalog.length(pg_catalog.btrim(name)) NOT BETWEEN 1 AND 200 THEN
        RAISE EXCEPTION 'organization name must be 1 to 200 characters' USING ERRCODE = '22023';
    END IF;
    creator := (ctx OPERATOR(pg_catalog.->>) 'user')::uuid;

    INSERT INTO tenancy.organizations (name, created_by) VALUES (pg_catalog.btrim(name), creator)
        RETURNING id INTO org_id;
    INSERT INTO tenancy.roles (organization_id, code, name, permissions, is_system, created_by)
        VALUES (org_id, 'owner', 'Owner', '["*"]', true, creator)
        RETURNING id INTO owner_role;
    INSERT INTO tenancy.memberships (organization_id, user_id, role_id) VALUES (org_id, creator, owner_role);
    PERFORM tenancy.record(org_id, 'organization.created', pg_catalog.jsonb_build_object('name', pg_catalog.btrim(name)));
    RETURN org_id;
END
$$;
CREATE OR REPLACE FUNCTION tenancy.authorize(permission text, for_change boolean DEFAULT true) RETURNS tenancy.caller
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    me tenancy.caller;
BEGIN
    me.organization_id := tenancy.current_org();
    me.user_id := tenancy.current_user_id();
    IF me.organization_id IS NULL OR me.user_id IS NULL THEN
        -- kWrongContextKind (token/include/pg_tenancy/token/sqlstates.hpp)
        RAISE EXCEPTION 'this needs an organization context'
            USING ERRCODE = '42T04', HINT = 'Call tenancy.enter($1) with a token for the organization first.';
    END IF;
    -- Changes lock the caller's membership (against a concurrent removal) before
    -- reading its role, so a concurrent role change is seen as the new role, not
    -- as a missing membership, and then lock the role row itself (against a
    -- concurrent edit of its permissions). A concurrent removal or demotion
    -- therefore blocks the change until it ends; under READ COMMITTED the change
    -- then sees it, under REPEATABLE READ it fails with a serialization error
    -- instead of acting on the snapshot's stale membership. Reads take no lock:
    -- they work in read-only transactions and on standbys.
    IF for_change THEN
        SELECT m.role_id INTO me.role_id FROM tenancy.memberships AS m
         WHERE m.organization_id OPERATOR(pg_catalog.=) me.organization_id
           AND m.user_id OPERATOR(pg_catalog.=) me.user_id
           FOR SHARE;
    ELSE
        SELECT m.role_id INTO me.role_id FROM tenancy.memberships AS m
         WHERE m.organization_id OPERATOR(pg_catalog.=) me.organization_id
           AND m.user_id OPERATOR(pg_catalog.=) me.user_id;
    END IF;
    IF me.role_id IS NULL THEN
        -- kNotAMember (token/include/pg_tenancy/token/sqlstates.hpp)
        RAISE EXCEPTION 'you are no longer a member of this organization' USING ERRCODE = '42T01';
    END IF;
    IF for_change THEN
        SELECT r.is_system, tenancy.permission_array(r.permissions)
          INTO me.is_owner, me.permissions
          FROM tenancy.roles AS r WHERE r.id OPERATOR(pg_catalog.=) me.role_id
           FOR SHARE;
    ELSE
        SELECT r.is_system, tenancy.permission_array(r.permissions)
          INTO me.is_owner, me.permissions
          FROM tenancy.roles AS r WHERE r.id OPERATOR(pg_catalog.=) me.role_id;
    END IF;
    IF permission IS NOT NULL AND tenancy.permissions_cover(me.permissions, ARRAY[permission]) IS NOT TRUE THEN
        -- kMissingPermission (token/include/pg_tenancy/token/sqlstates.hpp)
        RAISE EXCEPTION 'permission denied: this needs %', tenancy.echo_safe(permission)
            USING ERRCODE = '42T03', HINT = 'Ask an owner for a role that grants it.';
    END IF;
    RETURN me;
END
$$;
CREATE OR REPLACE FUNCTION tenancy.accept_invitation(token text) RETURNS uuid
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ctx jsonb := tenancy.context();
    me uuid;
    my_email text;
    invitation tenancy.invitations;
    inviter tenancy.caller;
    role_permissions text[];
    role_is_system boolean;
BEGIN
    IF ctx IS NULL OR ctx OPERATOR(pg_catalog.->>) 'org' IS NOT NULL THEN
        -- kWrongContextKind (token/include/pg_tenancy/token/sqlstates.hpp)
        RAISE EXCEPTION 'tenancy.accept_invitation() needs a user-only context'
            USING ERRCODE = '42T04', HINT = 'Enter a context token minted without an organization.';
    END IF;
    me := (ctx OPERATOR(pg_catalog.->>) 'user')::uuid;
    SELECT u.email INTO my_email FROM tenancy.users AS u WHERE u.id = me;
    SELECT i.* INTO invitation FROM tenancy.invitations AS i
     WHERE i.token_hash = pg_catalog.sha256(pg_catalog.convert_to(coalesce(token, ''), 'UTF8'))
       FOR UPDATE;
    -- Unknown, expired, revoked, used and someone else's: one answer for all.
    -- Expiry against the clock, not the transaction's start; addresses compared
    -- as tenancy.normalize_email() sees them.
    IF NOT FOUND OR invitation.accepted_at IS NOT NULL OR invitation.revoked_at IS NOT NULL
       OR invitation.expires_at <= pg_catalog.clock_timestamp()
       OR tenancy.normalize_email(invitation.email) IS DISTINCT FROM tenancy.normalize_email(my_email) THEN
        -- kInvitationInvalid (token/include/pg_tenancy/token/sqlstates.hpp)
        RAISE EXCEPTION 'this invitation is not valid'
            USING ERRCODE = '22T01', HINT = 'Ask the organization for a new invitation.';
    END IF;
    -- The role is checked again now: the inviter must still be a member holding
    -- everything it grants (and still an owner, for the owner role). The rows are
    -- locked, so a concurrent removal or demotion of the inviter, or an edit of
    -- either role, blocks this until it ends and is then seen (READ COMMITTED),
    -- or fails it with a serialization error (REPEATABLE READ and above).
    SELECT r.is_system, tenancy.permission_array(r.permissions)
      INTO role_is_system, role_permissions FROM tenancy.roles AS r WHERE r.id = invitation.role_id
       FOR SHARE;
    SELECT m.organization_id, m.user_id, m.role_id, r.is_system,
           tenancy.permission_array(r.permissions)
      INTO inviter
      FROM tenancy.memberships AS m JOIN tenancy.roles AS r ON r.id = m.role_id
     WHERE m.organization_id = invitation.organization_id AND m.user_id = invitation.invited_by
       FOR SHARE;
    IF inviter.user_id IS NULL
       OR tenancy.permissions_cover(inviter.permissions, role_permissions) IS NOT TRUE
       OR tenancy.permissions_cover(inviter.permissions, ARRAY['members.invite']) IS NOT TRUE
       OR (role_is_system AND inviter.is_owner IS NOT TRUE) THEN
        -- kInvitationInvalid (token/include/pg_tenancy/token/sqlstates.hpp)
        RAISE EXCEPTION 'this invitation is not valid'
            USING ERRCODE = '22T01', HINT = 'Ask the organization for a new invitation.';
    END IF;
    IF EXISTS (SELECT 1 FROM tenancy.memberships AS m
                WHERE m.organization_id = invitation.organization_id AND m.user_id = me) THEN
        RAISE EXCEPTION 'you are already a member of this organization' USING ERRCODE = '23505';
    END IF;
    BEGIN
        INSERT INTO tenancy.memberships (organization_id, user_id, role_id)
        VALUES (invitation.organization_id, me, invitation.role_id);
    EXCEPTION WHEN unique_violation THEN -- a second invitation accepted at the same moment
        RAISE EXCEPTION 'you are already a member of this organization' USING ERRCODE = '23505';
    END;
    UPDATE tenancy.invitations AS i SET accepted_at = pg_catalog.clock_timestamp(), accepted_by = me
     WHERE i.id = invitation.id;
    PERFORM tenancy.record(invitation.organization_id, 'invitation.accepted',
                           pg_catalog.jsonb_build_object('invitation', invitation.id, 'user', me));
    PERFORM tenancy.record(invitation.organization_id, 'member.added',
                           pg_catalog.jsonb_build_object('user', me, 'via', 'invitation'));
    RETURN invitation.organization_id;
END
$$;
CREATE OR REPLACE FUNCTION tenancy.probe_as(app_role pg_catalog.regrole, statement text, arg uuid,
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
CREATE OR REPLACE FUNCTION tenancy.probe(app_role pg_catalog.regrole) RETURNS SETOF tenancy.finding
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
ALTER FUNCTION tenancy.probe(pg_catalog.regrole) SET jit = off;
COMMENT ON FUNCTION tenancy.assert_session_clean() IS
    'Raise SQLSTATE 55T01 if tenancy.session_leftovers() is not empty';
COMMENT ON FUNCTION tenancy.require_context() IS
    'Raise SQLSTATE 42T02 unless a tenant context is active (sent by the engine just before COMMIT)';

-- ---- Per-backend membership cache: the generation trigger (issue 10) ---------

-- Every backend keeps the memberships tenancy.enter() read, valid while a
-- shared generation is unchanged; a committed change to any of these tables
-- moves it (extension/src/membership_generation.cpp). BEFORE, so the marking
-- precedes the change; ENABLE ALWAYS, so session_replication_role = replica
-- fires them too. Row triggers for INSERT, UPDATE and DELETE because a logical
-- replication apply worker fires no statement trigger for them (it does for
-- TRUNCATE). A backend uses its cache only while all six are in place and
-- enabled: disabling one (ALTER TABLE ... DISABLE TRIGGER, by the tables'
-- owner) turns every cache off rather than leaving it stale.
CREATE FUNCTION tenancy.note_membership_change() RETURNS trigger
    AS 'MODULE_PATHNAME', 'tenancy_note_membership_change'
    LANGUAGE C
    SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION tenancy.note_membership_change() FROM PUBLIC;
COMMENT ON FUNCTION tenancy.note_membership_change() IS
    'Trigger: a commit of this transaction invalidates every backend''s cached memberships';
CREATE TRIGGER memberships_note_change BEFORE INSERT OR UPDATE OR DELETE ON tenancy.memberships
    FOR EACH ROW EXECUTE FUNCTION tenancy.note_membership_change();
CREATE TRIGGER memberships_note_truncate BEFORE TRUNCATE ON tenancy.memberships
    FOR EACH STATEMENT EXECUTE FUNCTION tenancy.note_membership_change();
CREATE TRIGGER roles_note_change BEFORE INSERT OR UPDATE OR DELETE ON tenancy.roles
    FOR EACH ROW EXECUTE FUNCTION tenancy.note_membership_change();
CREATE TRIGGER roles_note_truncate BEFORE TRUNCATE ON tenancy.roles
    FOR EACH STATEMENT EXECUTE FUNCTION tenancy.note_membership_change();
CREATE TRIGGER users_note_change BEFORE INSERT OR UPDATE OR DELETE ON tenancy.users
    FOR EACH ROW EXECUTE FUNCTION tenancy.note_membership_change();
CREATE TRIGGER users_note_truncate BEFORE TRUNCATE ON tenancy.users
    FOR EACH STATEMENT EXECUTE FUNCTION tenancy.note_membership_change();
ALTER TABLE tenancy.memberships ENABLE ALWAYS TRIGGER memberships_note_change;
ALTER TABLE tenancy.memberships ENABLE ALWAYS TRIGGER memberships_note_truncate;
ALTER TABLE tenancy.roles ENABLE ALWAYS TRIGGER roles_note_change;
ALTER TABLE tenancy.roles ENABLE ALWAYS TRIGGER roles_note_truncate;
ALTER TABLE tenancy.users ENABLE ALWAYS TRIGGER users_note_change;
ALTER TABLE tenancy.users ENABLE ALWAYS TRIGGER users_note_truncate;

-- What this backend's caches behind enter() hold and how they served it.
CREATE FUNCTION tenancy.backend_cache_stats(
        OUT cache text, OUT enabled boolean, OUT entries bigint, OUT capacity bigint, OUT hits bigint,
        OUT misses bigint, OUT evictions bigint, OUT bytes bigint, OUT byte_limit bigint)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'tenancy_backend_cache_stats'
    LANGUAGE C VOLATILE PARALLEL RESTRICTED
    SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION tenancy.backend_cache_stats() FROM PUBLIC;
COMMENT ON FUNCTION tenancy.backend_cache_stats() IS
    'This backend''s caches behind tenancy.enter() (membership, verified_token, prepared_context): whether each may '
    'answer now, what it holds, its hits, misses and evictions since the backend started';

-- Issue 15, item 3: tables protected with permissions get the per-command
-- guards, so an upgraded database ends as a fresh one would: every protected
-- relation (partitions and inheritance children too) that still carries a guard.
DO $$
DECLARE
    reg record;
    rel pg_catalog.regclass;
BEGIN
    FOR reg IN SELECT r.table_name, ROW(r.org_column, r.read_permission, r.write_permission)::tenancy.protection AS how
                 FROM tenancy.protection_registry AS r
                WHERE r.read_permission IS NOT NULL OR r.write_permission IS NOT NULL LOOP
        FOR rel IN SELECT reg.table_name UNION ALL SELECT d FROM tenancy.descendants(reg.table_name) AS d LOOP
            CONTINUE WHEN NOT EXISTS (SELECT 1 FROM pg_catalog.pg_policy AS p
                                       WHERE p.polrelid OPERATOR(pg_catalog.=) rel
                                         AND p.polname OPERATOR(pg_catalog.=) ANY (tenancy.guard_names()));
            PERFORM tenancy.apply_policies(rel, reg.how);
        END LOOP;
    END LOOP;
END
$$;

-- ---------------------------------------------------------------------------
-- Citus (issue 15): the forwarding context needs no SQL object; the audit
-- compares keyrings across nodes with tenancy.keyring_fingerprint()
-- (sql/src/20_context.sql).
-- ---------------------------------------------------------------------------
CREATE FUNCTION tenancy.keyring_fingerprint() RETURNS text
    AS 'MODULE_PATHNAME', 'tenancy_keyring_fingerprint'
    LANGUAGE C VOLATILE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION tenancy.keyring_fingerprint() FROM PUBLIC;
COMMENT ON FUNCTION tenancy.keyring_fingerprint() IS
    'SHA-256 (hex) of this node''s keyring key set, to compare keyrings across nodes; NULL if it is unusable';
GRANT EXECUTE ON FUNCTION tenancy.keyring_fingerprint() TO tenancy_auditor;

-- ---------------------------------------------------------------------------
-- unknown_permissions() bounded (1000) and matched by lookups
-- (sql/src/60_authorization_audit_log.sql).
-- ---------------------------------------------------------------------------
-- Permissions in a role that the vocabulary does not know. Executable by
-- PUBLIC (protect() and create_role() call it with the caller's rights), so the
-- input is bounded like a role's (1000) and matched by index or hash lookups,
-- not each element against the whole vocabulary.
CREATE OR REPLACE FUNCTION tenancy.unknown_permissions(permissions jsonb) RETURNS text[]
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF pg_catalog.jsonb_typeof(permissions) OPERATOR(pg_catalog.=) 'array'
       AND pg_catalog.jsonb_array_length(permissions) OPERATOR(pg_catalog.>) 1000 THEN
        RAISE EXCEPTION 'tenancy.unknown_permissions() checks at most 1000 permissions'
            USING ERRCODE = '54000', HINT = 'A role holds at most 1000 permissions; check them in batches.';
    END IF;
    RETURN (
        SELECT coalesce(pg_catalog.array_agg(w.p ORDER BY w.p), '{}')
          FROM pg_catalog.jsonb_array_elements_text(permissions) AS w(p)
         WHERE w.p OPERATOR(pg_catalog.<>) '*'
           AND NOT EXISTS (SELECT 1 FROM tenancy.permissions AS k WHERE k.code OPERATOR(pg_catalog.=) w.p)
           AND NOT (w.p OPERATOR(pg_catalog.~~) '%.*'
                    AND pg_catalog.split_part(w.p, '.', 1) IN (SELECT pg_catalog.split_part(k.code, '.', 1)
                                                                 FROM tenancy.permissions AS k)));
END
$$;

-- protect_new_children(): event triggers fire without EXECUTE (sql/src/30_protect.sql).
REVOKE ALL ON FUNCTION tenancy.protect_new_children() FROM PUBLIC;

-- ---------------------------------------------------------------------------
-- Citus (issue 15): protect() without the row trigger where Citus is installed,
-- and the audit on a coordinator (rules T6xx).
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION tenancy.protection_of(tbl pg_catalog.regclass) RETURNS tenancy.protection
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    rest bytea;
    args text[] := '{}';
    cut integer;
BEGIN
    SELECT t.tgargs INTO rest FROM pg_catalog.pg_trigger AS t
     WHERE t.tgrelid = tbl AND t.tgname = 'tenancy_org_immutable' LIMIT 1;
    IF rest IS NULL THEN -- no trigger (Citus, 31_citus.sql): what protect() recorded
        RETURN (SELECT ROW(r.org_column, r.read_permission, r.write_permission)::tenancy.protection
                  FROM tenancy.protection_registry AS r WHERE r.table_name OPERATOR(pg_catalog.=) tbl);
    END IF;
    -- tgargs holds the arguments, each followed by a zero byte.
    LOOP
        cut := pg_catalog.position(rest, '\000'::bytea);
        EXIT WHEN cut = 0;
        args := args || pg_catalog.convert_from(pg_catalog.substr(rest, 1, cut - 1), 'UTF8');
        rest := pg_catalog.substr(rest, cut + 1);
    END LOOP;
    RETURN ROW(args[1]::name, NULLIF(args[2], ''), NULLIF(args[3], ''))::tenancy.protection;
END
$$;
CREATE OR REPLACE FUNCTION tenancy.protect_descendant(child pg_catalog.regclass, how tenancy.protection) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    is_partition boolean;
    attnum smallint;
BEGIN
    -- Row-level security cannot be put on a foreign table, so one inside a
    -- protected hierarchy could be read around the tenant policies.
    IF (SELECT c.relkind FROM pg_catalog.pg_class AS c WHERE c.oid = child) = 'f' THEN
        RAISE EXCEPTION 'foreign table % cannot join a table protected by pg_tenancy', child
            USING ERRCODE = '42809',
                  HINT = 'Row-level security does not apply to foreign tables; keep tenant data in local tables.';
    END IF;
    -- Policies first: every ALTER TABLE below fires the event trigger, which
    -- leaves a table alone once its policies are complete.
    PERFORM tenancy.apply_policies(child, how);
    PERFORM tenancy.set_org_column_default(child, how.org_column);
    SELECT c.relispartition INTO is_partition FROM pg_catalog.pg_class AS c WHERE c.oid = child;
    IF is_partition THEN
        RETURN; -- partitions get the index and the trigger from their parent
    END IF;
    SELECT a.attnum INTO attnum FROM pg_catalog.pg_attribute AS a
     WHERE a.attrelid = child AND a.attname = how.org_column AND NOT a.attisdropped;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_index AS i
                    WHERE i.indrelid = child AND i.indkey[0] = attnum AND i.indpred IS NULL) THEN
        EXECUTE pg_catalog.format('CREATE INDEX ON %s (%I)', child, how.org_column);
    END IF;
    PERFORM tenancy.pin_rows_to_org(child, how);
END
$$;
CREATE OR REPLACE FUNCTION tenancy.audit(app_role pg_catalog.regrole DEFAULT NULL) RETURNS SETOF tenancy.finding
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
-- ---------------------------------------------------------------------------
-- Rules T6xx: a Citus cluster, seen from its coordinator (issue 15). Shards and
-- the workers' copies of protected tables carry their own policies (Citus
-- re-creates the restrictive guards as PERMISSIVE on them), and every node has
-- its own settings and keyring. Nothing here runs without Citus: every call into
-- it is dynamic, and on a worker or a plain server this returns no rows.
-- ---------------------------------------------------------------------------

-- What one shard or copy of a table looks like, as one line: how many of
-- pg_tenancy's guards it has, how many of them are permissive, RLS enabled, RLS
-- forced, and a digest of pg_tenancy's policies (names, commands, expressions;
-- not their kind). %1$L is the relation, filled in by format() (as
-- run_command_on_shards does); it runs on the workers' pg_tenancy.
CREATE FUNCTION tenancy.cluster_policy_state_query() RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    RETURN 'SELECT pg_catalog.concat_ws(''|'', '
           '(SELECT pg_catalog.count(*) FROM pg_catalog.pg_policy AS p WHERE p.polrelid = c.oid '
           'AND p.polname = ANY (tenancy.guard_names())), '
           '(SELECT pg_catalog.count(*) FROM pg_catalog.pg_policy AS p WHERE p.polrelid = c.oid '
           'AND p.polname = ANY (tenancy.guard_names()) AND p.polpermissive), '
           'c.relrowsecurity, c.relforcerowsecurity, '
           'pg_catalog.md5(coalesce((SELECT pg_catalog.string_agg(pg_catalog.concat_ws('':'', p.polname, p.polcmd, '
           'pg_catalog.pg_get_expr(p.polqual, p.polrelid), pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid)), '
           ''';'' ORDER BY p.polname) FROM pg_catalog.pg_policy AS p WHERE p.polrelid = c.oid '
           'AND p.polname = ANY (tenancy.policy_names())), ''''))) '
           'FROM pg_catalog.pg_class AS c WHERE c.oid = %1$L::pg_catalog.regclass';
REVOKE ALL ON FUNCTION tenancy.cluster_policy_state_query() FROM PUBLIC;

CREATE FUNCTION tenancy.audit_cluster(apps pg_catalog.oid[]) RETURNS SETOF tenancy.finding
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    is_coordinator boolean := false;
    tbl pg_catalog.regclass;
    expected text;
    others boolean;
    forwarding text := pg_catalog.current_setting('tenancy.forward_context_to_workers', true);
    propagation text := tenancy.server_setting('citus.propagate_set_commands');
    fingerprint_fn pg_catalog.regprocedure := pg_catalog.to_regprocedure('tenancy.keyring_fingerprint()');
BEGIN
    IF NOT tenancy.citus_installed() THEN
        RETURN;
    END IF;
    BEGIN
        EXECUTE 'SELECT pg_catalog.citus_is_coordinator()' INTO is_coordinator;
    EXCEPTION WHEN OTHERS THEN
        is_coordinator := false; -- an older Citus, or its metadata unreadable: not audited from here
    END;
    IF NOT coalesce(is_coordinator, false) THEN
        RETURN;
    END IF;

    -- T601-T603: the shards and the workers' copies of every protected Citus table.
    FOR tbl IN EXECUTE 'SELECT t.rel FROM tenancy.tenant_relations() AS t '
                       'JOIN pg_catalog.pg_dist_partition AS d ON d.logicalrelid = t.rel '
                       'WHERE t.relkind IN (''r'', ''p'') AND ((t.protection).org_column IS NOT NULL OR EXISTS ('
                       'SELECT 1 FROM pg_catalog.pg_policy AS p WHERE p.polrelid IN (t.rel, t.root) '
                       'AND p.polname = ANY (tenancy.policy_names()))) ORDER BY 1' LOOP
        EXECUTE pg_catalog.format(tenancy.cluster_policy_state_query(), tbl) INTO expected;
        -- Guards that restrict nothing matter most where another permissive policy
        -- (the owner's) would otherwise be confined by them.
        others := EXISTS (SELECT 1 FROM pg_catalog.pg_policy AS p WHERE p.polrelid = tbl AND p.polpermissive
                             AND p.polname <> ALL (tenancy.policy_names()));
        -- A worker without a copy of the table (no metadata synced) answers with an error: skipped.
        RETURN QUERY EXECUTE
            'WITH s AS MATERIALIZED ('
            '    SELECT ''shard '' || s.shardid AS place, s.success, s.result AS state '
            '      FROM pg_catalog.run_command_on_shards($1, $2) AS s '
            '    UNION ALL '
            '    SELECT pg_catalog.format(''%s:%s'', w.nodename, w.nodeport), w.success, w.result '
            '      FROM pg_catalog.run_command_on_workers($3) AS w), '
            'n AS (SELECT pg_catalog.count(*) AS total FROM s), '
            'v AS (SELECT s.place, s.success, '
            '             CASE WHEN s.success THEN pg_catalog.string_to_array(s.state, ''|'') END AS f, '
            '             pg_catalog.string_to_array($4, ''|'') AS e FROM s) '
            'SELECT f.rule, f.severity::tenancy.severity, $1::text, '
            '       pg_catalog.format(''%s on %s of %s shards and worker copies: %s%s'', f.what, pg_catalog.count(*), '
            '                         pg_catalog.max(n.total), pg_catalog.array_to_string((pg_catalog.array_agg('
            '                         v.place ORDER BY v.place))[1:4], '', ''), '
            '                         CASE WHEN pg_catalog.count(*) > 4 THEN '', ...'' ELSE '''' END), f.remedy '
            '  FROM v CROSS JOIN n CROSS JOIN LATERAL (VALUES '
            '       (''T601'', CASE WHEN $5 THEN ''critical'' ELSE ''high'' END, '
            '        v.f[2]::integer > 0 OR v.f[1]::integer < v.e[1]::integer, '
            '        pg_catalog.format(''only %s of pg_tenancy''''s %s guard(s) are restrictive (Citus re-creates '
            'policies as PERMISSIVE): they confine no other permissive policy there%s'', '
            '                          v.f[1]::integer - v.f[2]::integer, v.e[1], '
            '                          CASE WHEN $5 THEN '', and this table has one'' ELSE '''' END), '
            '        ''Keep every permissive policy of your own confined by itself (AND organization_id = '
            'tenancy.current_org()); see docs/scaling-out.md.''), '
            '       (''T601'', ''critical'', v.f[3] <> ''t'', ''row-level security is disabled'', '
            '        pg_catalog.format(''ALTER TABLE %s ENABLE ROW LEVEL SECURITY;'', $1)), '
            '       (''T602'', ''high'', v.f[4] <> ''t'', ''row-level security is not forced'', '
            '        pg_catalog.format(''ALTER TABLE %s FORCE ROW LEVEL SECURITY;'', $1)), '
            '       (''T603'', ''medium'', v.f[5] <> v.e[5], '
            '        ''pg_tenancy''''s policies differ from the coordinator''''s (missing or changed)'', '
            '        pg_catalog.format(''SELECT tenancy.protect(%L);'', $1)), '
            '       (''T603'', ''medium'', NOT v.success AND v.place LIKE ''shard %'', '
            '        ''the policies could not be inspected'', ''Check that every worker is reachable.'') '
            '       ) AS f(rule, severity, bad, what, remedy) '
            ' WHERE f.bad GROUP BY f.rule, f.severity, f.what, f.remedy'
            USING tbl, tenancy.cluster_policy_state_query(),
                  pg_catalog.format(tenancy.cluster_policy_state_query(), tbl), expected, others;
    END LOOP;

    -- T604-T606: how a context reaches the workers (settings of every node).
    IF forwarding IS DISTINCT FROM 'on' THEN
        RETURN QUERY SELECT 'T604', 'high'::tenancy.severity, 'tenancy.forward_context_to_workers'::text,
            CASE WHEN propagation = 'local'
                 THEN 'the coordinator does not forward contexts, and citus.propagate_set_commands = local: '
                      'the only context the workers could get is a SET LOCAL tenancy.context the application '
                      'sends itself, which pg_tenancy workers refuse unless it is a forwarding context, so '
                      'queries on distributed tables fail there'
                 ELSE pg_catalog.format('the coordinator does not forward contexts (tenancy.forward_context_to_'
                                        'workers is %s) and citus.propagate_set_commands = %s: a context entered '
                                        'here never reaches the workers, so queries on distributed tables fail '
                                        'there (or return nothing)', coalesce(forwarding, 'unknown to this build'),
                                        coalesce(propagation, 'unset')) END,
            'ALTER SYSTEM SET tenancy.forward_context_to_workers = on; SELECT pg_reload_conf();';
    END IF;
    RETURN QUERY EXECUTE
        'SELECT ''T605'', ''high''::tenancy.severity, pg_catalog.format(''%s:%s'', w.nodename, w.nodeport), '
        '       ''worker does not accept forwarded contexts (tenancy.accept_forwarded_context = '' '
        '       || coalesce(NULLIF(w.result, ''''), ''unknown'') || ''): queries on distributed tables fail there'', '
        '       ''On that worker: ALTER SYSTEM SET tenancy.accept_forwarded_context = on; SELECT pg_reload_conf();'' '
        '  FROM pg_catalog.run_command_on_workers(''SELECT pg_catalog.current_setting('
        '''''tenancy.accept_forwarded_context'''', true)'') AS w '
        ' WHERE NOT w.success OR w.result IS DISTINCT FROM ''on''';

    -- T607: Citus's command runners let a role run any SQL on the workers, where
    -- a forwarding context it saw could be replayed (docs/scaling-out.md, step 5).
    RETURN QUERY
    SELECT 'T607', 'high'::tenancy.severity, p.oid::pg_catalog.regprocedure::text,
           pg_catalog.format('%s may execute this Citus command runner: it runs any SQL on the workers directly, '
                             'where a forwarding context it saw could be replayed', app::pg_catalog.regrole),
           pg_catalog.format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC, %s;', p.oid::pg_catalog.regprocedure,
                             app::pg_catalog.regrole)
      FROM pg_catalog.pg_proc AS p, pg_catalog.unnest(apps) AS app
     WHERE p.pronamespace = 'pg_catalog'::pg_catalog.regnamespace
       AND p.proname IN ('run_command_on_workers', 'run_command_on_shards', 'run_command_on_placements',
                         'run_command_on_colocated_placements', 'run_command_on_all_nodes',
                         'run_command_on_coordinator', 'master_run_on_worker', 'citus_run_local_command')
       AND pg_catalog.has_function_privilege(app, p.oid, 'EXECUTE')
     ORDER BY 3, 4;

    -- T606: keyrings that differ between nodes (tenancy.keyring_fingerprint()).
    IF fingerprint_fn IS NULL THEN
        RETURN QUERY SELECT 'T606', 'medium'::tenancy.severity, 'keyrings'::text,
            'this build of pg_tenancy has no tenancy.keyring_fingerprint(), so the nodes'' keyrings were not compared',
            'Install the same pg_tenancy release on every node.';
        RETURN;
    END IF;
    RETURN QUERY EXECUTE
        'WITH prints AS (SELECT pg_catalog.format(''%s:%s'', n.nodename, n.nodeport) AS node, a.success, a.result '
        '                  FROM pg_catalog.run_command_on_all_nodes(''SELECT tenancy.keyring_fingerprint()'') AS a '
        '                  JOIN pg_catalog.pg_dist_node AS n ON n.nodeid = a.nodeid), '
        '     mine AS (SELECT tenancy.keyring_fingerprint() AS print) '
        'SELECT ''T606'', ''high''::tenancy.severity, p.node, '
        '       CASE WHEN NOT p.success THEN ''the node''''s keyring could not be read: '' || p.result '
        '            WHEN NULLIF(p.result, '''') IS NULL THEN ''the node''''s keyring is unusable'' '
        '            ELSE ''the node''''s keyring differs from the coordinator''''s: contexts signed on one node '
        '                  fail, or a key removed on one node is still accepted on another'' END, '
        '       ''Install the same keyring file on every node (tenancy.keyring_file), mode 0600.'' '
        '  FROM prints AS p, mine '
        ' WHERE NOT p.success OR NULLIF(p.result, '''') IS NULL OR p.result IS DISTINCT FROM mine.print';
END
$$;
COMMENT ON FUNCTION tenancy.audit_cluster(pg_catalog.oid[]) IS
    'Internal to tenancy.audit(): on a Citus coordinator, the shards'' and workers'' policies, the forwarding '
    'settings of every node, their keyrings, and Citus''s command runners the application may call (rules T6xx)';
REVOKE ALL ON FUNCTION tenancy.audit_cluster(pg_catalog.oid[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tenancy.cluster_policy_state_query(), tenancy.audit_cluster(pg_catalog.oid[]) TO tenancy_auditor;
