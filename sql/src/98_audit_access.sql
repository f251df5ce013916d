-- ---------------------------------------------------------------------------
-- Who may run the audit: tenancy_auditor (GRANT tenancy_auditor TO dba).
--
-- Roles are cluster-wide and outlive the extension: the role is created only if
-- absent and never dropped, so DROP EXTENSION / CREATE EXTENSION in any database
-- of the cluster reuses it. It gets exactly what tenancy.audit() and `tenancy
-- audit` need: EXECUTE on audit() and every helper it calls (they run as the
-- caller), pg_read_all_settings (shared_preload_libraries and the logging
-- settings are hidden from other roles) and pg_read_all_stats (T508 reads other
-- roles' statement texts). probe() stays superuser-only.
-- ---------------------------------------------------------------------------

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
    tenancy.audit_statement_texts(),
    tenancy.keyring_fingerprint()
    TO tenancy_auditor;

-- The probe does not pay JIT either (see tenancy.audit()).
ALTER FUNCTION tenancy.probe(pg_catalog.regrole) SET jit = off;
