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
REVOKE ALL ON FUNCTION tenancy.announce_membership_change() FROM PUBLIC;
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

-- The two checks a pool runs at every commit are C without a SET clause, for
-- speed: they read the backend's own state and resolve no name through
-- search_path (the temporary-object queries are schema-qualified).
CREATE FUNCTION tenancy.assert_session_clean() RETURNS void
    AS 'MODULE_PATHNAME', 'tenancy_assert_session_clean'
    LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION tenancy.assert_session_clean() IS
    'Raise SQLSTATE 55T01 if tenancy.session_leftovers() is not empty';

-- For connection pools: fails unless the current transaction still has the
-- context it entered (a COMMIT or ROLLBACK sent mid-way would have ended both).
CREATE FUNCTION tenancy.require_context() RETURNS void
    AS 'MODULE_PATHNAME', 'tenancy_require_context'
    LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION tenancy.require_context() IS
    'Raise SQLSTATE 42T02 unless a tenant context is active (sent by the engine just before COMMIT)';
