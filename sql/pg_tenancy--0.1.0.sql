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

CREATE FUNCTION tenancy.permission_array(permissions jsonb) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    RETURN ARRAY(SELECT pg_catalog.jsonb_array_elements_text(permissions));
COMMENT ON FUNCTION tenancy.permission_array(jsonb) IS 'A role''s permissions as text[] (for tenancy.permissions_cover())';

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

CREATE FUNCTION tenancy.is_valid_email(email text) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    RETURN pg_catalog.length(email) OPERATOR(pg_catalog.<=) 320
       AND email OPERATOR(pg_catalog.~) '^[^@[:space:]]+@[^@[:space:]]+$';
COMMENT ON FUNCTION tenancy.is_valid_email(text) IS 'True for name@domain, at most 320 characters';

-- ---------------------------------------------------------------------------
-- The data model. The application role has no privileges on these tables: it
-- reaches them only through the functions below.
-- ---------------------------------------------------------------------------

CREATE TABLE tenancy.users (
    id          uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    code        text NOT NULL
                CONSTRAINT users_code_format CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$'),
    email       text NOT NULL
                CONSTRAINT users_email_format CHECK (tenancy.is_valid_email(email)),
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
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    -- Bumped whenever an owner's membership changes, so that concurrent changes
    -- to the owner set of one organization serialize (see keep_an_owner()).
    ownership_version bigint NOT NULL DEFAULT 0
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
                    CONSTRAINT invitations_email_format CHECK (tenancy.is_valid_email(email)),
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

-- How a table is protected: its organization column and, optionally, the
-- permissions reads and writes need. Kept in the arguments of the table's
-- tenancy_org_immutable trigger, so it survives pg_dump and reaches partitions.
CREATE TYPE tenancy.protection AS (
    org_column       name,
    read_permission  text,
    write_permission text
);

-- The policies pg_tenancy creates (any other policy on a table is the owner's).
CREATE FUNCTION tenancy.policy_names() RETURNS name[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    RETURN ARRAY['tenancy_isolation', 'tenancy_guard', 'tenancy_read', 'tenancy_insert', 'tenancy_update',
                 'tenancy_delete']::name[];

CREATE FUNCTION tenancy.drop_policies(tbl pg_catalog.regclass) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    policy name;
BEGIN
    FOR policy IN SELECT p.polname FROM pg_catalog.pg_policy AS p
                   WHERE p.polrelid = tbl AND p.polname = ANY (tenancy.policy_names()) LOOP
        EXECUTE pg_catalog.format('DROP POLICY %I ON %s', policy, tbl);
    END LOOP;
END
$$;

-- Applies RLS, FORCE and the tenant policies to one relation (a table or a partition).
CREATE FUNCTION tenancy.apply_policies(tbl pg_catalog.regclass, how tenancy.protection) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant text := pg_catalog.format('%I OPERATOR(pg_catalog.=) tenancy.current_org()', how.org_column);
    can_read text := tenant;
    can_write text := tenant;
BEGIN
    PERFORM tenancy.drop_policies(tbl);
    -- The tenant condition is inside every permissive policy itself, so
    -- isolation never depends on a RESTRICTIVE policy alone (Citus forwards those
    -- to shards as permissive); the restrictive twin stops any other permissive
    -- policy a user adds from widening access across organizations.
    IF how.read_permission IS NULL AND how.write_permission IS NULL THEN
        EXECUTE pg_catalog.format('CREATE POLICY tenancy_isolation ON %s AS PERMISSIVE FOR ALL TO PUBLIC '
                                  'USING (%s) WITH CHECK (%s)', tbl, tenant, tenant);
    ELSE
        IF how.read_permission IS NOT NULL THEN
            can_read := pg_catalog.format('%s AND tenancy.has_permission(%L)', tenant, how.read_permission);
        END IF;
        IF how.write_permission IS NOT NULL THEN
            can_write := pg_catalog.format('%s AND tenancy.has_permission(%L)', tenant, how.write_permission);
        END IF;
        EXECUTE pg_catalog.format('CREATE POLICY tenancy_read ON %s AS PERMISSIVE FOR SELECT TO PUBLIC USING (%s)',
                                  tbl, can_read);
        EXECUTE pg_catalog.format('CREATE POLICY tenancy_insert ON %s AS PERMISSIVE FOR INSERT TO PUBLIC '
                                  'WITH CHECK (%s)', tbl, can_write);
        EXECUTE pg_catalog.format('CREATE POLICY tenancy_update ON %s AS PERMISSIVE FOR UPDATE TO PUBLIC '
                                  'USING (%s) WITH CHECK (%s)', tbl, can_write, can_write);
        EXECUTE pg_catalog.format('CREATE POLICY tenancy_delete ON %s AS PERMISSIVE FOR DELETE TO PUBLIC USING (%s)',
                                  tbl, can_write);
    END IF;
    EXECUTE pg_catalog.format('CREATE POLICY tenancy_guard ON %s AS RESTRICTIVE FOR ALL TO PUBLIC '
                              'USING (%s) WITH CHECK (%s)', tbl, tenant, tenant);
    -- Last, so that the event trigger below finds the table complete.
    EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY', tbl);
END
$$;
COMMENT ON FUNCTION tenancy.apply_policies(pg_catalog.regclass, tenancy.protection) IS
    'Part of tenancy.protect(): RLS on and forced, and the tenant policies, on one relation';

-- The trigger that pins rows to their organization; its arguments record the protection.
CREATE FUNCTION tenancy.create_org_trigger(tbl pg_catalog.regclass, how tenancy.protection) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    EXECUTE pg_catalog.format('CREATE TRIGGER tenancy_org_immutable BEFORE UPDATE OF %I ON %s FOR EACH ROW '
                              'WHEN (OLD.%I IS DISTINCT FROM NEW.%I) '
                              'EXECUTE FUNCTION tenancy.reject_org_change(%L, %L, %L)',
                              how.org_column, tbl, how.org_column, how.org_column, how.org_column,
                              coalesce(how.read_permission, ''), coalesce(how.write_permission, ''));
END
$$;

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

-- How protect() protected a table, read back from its trigger, or NULL.
CREATE FUNCTION tenancy.protection_of(tbl pg_catalog.regclass) RETURNS tenancy.protection
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
    IF rest IS NULL THEN
        RETURN NULL;
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
COMMENT ON FUNCTION tenancy.protection_of(pg_catalog.regclass) IS
    'Organization column and read/write permissions of a table protected by tenancy.protect(), or NULL';

-- Protects one inheriting table under a protected parent: policies on every
-- descendant; for classic inheritance children also the default, the index and
-- the trigger, which PostgreSQL copies only to partitions.
CREATE FUNCTION tenancy.protect_descendant(child pg_catalog.regclass, how tenancy.protection) RETURNS void
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
    EXECUTE pg_catalog.format('ALTER TABLE %s ALTER COLUMN %I SET DEFAULT tenancy.current_org(), '
                              'ALTER COLUMN %I SET NOT NULL', child, how.org_column, how.org_column);
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
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_trigger AS t
                WHERE t.tgrelid = child AND t.tgname = 'tenancy_org_immutable') THEN
        EXECUTE pg_catalog.format('DROP TRIGGER tenancy_org_immutable ON %s', child);
    END IF;
    PERFORM tenancy.create_org_trigger(child, how);
END
$$;
COMMENT ON FUNCTION tenancy.protect_descendant(pg_catalog.regclass, tenancy.protection) IS
    'Part of tenancy.protect(): protect one partition or inheritance child';

CREATE FUNCTION tenancy.protect(tbl pg_catalog.regclass, org_column name DEFAULT 'organization_id',
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
            RAISE EXCEPTION 'invalid permission "%"', permission
                USING ERRCODE = '22023', HINT = 'Use resource.action, e.g. tickets.read.';
        END IF;
        PERFORM tenancy.require_known_permissions(pg_catalog.jsonb_build_array(permission));
    END LOOP;

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
    PERFORM tenancy.create_org_trigger(tbl, how);

    -- Children first: the policies on the parent are what the event trigger
    -- looks for, so they come last.
    FOR part IN SELECT d FROM tenancy.descendants(tbl) AS d LOOP
        PERFORM tenancy.protect_descendant(part, how);
    END LOOP;
    PERFORM tenancy.apply_policies(tbl, how);

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
            USING DETAIL = 'pg_tenancy''s restrictive policy still confines them to the current organization.';
    END IF;
END
$$;
COMMENT ON FUNCTION tenancy.protect(pg_catalog.regclass, name, text, text) IS
    'Isolate a table by organization: RLS enabled and forced, tenant policies (optionally also requiring a read '
    'and a write permission), column default and NOT NULL, an index led by the column, rows pinned to their '
    'organization; partitions and inheritance children included. Idempotent.';

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
                        WHERE p.polrelid = up.relid AND p.polname = 'tenancy_guard')
         ORDER BY up.depth LIMIT 1;
        CONTINUE WHEN root IS NULL;
        how := tenancy.protection_of(root);
        FOR child IN SELECT d FROM tenancy.descendants(root) AS d LOOP
            CONTINUE WHEN (SELECT c.relrowsecurity AND c.relforcerowsecurity FROM pg_catalog.pg_class AS c
                            WHERE c.oid = child)
                      AND EXISTS (SELECT 1 FROM pg_catalog.pg_policy AS p
                                   WHERE p.polrelid = child AND p.polname = 'tenancy_guard');
            RAISE NOTICE 'pg_tenancy: protecting %, which now inherits from protected table %', child, root;
            PERFORM tenancy.protect_descendant(child, how);
        END LOOP;
    END LOOP;
END
$$;
COMMENT ON FUNCTION tenancy.protect_new_children() IS
    'Event trigger: protect partitions and inheritance children added to a protected table';
CREATE EVENT TRIGGER tenancy_protect_new_children ON ddl_command_end
    WHEN TAG IN ('CREATE TABLE', 'ALTER TABLE', 'CREATE FOREIGN TABLE', 'ALTER FOREIGN TABLE')
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
                    WHERE p.polrelid = tbl AND p.polname = 'tenancy_guard') THEN
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

CREATE VIEW tenancy.protected_tables WITH (security_invoker = true) AS
SELECT p.polrelid::pg_catalog.regclass AS table_name,
       c.relkind OPERATOR(pg_catalog.=) 'p' AS partitioned,
       c.relispartition AS is_partition,
       c.relrowsecurity AS rls_enabled,
       c.relforcerowsecurity AS rls_forced,
       (tenancy.protection_of(p.polrelid::pg_catalog.regclass)).read_permission,
       (tenancy.protection_of(p.polrelid::pg_catalog.regclass)).write_permission
  FROM pg_catalog.pg_policy AS p
  JOIN pg_catalog.pg_class AS c ON c.oid OPERATOR(pg_catalog.=) p.polrelid
 WHERE p.polname OPERATOR(pg_catalog.=) 'tenancy_guard';
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
    IF NOT tenancy.is_valid_email(email) THEN
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
    PERFORM tenancy.record(org_id, 'organization.created', pg_catalog.jsonb_build_object('name', pg_catalog.btrim(name)));
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

-- ---------------------------------------------------------------------------
-- Permissions, roles, members, invitations and the audit log. Every function
-- below runs in the caller's tenant context, checks the caller's current
-- membership and permissions in the database, and writes the audit log.
-- ---------------------------------------------------------------------------

CREATE FUNCTION tenancy.permissions_cover(granted text[], wanted text[]) RETURNS boolean
    AS 'MODULE_PATHNAME', 'tenancy_permissions_cover'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION tenancy.permissions_cover(text[], text[]) IS
    'True if every wanted permission is covered by a granted one ("*", "resource.*" or an exact match)';

CREATE FUNCTION tenancy.new_secret_token() RETURNS text
    AS 'MODULE_PATHNAME', 'tenancy_new_secret_token'
    LANGUAGE C VOLATILE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION tenancy.new_secret_token() FROM PUBLIC;
COMMENT ON FUNCTION tenancy.new_secret_token() IS 'tinv_ followed by 256 bits from OpenSSL''s CSPRNG (base64url)';

-- The vocabulary: every permission a role may hold must be registered here.
CREATE TABLE tenancy.permissions (
    code        text PRIMARY KEY
                CONSTRAINT permissions_code_format CHECK (tenancy.is_valid_permission(code) AND code !~ '\*'),
    description text NOT NULL CONSTRAINT permissions_description_length CHECK (length(description) <= 500),
    builtin     boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE tenancy.permissions IS 'Known permission strings; roles may only hold these (or "*" / "resource.*")';
INSERT INTO tenancy.permissions (code, description, builtin) VALUES
    ('org.manage', 'Rename or configure the organization', true),
    ('members.read', 'See the members and pending invitations', true),
    ('members.invite', 'Invite people, revoke invitations', true),
    ('members.manage', 'Change members'' roles, remove members', true),
    ('roles.read', 'See the roles', true),
    ('roles.manage', 'Create, edit and delete roles', true),
    ('audit.read', 'Read the organization''s audit log', true);
SELECT pg_catalog.pg_extension_config_dump('tenancy.permissions', 'WHERE NOT builtin');
REVOKE ALL ON tenancy.permissions FROM PUBLIC;
GRANT SELECT ON tenancy.permissions TO PUBLIC;

CREATE FUNCTION tenancy.register_permission(code text, description text) RETURNS void
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF code IS NULL OR description IS NULL THEN
        RAISE EXCEPTION 'tenancy.register_permission() needs a code and a description' USING ERRCODE = '22004';
    END IF;
    IF NOT tenancy.is_valid_permission(code) OR code ~ '\*' THEN
        RAISE EXCEPTION 'invalid permission "%"', code
            USING ERRCODE = '22023',
                  HINT = 'Use resource.action in lower case, e.g. tickets.read.';
    END IF;
    INSERT INTO tenancy.permissions (code, description) VALUES (code, description)
        ON CONFLICT ON CONSTRAINT permissions_pkey DO UPDATE SET description = EXCLUDED.description;
END
$$;
REVOKE ALL ON FUNCTION tenancy.register_permission(text, text) FROM PUBLIC;
COMMENT ON FUNCTION tenancy.register_permission(text, text) IS
    'Add a permission to the vocabulary (for migrations; not granted to PUBLIC)';

-- Permissions in a role that the vocabulary does not know.
CREATE FUNCTION tenancy.unknown_permissions(permissions jsonb) RETURNS text[]
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(pg_catalog.array_agg(p ORDER BY p), '{}')
      FROM pg_catalog.jsonb_array_elements_text(permissions) AS p
     WHERE p OPERATOR(pg_catalog.<>) '*'
       AND NOT EXISTS (SELECT 1 FROM tenancy.permissions AS k
                        WHERE k.code OPERATOR(pg_catalog.=) p
                           OR (p OPERATOR(pg_catalog.~~) '%.*'
                               AND pg_catalog.split_part(k.code, '.', 1)
                                   OPERATOR(pg_catalog.=) pg_catalog.split_part(p, '.', 1)))
$$;

-- Checked by create_role() and update_role(), the only ways roles are written
-- through the API. (Not a trigger on tenancy.roles: pg_restore loads roles
-- before the vocabulary, and must be able to.)
CREATE FUNCTION tenancy.require_known_permissions(permissions jsonb) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    unknown text[] := tenancy.unknown_permissions(permissions);
BEGIN
    IF pg_catalog.cardinality(unknown) > 0 THEN
        RAISE EXCEPTION 'unknown permission: %', pg_catalog.array_to_string(unknown, ', ')
            USING ERRCODE = '22023',
                  HINT = 'Register application permissions with tenancy.register_permission() first.';
    END IF;
END
$$;

-- The audit log: one row per change to who may do what, tenant-scoped.
CREATE TABLE tenancy.audit_log (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES tenancy.organizations (id) ON DELETE CASCADE,
    actor_id        uuid,
    action          text NOT NULL CONSTRAINT audit_log_action_known CHECK (action IN (
                        'organization.created', 'member.added', 'member.removed', 'member.left',
                        'member.role_changed', 'role.created', 'role.updated', 'role.deleted',
                        'invitation.created', 'invitation.accepted', 'invitation.revoked',
                        'ownership.transferred')),
    details         jsonb NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp()
);
COMMENT ON TABLE tenancy.audit_log IS
    'Who changed memberships, roles, invitations and ownership, per organization (append-only)';
SELECT pg_catalog.pg_extension_config_dump('tenancy.audit_log', '');
SELECT tenancy.protect('tenancy.audit_log');
-- Reading needs audit.read; nobody but pg_tenancy's own functions writes.
CREATE POLICY audit_log_needs_audit_read ON tenancy.audit_log AS RESTRICTIVE FOR SELECT TO PUBLIC
    USING (tenancy.has_permission('audit.read'));
REVOKE ALL ON tenancy.audit_log FROM PUBLIC;
GRANT SELECT ON tenancy.audit_log TO PUBLIC;

CREATE FUNCTION tenancy.forbid_audit_change() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- Rows go away only with their organization (ON DELETE CASCADE).
    IF TG_OP = 'DELETE' AND NOT EXISTS (SELECT 1 FROM tenancy.organizations AS o
                                         WHERE o.id OPERATOR(pg_catalog.=) OLD.organization_id) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'the audit log is append-only' USING ERRCODE = '42501';
END
$$;
CREATE TRIGGER audit_log_append_only
    BEFORE UPDATE OR DELETE ON tenancy.audit_log
    FOR EACH ROW EXECUTE FUNCTION tenancy.forbid_audit_change();

CREATE FUNCTION tenancy.record(organization_id uuid, action text, details jsonb) RETURNS void
    LANGUAGE sql
    SET search_path = pg_catalog, pg_temp
AS $$
    INSERT INTO tenancy.audit_log (organization_id, actor_id, action, details)
    VALUES (record.organization_id, (tenancy.context() OPERATOR(pg_catalog.->>) 'user')::uuid, record.action,
            record.details)
$$;
REVOKE ALL ON FUNCTION tenancy.record(uuid, text, jsonb) FROM PUBLIC;

-- The caller, as the database sees them right now (not as the token said):
-- their membership in the context's organization, locked against concurrent
-- removal until the end of the transaction.
CREATE TYPE tenancy.caller AS (
    organization_id uuid,
    user_id         uuid,
    role_id         uuid,
    is_owner        boolean,
    permissions     text[]
);

CREATE FUNCTION tenancy.authorize(permission text, for_change boolean DEFAULT true) RETURNS tenancy.caller
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
    -- as a missing membership. Reads take no lock: they work in read-only
    -- transactions and on standbys.
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
    SELECT r.is_system, tenancy.permission_array(r.permissions)
      INTO me.is_owner, me.permissions
      FROM tenancy.roles AS r WHERE r.id OPERATOR(pg_catalog.=) me.role_id;
    IF permission IS NOT NULL AND tenancy.permissions_cover(me.permissions, ARRAY[permission]) IS NOT TRUE THEN
        RAISE EXCEPTION 'permission denied: this needs %', permission
            USING ERRCODE = '42501', HINT = 'Ask an owner for a role that grants it.';
    END IF;
    RETURN me;
END
$$;
REVOKE ALL ON FUNCTION tenancy.authorize(text, boolean) FROM PUBLIC;

-- Nobody hands out more than they hold; only owners hand out ownership.
CREATE FUNCTION tenancy.require_grantable(me tenancy.caller, role_id uuid) RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    target record;
BEGIN
    SELECT r.code, r.is_system, tenancy.permission_array(r.permissions) AS permissions
      INTO target FROM tenancy.roles AS r
     WHERE r.id OPERATOR(pg_catalog.=) role_id AND r.organization_id OPERATOR(pg_catalog.=) me.organization_id;
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
REVOKE ALL ON FUNCTION tenancy.require_grantable(tenancy.caller, uuid) FROM PUBLIC;

CREATE FUNCTION tenancy.role_id(organization_id uuid, code text) RETURNS uuid
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    found_id uuid;
BEGIN
    SELECT r.id INTO found_id FROM tenancy.roles AS r
     WHERE r.organization_id OPERATOR(pg_catalog.=) role_id.organization_id AND r.code OPERATOR(pg_catalog.=) role_id.code;
    IF found_id IS NULL THEN
        RAISE EXCEPTION 'role "%" does not exist in this organization', code
            USING ERRCODE = '42704', HINT = 'See tenancy.list_roles().';
    END IF;
    RETURN found_id;
END
$$;
REVOKE ALL ON FUNCTION tenancy.role_id(uuid, text) FROM PUBLIC;

-- Every organization keeps at least one owner, also under concurrency: a change
-- that takes an owner away first bumps the organization's ownership_version,
-- which serializes such changes (a second one waits, then sees the first, or
-- fails with a serialization error under REPEATABLE READ).
CREATE FUNCTION tenancy.keep_an_owner() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    owner_role uuid;
    others bigint;
BEGIN
    SELECT r.id INTO owner_role FROM tenancy.roles AS r
     WHERE r.organization_id OPERATOR(pg_catalog.=) OLD.organization_id AND r.is_system;
    IF OLD.role_id IS DISTINCT FROM owner_role
       OR (TG_OP = 'UPDATE' AND NEW.role_id = OLD.role_id AND NEW.organization_id = OLD.organization_id) THEN
        RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    UPDATE tenancy.organizations AS o SET ownership_version = o.ownership_version + 1
     WHERE o.id OPERATOR(pg_catalog.=) OLD.organization_id;
    IF FOUND THEN -- not found: the organization itself is being deleted
        SELECT pg_catalog.count(*) INTO others FROM tenancy.memberships AS m
         WHERE m.organization_id OPERATOR(pg_catalog.=) OLD.organization_id
           AND m.role_id OPERATOR(pg_catalog.=) owner_role AND m.id OPERATOR(pg_catalog.<>) OLD.id;
        IF others = 0 THEN
            RAISE EXCEPTION 'an organization must keep at least one owner'
                USING ERRCODE = '23514', HINT = 'Transfer ownership to another member first.';
        END IF;
    END IF;
    RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END
$$;
CREATE TRIGGER memberships_keep_an_owner
    BEFORE UPDATE OR DELETE ON tenancy.memberships
    FOR EACH ROW EXECUTE FUNCTION tenancy.keep_an_owner();

-- Roles ---------------------------------------------------------------------

CREATE FUNCTION tenancy.create_role(code text, name text, permissions jsonb) RETURNS uuid
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
        RAISE EXCEPTION 'invalid role code "%"', code
            USING ERRCODE = '22023', HINT = 'Use a lower-case letter followed by up to 62 of [a-z0-9_-].';
    END IF;
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
        RAISE EXCEPTION 'a role "%" already exists in this organization', code USING ERRCODE = '23505';
    END;
    PERFORM tenancy.record(me.organization_id, 'role.created',
                           pg_catalog.jsonb_build_object('role', code, 'permissions', permissions));
    RETURN new_id;
END
$$;
COMMENT ON FUNCTION tenancy.create_role(text, text, jsonb) IS
    'Create a role in the current organization (needs roles.manage and every permission it grants)';

CREATE FUNCTION tenancy.update_role(code text, name text DEFAULT NULL, permissions jsonb DEFAULT NULL) RETURNS void
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
COMMENT ON FUNCTION tenancy.update_role(text, text, jsonb) IS
    'Rename a role or change its permissions (NULL keeps the current value)';

CREATE FUNCTION tenancy.delete_role(code text, reassign_to text DEFAULT NULL) RETURNS void
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    me tenancy.caller := tenancy.authorize('roles.manage');
    target tenancy.roles;
    replacement uuid;
    members bigint;
BEGIN
    SELECT r.* INTO target FROM tenancy.roles AS r WHERE r.id = tenancy.role_id(me.organization_id, delete_role.code) FOR UPDATE;
    IF target.is_system THEN
        RAISE EXCEPTION 'the system role "%" cannot be deleted', code USING ERRCODE = '42501';
    END IF;
    IF NOT tenancy.permissions_cover(me.permissions, tenancy.permission_array(target.permissions)) THEN
        RAISE EXCEPTION 'you cannot delete a role with permissions you do not hold' USING ERRCODE = '42501';
    END IF;
    SELECT pg_catalog.count(*) INTO members FROM tenancy.memberships AS m WHERE m.role_id = target.id;
    IF members > 0 THEN
        IF reassign_to IS NULL THEN
            RAISE EXCEPTION 'role "%" is assigned to % member(s)', code, members
                USING ERRCODE = '2BP01', HINT = 'Pass reassign_to => ''<role code>'' to move them first.';
        END IF;
        replacement := tenancy.role_id(me.organization_id, reassign_to);
        IF replacement = target.id THEN
            RAISE EXCEPTION 'cannot reassign members to the role being deleted' USING ERRCODE = '22023';
        END IF;
        PERFORM tenancy.require_grantable(me, replacement);
        UPDATE tenancy.memberships AS m SET role_id = replacement WHERE m.role_id = target.id;
    END IF;
    -- Pending invitations for this role can no longer be accepted.
    DELETE FROM tenancy.invitations AS i WHERE i.role_id = target.id;
    DELETE FROM tenancy.roles AS r WHERE r.id = target.id;
    PERFORM tenancy.record(me.organization_id, 'role.deleted',
                           pg_catalog.jsonb_build_object('role', code, 'reassigned_to', reassign_to,
                                                         'members_moved', members));
END
$$;
COMMENT ON FUNCTION tenancy.delete_role(text, text) IS
    'Delete a role; members holding it must be moved with reassign_to';

CREATE FUNCTION tenancy.list_roles()
    RETURNS TABLE (code text, name text, permissions jsonb, is_system boolean, members bigint)
    LANGUAGE plpgsql STABLE
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    me tenancy.caller := tenancy.authorize('roles.read', for_change => false);
BEGIN
    RETURN QUERY
    SELECT r.code, r.name, r.permissions, r.is_system,
           (SELECT pg_catalog.count(*) FROM tenancy.memberships AS m WHERE m.role_id = r.id)
      FROM tenancy.roles AS r
     WHERE r.organization_id = me.organization_id
     ORDER BY r.is_system DESC, r.code;
END
$$;
COMMENT ON FUNCTION tenancy.list_roles() IS 'Roles of the current organization (needs roles.read)';

-- Members -------------------------------------------------------------------

CREATE FUNCTION tenancy.membership_of(organization_id uuid, user_id uuid) RETURNS tenancy.memberships
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    found_row tenancy.memberships;
BEGIN
    SELECT m.* INTO found_row FROM tenancy.memberships AS m
     WHERE m.organization_id = membership_of.organization_id AND m.user_id = membership_of.user_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'that user is not a member of this organization' USING ERRCODE = '42704';
    END IF;
    RETURN found_row;
END
$$;
REVOKE ALL ON FUNCTION tenancy.membership_of(uuid, uuid) FROM PUBLIC;

-- A member who leaves or is removed cannot walk back in on an older invitation.
CREATE FUNCTION tenancy.revoke_invitations_for(organization_id uuid, user_id uuid) RETURNS void
    LANGUAGE sql
    SET search_path = pg_catalog, pg_temp
AS $$
    UPDATE tenancy.invitations AS i SET revoked_at = pg_catalog.now()
      FROM tenancy.users AS u
     WHERE u.id OPERATOR(pg_catalog.=) revoke_invitations_for.user_id
       AND i.organization_id OPERATOR(pg_catalog.=) revoke_invitations_for.organization_id
       AND pg_catalog.lower(i.email) OPERATOR(pg_catalog.=) pg_catalog.lower(u.email)
       AND i.accepted_at IS NULL AND i.revoked_at IS NULL
$$;
REVOKE ALL ON FUNCTION tenancy.revoke_invitations_for(uuid, uuid) FROM PUBLIC;

CREATE FUNCTION tenancy.list_members()
    RETURNS TABLE (user_id uuid, code text, email text, role_code text, is_owner boolean, joined_at timestamptz)
    LANGUAGE plpgsql STABLE
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    me tenancy.caller := tenancy.authorize('members.read', for_change => false);
BEGIN
    RETURN QUERY
    SELECT u.id, u.code, u.email, r.code, r.is_system, m.created_at
      FROM tenancy.memberships AS m
      JOIN tenancy.users AS u ON u.id = m.user_id
      JOIN tenancy.roles AS r ON r.id = m.role_id
     WHERE m.organization_id = me.organization_id
     ORDER BY r.is_system DESC, u.code;
END
$$;
COMMENT ON FUNCTION tenancy.list_members() IS 'Members of the current organization (needs members.read)';

CREATE FUNCTION tenancy.set_member_role(user_id uuid, role_code text) RETURNS void
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    me tenancy.caller := tenancy.authorize('members.manage');
    member tenancy.memberships := tenancy.membership_of(me.organization_id, user_id);
    new_role uuid := tenancy.role_id(me.organization_id, role_code);
BEGIN
    IF (SELECT r.is_system FROM tenancy.roles AS r WHERE r.id = member.role_id) AND NOT me.is_owner THEN
        RAISE EXCEPTION 'only an owner can change an owner''s role' USING ERRCODE = '42501';
    END IF;
    PERFORM tenancy.require_grantable(me, new_role);
    IF tenancy.permissions_cover(me.permissions,
             tenancy.permission_array((SELECT r.permissions FROM tenancy.roles AS r
                                       WHERE r.id = member.role_id))) IS NOT TRUE THEN
        RAISE EXCEPTION 'you cannot change the role of a member who holds permissions you do not'
            USING ERRCODE = '42501';
    END IF;
    UPDATE tenancy.memberships AS m SET role_id = new_role WHERE m.id = member.id;
    PERFORM tenancy.record(me.organization_id, 'member.role_changed',
                           pg_catalog.jsonb_build_object('user', user_id, 'role', role_code));
END
$$;
COMMENT ON FUNCTION tenancy.set_member_role(uuid, text) IS
    'Give a member another role (needs members.manage; owners only for the owner role)';

CREATE FUNCTION tenancy.remove_member(user_id uuid) RETURNS void
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    me tenancy.caller := tenancy.authorize('members.manage');
    member tenancy.memberships := tenancy.membership_of(me.organization_id, user_id);
BEGIN
    IF member.user_id = me.user_id THEN
        RAISE EXCEPTION 'use tenancy.leave_organization() to leave' USING ERRCODE = '22023';
    END IF;
    IF (SELECT r.is_system FROM tenancy.roles AS r WHERE r.id = member.role_id) AND NOT me.is_owner THEN
        RAISE EXCEPTION 'only an owner can remove an owner' USING ERRCODE = '42501';
    END IF;
    IF tenancy.permissions_cover(me.permissions,
             tenancy.permission_array((SELECT r.permissions FROM tenancy.roles AS r
                                       WHERE r.id = member.role_id))) IS NOT TRUE THEN
        RAISE EXCEPTION 'you cannot remove a member who holds permissions you do not' USING ERRCODE = '42501';
    END IF;
    DELETE FROM tenancy.memberships AS m WHERE m.id = member.id;
    PERFORM tenancy.revoke_invitations_for(me.organization_id, member.user_id);
    PERFORM tenancy.record(me.organization_id, 'member.removed', pg_catalog.jsonb_build_object('user', user_id));
END
$$;
COMMENT ON FUNCTION tenancy.remove_member(uuid) IS 'Remove a member (needs members.manage; owners only for owners)';

CREATE FUNCTION tenancy.leave_organization() RETURNS void
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    me tenancy.caller := tenancy.authorize(NULL);
BEGIN
    DELETE FROM tenancy.memberships AS m WHERE m.organization_id = me.organization_id AND m.user_id = me.user_id;
    PERFORM tenancy.revoke_invitations_for(me.organization_id, me.user_id);
    PERFORM tenancy.record(me.organization_id, 'member.left', pg_catalog.jsonb_build_object('user', me.user_id));
END
$$;
COMMENT ON FUNCTION tenancy.leave_organization() IS 'Leave the current organization (its last owner cannot)';

CREATE FUNCTION tenancy.transfer_ownership(new_owner uuid, my_new_role text) RETURNS void
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    me tenancy.caller := tenancy.authorize(NULL);
    target tenancy.memberships;
    owner_role uuid;
    demoted_to uuid;
BEGIN
    IF NOT me.is_owner THEN
        RAISE EXCEPTION 'only an owner can transfer ownership' USING ERRCODE = '42501';
    END IF;
    IF new_owner IS NULL OR my_new_role IS NULL THEN
        RAISE EXCEPTION 'tenancy.transfer_ownership() needs the new owner and your new role' USING ERRCODE = '22004';
    END IF;
    IF new_owner = me.user_id THEN
        RAISE EXCEPTION 'you already own this organization' USING ERRCODE = '22023';
    END IF;
    target := tenancy.membership_of(me.organization_id, new_owner);
    owner_role := me.role_id;
    demoted_to := tenancy.role_id(me.organization_id, my_new_role);
    IF demoted_to = owner_role THEN
        RAISE EXCEPTION 'your new role must not be the owner role' USING ERRCODE = '22023',
            HINT = 'To share ownership instead, use tenancy.set_member_role(user, ''owner'').';
    END IF;
    -- Promote first, so the organization is never without an owner.
    UPDATE tenancy.memberships AS m SET role_id = owner_role WHERE m.id = target.id;
    UPDATE tenancy.memberships AS m SET role_id = demoted_to
     WHERE m.organization_id = me.organization_id AND m.user_id = me.user_id;
    PERFORM tenancy.record(me.organization_id, 'ownership.transferred',
                           pg_catalog.jsonb_build_object('from', me.user_id, 'to', new_owner,
                                                         'previous_owner_role', my_new_role));
END
$$;
COMMENT ON FUNCTION tenancy.transfer_ownership(uuid, text) IS
    'Make another member the owner and take another role yourself (owners only)';

-- Invitations ---------------------------------------------------------------

CREATE FUNCTION tenancy.invite(email text, role_code text, ttl interval DEFAULT '7 days') RETURNS text
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    me tenancy.caller := tenancy.authorize('members.invite');
    invited_role uuid := tenancy.role_id(me.organization_id, role_code);
    token text;
    invitation_id uuid;
BEGIN
    IF tenancy.is_valid_email(email) IS NOT TRUE THEN
        RAISE EXCEPTION 'invalid email address' USING ERRCODE = '22023';
    END IF;
    IF ttl IS NULL OR ttl < interval '1 minute' OR ttl > interval '30 days' THEN
        RAISE EXCEPTION 'an invitation must last between 1 minute and 30 days' USING ERRCODE = '22023';
    END IF;
    PERFORM tenancy.require_grantable(me, invited_role);
    token := tenancy.new_secret_token();
    INSERT INTO tenancy.invitations (organization_id, email, role_id, token_hash, invited_by, expires_at)
    VALUES (me.organization_id, email, invited_role, pg_catalog.sha256(pg_catalog.convert_to(token, 'UTF8')),
            me.user_id, pg_catalog.now() + ttl)
    RETURNING id INTO invitation_id;
    PERFORM tenancy.record(me.organization_id, 'invitation.created',
                           pg_catalog.jsonb_build_object('invitation', invitation_id, 'email', email, 'role', role_code,
                                                         'expires_at', pg_catalog.now() + ttl));
    RETURN token; -- shown once; only its SHA-256 is stored
END
$$;
COMMENT ON FUNCTION tenancy.invite(text, text, interval) IS
    'Invite an email address with a role; returns the token once (needs members.invite and the role''s permissions)';

CREATE FUNCTION tenancy.accept_invitation(token text) RETURNS uuid
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
    IF NOT FOUND OR invitation.accepted_at IS NOT NULL OR invitation.revoked_at IS NOT NULL
       OR invitation.expires_at <= pg_catalog.now()
       OR pg_catalog.lower(invitation.email) IS DISTINCT FROM pg_catalog.lower(my_email) THEN
        RAISE EXCEPTION 'this invitation is not valid'
            USING ERRCODE = '22023', HINT = 'Ask the organization for a new invitation.';
    END IF;
    -- The role is checked again now: the inviter must still be a member holding
    -- everything it grants (and still an owner, for the owner role).
    SELECT r.is_system, tenancy.permission_array(r.permissions)
      INTO role_is_system, role_permissions FROM tenancy.roles AS r WHERE r.id = invitation.role_id;
    SELECT m.organization_id, m.user_id, m.role_id, r.is_system,
           tenancy.permission_array(r.permissions)
      INTO inviter
      FROM tenancy.memberships AS m JOIN tenancy.roles AS r ON r.id = m.role_id
     WHERE m.organization_id = invitation.organization_id AND m.user_id = invitation.invited_by;
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
    UPDATE tenancy.invitations AS i SET accepted_at = pg_catalog.now(), accepted_by = me WHERE i.id = invitation.id;
    PERFORM tenancy.record(invitation.organization_id, 'invitation.accepted',
                           pg_catalog.jsonb_build_object('invitation', invitation.id, 'user', me));
    PERFORM tenancy.record(invitation.organization_id, 'member.added',
                           pg_catalog.jsonb_build_object('user', me, 'via', 'invitation'));
    RETURN invitation.organization_id;
END
$$;
COMMENT ON FUNCTION tenancy.accept_invitation(text) IS
    'In a user-only context: join the organization an invitation is for; returns its id';

CREATE FUNCTION tenancy.revoke_invitation(invitation_id uuid) RETURNS void
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    me tenancy.caller := tenancy.authorize('members.invite');
BEGIN
    UPDATE tenancy.invitations AS i SET revoked_at = pg_catalog.now()
     WHERE i.id = invitation_id AND i.organization_id = me.organization_id
       AND i.accepted_at IS NULL AND i.revoked_at IS NULL;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no pending invitation with that id in this organization' USING ERRCODE = '42704';
    END IF;
    PERFORM tenancy.record(me.organization_id, 'invitation.revoked',
                           pg_catalog.jsonb_build_object('invitation', invitation_id));
END
$$;
COMMENT ON FUNCTION tenancy.revoke_invitation(uuid) IS 'Revoke a pending invitation (needs members.invite)';

CREATE FUNCTION tenancy.list_invitations()
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
                WHEN i.expires_at <= pg_catalog.now() THEN 'expired'
                ELSE 'pending' END
      FROM tenancy.invitations AS i JOIN tenancy.roles AS r ON r.id = i.role_id
     WHERE i.organization_id = me.organization_id
     ORDER BY i.created_at DESC, i.id;
END
$$;
COMMENT ON FUNCTION tenancy.list_invitations() IS
    'Invitations of the current organization, never their tokens or hashes (needs members.read)';

-- For connection pools: fails unless the current transaction still has the
-- context it entered (a COMMIT or ROLLBACK sent mid-way would have ended both).
CREATE FUNCTION tenancy.require_context() RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF tenancy.context() IS NULL THEN
        RAISE EXCEPTION 'no tenant context is active: the transaction ended or left its context early'
            USING ERRCODE = '42501';
    END IF;
END
$$;
COMMENT ON FUNCTION tenancy.require_context() IS
    'Raise SQLSTATE 42501 unless a tenant context is active (sent by the engine just before COMMIT)';
