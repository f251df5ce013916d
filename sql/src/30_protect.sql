-- ---------------------------------------------------------------------------
-- One call to protect a table.
-- ---------------------------------------------------------------------------

CREATE FUNCTION tenancy.reject_org_change() RETURNS trigger
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
COMMENT ON FUNCTION tenancy.reject_org_change() IS
    'Trigger installed by tenancy.protect(): the organization column of a row never changes';

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
            RAISE EXCEPTION 'invalid permission "%"', tenancy.echo_safe(permission)
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
-- Event triggers fire without EXECUTE (reject_org_change() keeps it: CREATE
-- TRIGGER, run by protect() as the table owner, needs it).
REVOKE ALL ON FUNCTION tenancy.protect_new_children() FROM PUBLIC;
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

CREATE VIEW tenancy.protected_tables WITH (security_invoker = true) AS
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
COMMENT ON VIEW tenancy.protected_tables IS 'Tables (and partitions) carrying pg_tenancy''s tenant policy';
GRANT SELECT ON tenancy.protected_tables TO PUBLIC;
