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
