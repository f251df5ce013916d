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
    'True if every wanted permission is covered by a granted one ("*", "resource.*" or an exact match); '
    'at most 1000 permissions of at most 256 bytes per array';
REVOKE ALL ON FUNCTION tenancy.permissions_cover(text[], text[]) FROM PUBLIC;

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
        RAISE EXCEPTION 'invalid permission "%"', tenancy.echo_safe(code)
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

-- Permissions in a role that the vocabulary does not know. Executable by
-- PUBLIC (protect() and create_role() call it with the caller's rights), so the
-- input is bounded like a role's (1000) and matched by index or hash lookups,
-- not each element against the whole vocabulary.
CREATE FUNCTION tenancy.unknown_permissions(permissions jsonb) RETURNS text[]
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

-- A role holds at most 1000 permissions (tenancy.permissions_cover()'s limit).
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

-- The audit log: one row per change to who may do what, tenant-scoped.
CREATE TABLE tenancy.audit_log (
    -- Random, not a sequence: a global counter would let any organization count
    -- the others' activity between two of its own events. Order by created_at, id.
    id              uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
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
CREATE INDEX audit_log_organization_id_idx ON tenancy.audit_log (organization_id, created_at, id);
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
REVOKE ALL ON FUNCTION tenancy.forbid_audit_change() FROM PUBLIC;
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
REVOKE ALL ON FUNCTION tenancy.require_grantable(tenancy.caller, uuid) FROM PUBLIC;

-- A NULL code is missing input (22004); a huge code is not echoed back whole into
-- the error and the server log (tenancy.echo_safe()).
CREATE FUNCTION tenancy.role_id(organization_id uuid, code text) RETURNS uuid
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
REVOKE ALL ON FUNCTION tenancy.role_id(uuid, text) FROM PUBLIC;
