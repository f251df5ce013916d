-- ---------------------------------------------------------------------------
-- The registry of protected tables (issue 14), written by tenancy.protect() and
-- tenancy.unprotect() (30_protect.sql) and read by the audit and the probe.
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
