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
