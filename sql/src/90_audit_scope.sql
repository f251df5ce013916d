-- ---------------------------------------------------------------------------
-- tenancy.audit() and tenancy.probe().
--
-- audit() reads the catalogs for every configuration that would let data cross
-- tenants; probe() proves isolation by behaviour, as the application role, on
-- two synthetic organizations inside a subtransaction it always rolls back,
-- each step in a security-restricted sandbox (probe_functions.cpp). Both are
-- for a DBA or a deployment pipeline: EXECUTE is revoked from PUBLIC.
-- docs/security.md explains every rule.
-- ---------------------------------------------------------------------------

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

-- Does a role bypass row-level security (superuser, BYPASSRLS, or a member of such a role)?
CREATE FUNCTION tenancy.bypasses_rls(role_oid pg_catalog.oid) RETURNS boolean
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_roles AS r
                    WHERE (r.rolsuper OR r.rolbypassrls) AND pg_catalog.pg_has_role(role_oid, r.oid, 'MEMBER'))
$$;
REVOKE ALL ON FUNCTION tenancy.bypasses_rls(pg_catalog.oid) FROM PUBLIC;

-- Every role the given role can act as: itself, the roles it inherits from, and
-- those it can SET ROLE to (NOINHERIT memberships included), at any depth.
CREATE FUNCTION tenancy.roles_reachable(role_oid pg_catalog.oid) RETURNS SETOF pg_catalog.oid
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT r.oid FROM pg_catalog.pg_roles AS r WHERE pg_catalog.pg_has_role(role_oid, r.oid, 'MEMBER')
$$;
REVOKE ALL ON FUNCTION tenancy.roles_reachable(pg_catalog.oid) FROM PUBLIC;

-- Can the role, or any role it can act as, read, write or otherwise touch the
-- relation's rows? A privilege on any one column counts (0: PUBLIC).
CREATE FUNCTION tenancy.can_touch(role_oid pg_catalog.oid, rel pg_catalog.regclass) RETURNS boolean
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
