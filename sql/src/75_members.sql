-- Members -------------------------------------------------------------------

-- A NULL user id is missing input (22004), not "not a member".
CREATE FUNCTION tenancy.membership_of(organization_id uuid, user_id uuid) RETURNS tenancy.memberships
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    found_row tenancy.memberships;
BEGIN
    IF user_id IS NULL THEN
        RAISE EXCEPTION 'a user id is required' USING ERRCODE = '22004', HINT = 'See tenancy.list_members().';
    END IF;
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
