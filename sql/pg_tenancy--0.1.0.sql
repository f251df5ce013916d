-- pg_tenancy 0.1.0: full install script.
--
-- Everything lives in schema tenancy, which this script creates (so it fails if
-- someone else created it first). Every function pins search_path except the
-- context readers, which are C functions that resolve no names and sit on the
-- per-row hot path of every policy (a SET clause there would cost microseconds
-- per row). Names in function bodies are schema-qualified regardless.

\echo Use "CREATE EXTENSION pg_tenancy" to load this file. \quit

CREATE SCHEMA tenancy;
COMMENT ON SCHEMA tenancy IS 'pg_tenancy: tenant context, organizations, memberships and row-level security helpers';
GRANT USAGE ON SCHEMA tenancy TO PUBLIC;

-- ---------------------------------------------------------------------------
-- Validation shared with the C code (one implementation: the C functions).
-- ---------------------------------------------------------------------------

CREATE FUNCTION tenancy.is_valid_permission(permission text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'tenancy_is_valid_permission'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tenancy.is_valid_permission(text) IS
    'True for "*", "resource.*" or "resource.action" (lower-case [a-z0-9_] segments, at most 100 bytes)';

CREATE FUNCTION tenancy.is_valid_role_code(code text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'tenancy_is_valid_role_code'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tenancy.is_valid_role_code(text) IS
    'True for a role code: a lower-case letter, then up to 62 of [a-z0-9_-]';

CREATE FUNCTION tenancy.valid_permissions(permissions jsonb) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    RETURN pg_catalog.jsonb_typeof(permissions) OPERATOR(pg_catalog.=) 'array'
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.jsonb_array_elements(permissions) AS e(value)
                        WHERE pg_catalog.jsonb_typeof(e.value) OPERATOR(pg_catalog.<>) 'string'
                           OR NOT tenancy.is_valid_permission(e.value OPERATOR(pg_catalog.#>>) '{}'))
       AND (SELECT pg_catalog.count(DISTINCT e.value) OPERATOR(pg_catalog.=) pg_catalog.count(*)
              FROM pg_catalog.jsonb_array_elements(permissions) AS e(value));
COMMENT ON FUNCTION tenancy.valid_permissions(jsonb) IS
    'True for a JSON array of distinct valid permission strings';

-- ---------------------------------------------------------------------------
-- The data model. The application role has no privileges on these tables: it
-- reaches them only through the functions below.
-- ---------------------------------------------------------------------------

CREATE TABLE tenancy.users (
    id          uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    code        text NOT NULL
                CONSTRAINT users_code_format CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$'),
    email       text NOT NULL
                CONSTRAINT users_email_format CHECK (length(email) <= 320 AND email ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT users_code_key UNIQUE (code)
);
CREATE UNIQUE INDEX users_email_key ON tenancy.users (pg_catalog.lower(email));
COMMENT ON TABLE tenancy.users IS 'People who can sign in; email is unique case-insensitively';

CREATE TABLE tenancy.organizations (
    id          uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    name        text NOT NULL
                CONSTRAINT organizations_name_length CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    created_by  uuid NOT NULL REFERENCES tenancy.users (id),
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE tenancy.organizations IS 'Tenants';

CREATE TABLE tenancy.roles (
    id              uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    organization_id uuid NOT NULL REFERENCES tenancy.organizations (id) ON DELETE CASCADE,
    code            text NOT NULL CONSTRAINT roles_code_format CHECK (tenancy.is_valid_role_code(code)),
    name            text NOT NULL CONSTRAINT roles_name_length CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    permissions     jsonb NOT NULL DEFAULT '[]'
                    CONSTRAINT roles_permissions_valid CHECK (tenancy.valid_permissions(permissions)),
    is_system       boolean NOT NULL DEFAULT false,
    created_by      uuid REFERENCES tenancy.users (id),
    created_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT roles_code_key UNIQUE (organization_id, code),
    -- Target of the composite foreign keys below: a membership or invitation can
    -- only point at a role of its own organization.
    CONSTRAINT roles_organization_id_id_key UNIQUE (organization_id, id)
);
COMMENT ON TABLE tenancy.roles IS 'Per-organization roles; permissions is a JSON array of permission strings';

CREATE TABLE tenancy.memberships (
    id              uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    organization_id uuid NOT NULL REFERENCES tenancy.organizations (id) ON DELETE CASCADE,
    user_id         uuid NOT NULL REFERENCES tenancy.users (id) ON DELETE CASCADE,
    role_id         uuid NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT memberships_one_per_user UNIQUE (organization_id, user_id),
    CONSTRAINT memberships_role_fkey FOREIGN KEY (organization_id, role_id)
        REFERENCES tenancy.roles (organization_id, id)
);
CREATE INDEX memberships_user_id_idx ON tenancy.memberships (user_id);
COMMENT ON TABLE tenancy.memberships IS 'Who belongs to which organization, with which role';

CREATE TABLE tenancy.invitations (
    id              uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    organization_id uuid NOT NULL REFERENCES tenancy.organizations (id) ON DELETE CASCADE,
    email           text NOT NULL
                    CONSTRAINT invitations_email_format CHECK (length(email) <= 320 AND email ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
    role_id         uuid NOT NULL,
    token_hash      bytea NOT NULL CONSTRAINT invitations_token_hash_length CHECK (length(token_hash) = 32),
    invited_by      uuid NOT NULL REFERENCES tenancy.users (id),
    created_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    expires_at      timestamptz NOT NULL,
    accepted_at     timestamptz,
    accepted_by     uuid REFERENCES tenancy.users (id),
    revoked_at      timestamptz,
    CONSTRAINT invitations_token_hash_key UNIQUE (token_hash),
    CONSTRAINT invitations_role_fkey FOREIGN KEY (organization_id, role_id)
        REFERENCES tenancy.roles (organization_id, id),
    CONSTRAINT invitations_expiry_after_creation CHECK (expires_at > created_at)
);
COMMENT ON TABLE tenancy.invitations IS 'Invitations; tokens are stored only as SHA-256 hashes';

-- pg_dump keeps the rows of extension tables only when told to.
SELECT pg_catalog.pg_extension_config_dump('tenancy.users', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.organizations', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.roles', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.memberships', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.invitations', '');

REVOKE ALL ON ALL TABLES IN SCHEMA tenancy FROM PUBLIC;

-- The hidden system role (the owner role) is immutable: no rename, no permission
-- change, no deletion, except when its organization itself is deleted.
CREATE FUNCTION tenancy.protect_system_roles() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP OPERATOR(pg_catalog.=) 'DELETE' THEN
        IF OLD.is_system AND EXISTS (SELECT 1 FROM tenancy.organizations AS o
                                      WHERE o.id OPERATOR(pg_catalog.=) OLD.organization_id) THEN
            RAISE EXCEPTION 'the system role "%" cannot be deleted', OLD.code
                USING ERRCODE = '42501',
                      HINT = 'System roles live as long as their organization.';
        END IF;
        RETURN OLD;
    END IF;
    IF NEW.is_system AND NOT OLD.is_system THEN
        RAISE EXCEPTION 'the custom role "%" cannot become a system role', OLD.code
            USING ERRCODE = '42501',
                  HINT = 'Each organization has exactly one system role, its owner role.';
    END IF;
    IF OLD.is_system THEN
        IF ROW(NEW.*) IS DISTINCT FROM ROW(OLD.*) THEN
            RAISE EXCEPTION 'the system role "%" cannot be changed', OLD.code
                USING ERRCODE = '42501',
                      HINT = 'Create a custom role instead; system roles are fixed.';
        END IF;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER roles_protect_system
    BEFORE UPDATE OR DELETE ON tenancy.roles
    FOR EACH ROW EXECUTE FUNCTION tenancy.protect_system_roles();

-- ---------------------------------------------------------------------------
-- The tenant context.
-- ---------------------------------------------------------------------------

CREATE FUNCTION tenancy.enter(token text) RETURNS void
    AS 'MODULE_PATHNAME', 'tenancy_enter'
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tenancy.enter(text) IS
    'Verify a signed context token and the membership it names, then set the tenant context for the current '
    'transaction. Pass the token as a bind parameter: SELECT tenancy.enter($1)';

CREATE FUNCTION tenancy.leave() RETURNS void
    AS 'MODULE_PATHNAME', 'tenancy_leave'
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tenancy.leave() IS
    'Clear the tenant context for the rest of the transaction (a new one cannot be entered before COMMIT)';

CREATE FUNCTION tenancy.current_org() RETURNS uuid
    AS 'MODULE_PATHNAME', 'tenancy_current_org'
    LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION tenancy.current_org() IS
    'Organization of the current context; errors (or NULL if tenancy.missing_context = empty) without one';

CREATE FUNCTION tenancy.current_user_id() RETURNS uuid
    AS 'MODULE_PATHNAME', 'tenancy_current_user_id'
    LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION tenancy.current_user_id() IS
    'User of the current context; errors (or NULL if tenancy.missing_context = empty) without one';

CREATE FUNCTION tenancy.has_permission(permission text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'tenancy_has_permission'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION tenancy.has_permission(text) IS
    'Does the current context''s role grant this permission ("*" and "resource.*" grants count)?';

CREATE FUNCTION tenancy.context() RETURNS jsonb
    AS 'MODULE_PATHNAME', 'tenancy_context'
    LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION tenancy.context() IS
    'The current context (user, org, role, permissions, times) as JSON, or NULL; never the token';

-- ---------------------------------------------------------------------------
-- One call to protect a table.
-- ---------------------------------------------------------------------------

CREATE FUNCTION tenancy.reject_org_change() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION 'a row cannot move to another organization'
        USING ERRCODE = '42501',
              DETAIL = pg_catalog.format('Column %I of %s is fixed once a row is written.',
                                         TG_ARGV[0], TG_RELID::pg_catalog.regclass),
              HINT = 'Insert a copy in the other organization and delete the original instead.';
END
$$;
COMMENT ON FUNCTION tenancy.reject_org_change() IS
    'Trigger installed by tenancy.protect(): the organization column of a row never changes';

-- Applies RLS, FORCE and both policies to one relation (a table or a partition).
CREATE FUNCTION tenancy.apply_policies(tbl pg_catalog.regclass, org_column name) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant_condition text := pg_catalog.format('%I OPERATOR(pg_catalog.=) tenancy.current_org()', org_column);
    policy name;
BEGIN
    FOR policy IN SELECT p.polname FROM pg_catalog.pg_policy AS p
                   WHERE p.polrelid = tbl AND p.polname IN ('tenancy_isolation', 'tenancy_guard') LOOP
        EXECUTE pg_catalog.format('DROP POLICY %I ON %s', policy, tbl);
    END LOOP;
    -- The tenant condition is inside the permissive policy itself, so isolation
    -- never depends on a RESTRICTIVE policy alone (Citus forwards those to shards
    -- as permissive); the restrictive twin stops any other permissive policy a
    -- user adds from widening access across organizations.
    EXECUTE pg_catalog.format('CREATE POLICY tenancy_isolation ON %s AS PERMISSIVE FOR ALL TO PUBLIC '
                              'USING (%s) WITH CHECK (%s)', tbl, tenant_condition, tenant_condition);
    EXECUTE pg_catalog.format('CREATE POLICY tenancy_guard ON %s AS RESTRICTIVE FOR ALL TO PUBLIC '
                              'USING (%s) WITH CHECK (%s)', tbl, tenant_condition, tenant_condition);
    -- Last, so that the event trigger below finds the table complete.
    EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY', tbl);
END
$$;
COMMENT ON FUNCTION tenancy.apply_policies(pg_catalog.regclass, name) IS
    'Part of tenancy.protect(): RLS on and forced, and both tenant policies, on one relation';

-- Every table that inherits from tbl, at any depth: partitions and classic
-- inheritance children alike (pg_partition_tree() knows only the former).
CREATE FUNCTION tenancy.descendants(tbl pg_catalog.regclass) RETURNS SETOF pg_catalog.regclass
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    WITH RECURSIVE tree(relid) AS (
        SELECT i.inhrelid FROM pg_catalog.pg_inherits AS i WHERE i.inhparent OPERATOR(pg_catalog.=) tbl
        UNION
        SELECT i.inhrelid FROM pg_catalog.pg_inherits AS i JOIN tree ON i.inhparent OPERATOR(pg_catalog.=) tree.relid
    )
    SELECT relid::pg_catalog.regclass FROM tree
$$;
COMMENT ON FUNCTION tenancy.descendants(pg_catalog.regclass) IS
    'All partitions and inheritance children of a table, at any depth';

-- The organization column of a table protect() has seen (from its trigger).
CREATE FUNCTION tenancy.org_column_of(tbl pg_catalog.regclass) RETURNS name
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    -- tgargs holds the trigger's arguments, each followed by a zero byte.
    SELECT pg_catalog.convert_from(pg_catalog.substr(t.tgargs, 1,
               pg_catalog.position(t.tgargs, '\000'::bytea) OPERATOR(pg_catalog.-) 1), 'UTF8')::name
      FROM pg_catalog.pg_trigger AS t
     WHERE t.tgrelid OPERATOR(pg_catalog.=) tbl AND t.tgname OPERATOR(pg_catalog.=) 'tenancy_org_immutable'
     LIMIT 1
$$;
COMMENT ON FUNCTION tenancy.org_column_of(pg_catalog.regclass) IS
    'Organization column of a table protected by tenancy.protect(), or NULL';

-- Protects one inheriting table under a protected parent: policies on every
-- descendant; for classic inheritance children also the default, the index and
-- the trigger, which PostgreSQL copies only to partitions.
CREATE FUNCTION tenancy.protect_descendant(child pg_catalog.regclass, org_column name) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    is_partition boolean;
    attnum smallint;
BEGIN
    -- Policies first: every ALTER TABLE below fires the event trigger, which
    -- leaves a table alone once its policies are complete.
    PERFORM tenancy.apply_policies(child, org_column);
    EXECUTE pg_catalog.format('ALTER TABLE %s ALTER COLUMN %I SET DEFAULT tenancy.current_org(), '
                              'ALTER COLUMN %I SET NOT NULL', child, org_column, org_column);
    SELECT c.relispartition INTO is_partition FROM pg_catalog.pg_class AS c WHERE c.oid = child;
    IF is_partition THEN
        RETURN; -- partitions get the index and the trigger from their parent
    END IF;
    SELECT a.attnum INTO attnum FROM pg_catalog.pg_attribute AS a
     WHERE a.attrelid = child AND a.attname = org_column AND NOT a.attisdropped;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_index AS i
                    WHERE i.indrelid = child AND i.indkey[0] = attnum AND i.indpred IS NULL) THEN
        EXECUTE pg_catalog.format('CREATE INDEX ON %s (%I)', child, org_column);
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger AS t
                    WHERE t.tgrelid = child AND t.tgname = 'tenancy_org_immutable') THEN
        EXECUTE pg_catalog.format('CREATE TRIGGER tenancy_org_immutable BEFORE UPDATE OF %I ON %s FOR EACH ROW '
                                  'WHEN (OLD.%I IS DISTINCT FROM NEW.%I) '
                                  'EXECUTE FUNCTION tenancy.reject_org_change(%L)',
                                  org_column, child, org_column, org_column, org_column);
    END IF;
END
$$;
COMMENT ON FUNCTION tenancy.protect_descendant(pg_catalog.regclass, name) IS
    'Part of tenancy.protect(): protect one partition or inheritance child';

CREATE FUNCTION tenancy.protect(tbl pg_catalog.regclass, org_column name DEFAULT 'organization_id')
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

    EXECUTE pg_catalog.format('ALTER TABLE %s ALTER COLUMN %I SET DEFAULT tenancy.current_org(), '
                              'ALTER COLUMN %I SET NOT NULL', tbl, org_column, org_column);

    -- Tenant predicates must be able to use an index led by the organization column.
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_index AS i
                    WHERE i.indrelid = tbl AND i.indkey[0] = col.attnum AND i.indpred IS NULL) THEN
        EXECUTE pg_catalog.format('CREATE INDEX ON %s (%I)', tbl, org_column);
    END IF;

    -- Row triggers on a partitioned table are cloned onto its partitions.
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_trigger AS t
                WHERE t.tgrelid = tbl AND t.tgname = 'tenancy_org_immutable') THEN
        EXECUTE pg_catalog.format('DROP TRIGGER tenancy_org_immutable ON %s', tbl);
    END IF;
    EXECUTE pg_catalog.format('CREATE TRIGGER tenancy_org_immutable BEFORE UPDATE OF %I ON %s FOR EACH ROW '
                              'WHEN (OLD.%I IS DISTINCT FROM NEW.%I) EXECUTE FUNCTION tenancy.reject_org_change(%L)',
                              org_column, tbl, org_column, org_column, org_column);

    -- Children first: the policies on the parent are what the event trigger
    -- looks for, so they come last.
    FOR part IN SELECT d FROM tenancy.descendants(tbl) AS d LOOP
        PERFORM tenancy.protect_descendant(part, org_column);
    END LOOP;
    PERFORM tenancy.apply_policies(tbl, org_column);

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
     WHERE p.polrelid = tbl AND p.polname NOT IN ('tenancy_isolation', 'tenancy_guard');
    IF other_policies IS NOT NULL THEN
        RAISE NOTICE 'table % also has the policies %', tbl, other_policies
            USING DETAIL = 'pg_tenancy''s restrictive policy still confines them to the current organization.';
    END IF;
END
$$;
COMMENT ON FUNCTION tenancy.protect(pg_catalog.regclass, name) IS
    'Isolate a table by organization: RLS enabled and forced, tenant policies, column default and NOT NULL, '
    'an index led by the column, rows pinned to their organization; partitions included. Idempotent.';

-- Tables that join a protected table later (CREATE TABLE ... PARTITION OF,
-- ATTACH PARTITION, INHERITS, ALTER TABLE ... INHERIT) are protected at once,
-- so a child can never be read directly without the tenant policies.
CREATE FUNCTION tenancy.protect_new_children() RETURNS event_trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    changed pg_catalog.regclass;
    root pg_catalog.regclass;
    child pg_catalog.regclass;
    org_column name;
BEGIN
    FOR changed IN SELECT DISTINCT c.objid::pg_catalog.regclass
                     FROM pg_catalog.pg_event_trigger_ddl_commands() AS c
                    WHERE c.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND c.object_type = 'table' LOOP
        -- The nearest protected ancestor of the changed table, or the table itself.
        WITH RECURSIVE up(relid, depth) AS (
            SELECT changed::pg_catalog.oid, 0
            UNION ALL
            SELECT i.inhparent, up.depth + 1 FROM pg_catalog.pg_inherits AS i JOIN up ON i.inhrelid = up.relid
        )
        SELECT up.relid::pg_catalog.regclass INTO root FROM up
         WHERE tenancy.org_column_of(up.relid::pg_catalog.regclass) IS NOT NULL
           AND EXISTS (SELECT 1 FROM pg_catalog.pg_policy AS p
                        WHERE p.polrelid = up.relid AND p.polname = 'tenancy_isolation')
         ORDER BY up.depth LIMIT 1;
        CONTINUE WHEN root IS NULL;
        org_column := tenancy.org_column_of(root);
        FOR child IN SELECT d FROM tenancy.descendants(root) AS d LOOP
            CONTINUE WHEN (SELECT c.relrowsecurity AND c.relforcerowsecurity FROM pg_catalog.pg_class AS c
                            WHERE c.oid = child)
                      AND (SELECT pg_catalog.count(*) FROM pg_catalog.pg_policy AS p
                            WHERE p.polrelid = child AND p.polname IN ('tenancy_isolation', 'tenancy_guard')) = 2;
            RAISE NOTICE 'pg_tenancy: protecting %, which now inherits from protected table %', child, root;
            PERFORM tenancy.protect_descendant(child, org_column);
        END LOOP;
    END LOOP;
END
$$;
COMMENT ON FUNCTION tenancy.protect_new_children() IS
    'Event trigger: protect partitions and inheritance children added to a protected table';
CREATE EVENT TRIGGER tenancy_protect_new_children ON ddl_command_end
    WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE')
    EXECUTE FUNCTION tenancy.protect_new_children();

CREATE FUNCTION tenancy.unprotect(tbl pg_catalog.regclass) RETURNS void
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
                    WHERE p.polrelid = tbl AND p.polname = 'tenancy_isolation') THEN
        RAISE EXCEPTION 'table % is not protected by pg_tenancy', tbl USING ERRCODE = '55000';
    END IF;
    SELECT a.attname INTO org_column
      FROM pg_catalog.pg_attrdef AS d
      JOIN pg_catalog.pg_attribute AS a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
     WHERE d.adrelid = tbl AND pg_catalog.pg_get_expr(d.adbin, d.adrelid) = 'tenancy.current_org()';
    IF org_column IS NOT NULL THEN
        EXECUTE pg_catalog.format('ALTER TABLE %s ALTER COLUMN %I DROP DEFAULT', tbl, org_column);
    END IF;
    FOR rel IN SELECT tbl UNION ALL SELECT d FROM tenancy.descendants(tbl) AS d LOOP
        IF EXISTS (SELECT 1 FROM pg_catalog.pg_trigger AS t
                    WHERE t.tgrelid = rel AND t.tgname = 'tenancy_org_immutable' AND t.tgparentid = 0) THEN
            EXECUTE pg_catalog.format('DROP TRIGGER tenancy_org_immutable ON %s', rel);
        END IF;
        EXECUTE pg_catalog.format('DROP POLICY IF EXISTS tenancy_isolation ON %s', rel);
        EXECUTE pg_catalog.format('DROP POLICY IF EXISTS tenancy_guard ON %s', rel);
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

CREATE VIEW tenancy.protected_tables WITH (security_invoker = true) AS
SELECT p.polrelid::pg_catalog.regclass AS table_name,
       c.relkind OPERATOR(pg_catalog.=) 'p' AS partitioned,
       c.relispartition AS is_partition,
       c.relrowsecurity AS rls_enabled,
       c.relforcerowsecurity AS rls_forced
  FROM pg_catalog.pg_policy AS p
  JOIN pg_catalog.pg_class AS c ON c.oid OPERATOR(pg_catalog.=) p.polrelid
 WHERE p.polname OPERATOR(pg_catalog.=) 'tenancy_isolation';
COMMENT ON VIEW tenancy.protected_tables IS 'Tables (and partitions) carrying pg_tenancy''s tenant policy';
GRANT SELECT ON tenancy.protected_tables TO PUBLIC;

-- ---------------------------------------------------------------------------
-- Users and organizations.
-- ---------------------------------------------------------------------------

CREATE FUNCTION tenancy.register_user(code text, email text) RETURNS uuid
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
    IF pg_catalog.length(email) > 320 OR email !~ '^[^@[:space:]]+@[^@[:space:]]+$' THEN
        RAISE EXCEPTION 'invalid email address' USING ERRCODE = '22023',
            HINT = 'Give an address of the form name@domain, at most 320 characters.';
    END IF;
    INSERT INTO tenancy.users (code, email) VALUES (code, email) RETURNING id INTO new_id;
    RETURN new_id;
EXCEPTION WHEN unique_violation THEN
    RAISE EXCEPTION 'a user with this code or email is already registered' USING ERRCODE = '23505';
END
$$;
REVOKE ALL ON FUNCTION tenancy.register_user(text, text) FROM PUBLIC;
COMMENT ON FUNCTION tenancy.register_user(text, text) IS
    'Register a user (for the engine''s privileged role and tests; not granted to PUBLIC)';

CREATE FUNCTION tenancy.create_organization(name text) RETURNS uuid
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
            USING ERRCODE = '42501',
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
    RETURN org_id;
END
$$;
COMMENT ON FUNCTION tenancy.create_organization(text) IS
    'In a user-only context: create an organization, its system owner role and the caller''s owner membership, '
    'atomically. Returns the organization id.';

-- ---------------------------------------------------------------------------
-- Support for the engine (the application-side companion).
-- ---------------------------------------------------------------------------

-- Membership look-up before a token is minted. Not for the application role:
-- grant it to the engine's privileged role only.
CREATE FUNCTION tenancy.lookup_membership(user_id uuid, organization_id uuid)
    RETURNS TABLE (role_code text, permissions jsonb)
    LANGUAGE sql STABLE
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT r.code, r.permissions
      FROM tenancy.memberships AS m
      JOIN tenancy.roles AS r ON r.id OPERATOR(pg_catalog.=) m.role_id
                             AND r.organization_id OPERATOR(pg_catalog.=) m.organization_id
     WHERE m.user_id OPERATOR(pg_catalog.=) lookup_membership.user_id
       AND m.organization_id OPERATOR(pg_catalog.=) lookup_membership.organization_id
$$;
REVOKE ALL ON FUNCTION tenancy.lookup_membership(uuid, uuid) FROM PUBLIC;
COMMENT ON FUNCTION tenancy.lookup_membership(uuid, uuid) IS
    'Role and permissions of a user in an organization, if a member (for the engine''s privileged role only)';

-- The caller's own organizations, for an organization switcher. Needs a context
-- (a user-only one is enough) and shows nothing about anyone else.
CREATE FUNCTION tenancy.my_organizations()
    RETURNS TABLE (organization_id uuid, name text, role_code text, role_name text, joined_at timestamptz)
    LANGUAGE sql STABLE
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT o.id, o.name, r.code, r.name, m.created_at
      FROM tenancy.memberships AS m
      JOIN tenancy.organizations AS o ON o.id OPERATOR(pg_catalog.=) m.organization_id
      JOIN tenancy.roles AS r ON r.id OPERATOR(pg_catalog.=) m.role_id
     WHERE m.user_id OPERATOR(pg_catalog.=) tenancy.current_user_id()
     ORDER BY o.name, o.id
$$;
COMMENT ON FUNCTION tenancy.my_organizations() IS
    'Organizations the context''s user belongs to, with their role in each';

-- Cache invalidation for the engine: every change to memberships or roles is
-- announced on channel tenancy_membership_changed. The payload is empty on
-- purpose: any role may LISTEN, and ids in it would tell one tenant about
-- another. Listeners drop their whole membership cache.
CREATE FUNCTION tenancy.announce_membership_change() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM pg_catalog.pg_notify('tenancy_membership_changed', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER memberships_announce_change
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tenancy.memberships
    FOR EACH STATEMENT EXECUTE FUNCTION tenancy.announce_membership_change();
CREATE TRIGGER roles_announce_change
    AFTER UPDATE OR DELETE OR TRUNCATE ON tenancy.roles
    FOR EACH STATEMENT EXECUTE FUNCTION tenancy.announce_membership_change();

-- Connection hygiene for poolers: what this session would carry past COMMIT.
CREATE FUNCTION tenancy.session_leftovers() RETURNS text[]
    AS 'MODULE_PATHNAME', 'tenancy_session_leftovers'
    LANGUAGE C VOLATILE PARALLEL UNSAFE
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tenancy.session_leftovers() IS
    'Session state that would outlive the current transaction: session-level settings, temporary tables, '
    'holdable cursors, SQL prepared statements, advisory locks, LISTEN channels. Empty when the connection is clean.';

CREATE FUNCTION tenancy.assert_session_clean() RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    leftovers text[] := tenancy.session_leftovers();
BEGIN
    IF pg_catalog.cardinality(leftovers) > 0 THEN
        RAISE EXCEPTION 'this session carries state past the transaction'
            USING ERRCODE = '55000',
                  DETAIL = pg_catalog.array_to_string(leftovers, '; '),
                  HINT = 'A pooled connection must not keep session state; discard it.';
    END IF;
END
$$;
COMMENT ON FUNCTION tenancy.assert_session_clean() IS
    'Raise SQLSTATE 55000 if tenancy.session_leftovers() is not empty';
