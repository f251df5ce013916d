-- ---------------------------------------------------------------------------
-- The policies tenancy.protect() (30_protect.sql) puts on a table: how a table
-- is protected, the names of pg_tenancy's policies and guards, and the
-- policies themselves.
-- ---------------------------------------------------------------------------

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
