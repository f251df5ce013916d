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
    issued_at timestamptz := pg_catalog.statement_timestamp();
    expiry timestamptz;
BEGIN
    IF tenancy.is_valid_email(email) IS NOT TRUE THEN
        RAISE EXCEPTION 'invalid email address' USING ERRCODE = '22023';
    END IF;
    -- Compared as the timestamps they give, not by interval parts (which would let
    -- '1000 years -359970 days' pass as shorter than 30 days).
    BEGIN
        expiry := issued_at OPERATOR(pg_catalog.+) ttl;
    EXCEPTION WHEN datetime_field_overflow THEN -- beyond the timestamp range
        expiry := NULL;
    END;
    IF expiry IS NULL OR NOT pg_catalog.isfinite(expiry)
       OR expiry < issued_at OPERATOR(pg_catalog.+) interval '1 minute'
       OR expiry > issued_at OPERATOR(pg_catalog.+) interval '30 days' THEN
        RAISE EXCEPTION 'an invitation must last between 1 minute and 30 days' USING ERRCODE = '22023';
    END IF;
    PERFORM tenancy.require_grantable(me, invited_role);
    token := tenancy.new_secret_token();
    INSERT INTO tenancy.invitations (organization_id, email, role_id, token_hash, invited_by, expires_at)
    VALUES (me.organization_id, email, invited_role, pg_catalog.sha256(pg_catalog.convert_to(token, 'UTF8')),
            me.user_id, expiry)
    RETURNING id INTO invitation_id;
    PERFORM tenancy.record(me.organization_id, 'invitation.created',
                           pg_catalog.jsonb_build_object('invitation', invitation_id, 'email', email, 'role', role_code,
                                                         'expires_at', expiry));
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
        -- kWrongContextKind (token/include/pg_tenancy/token/sqlstates.hpp)
        RAISE EXCEPTION 'tenancy.accept_invitation() needs a user-only context'
            USING ERRCODE = '42T04', HINT = 'Enter a context token minted without an organization.';
    END IF;
    me := (ctx OPERATOR(pg_catalog.->>) 'user')::uuid;
    SELECT u.email INTO my_email FROM tenancy.users AS u WHERE u.id = me;
    SELECT i.* INTO invitation FROM tenancy.invitations AS i
     WHERE i.token_hash = pg_catalog.sha256(pg_catalog.convert_to(coalesce(token, ''), 'UTF8'))
       FOR UPDATE;
    -- Unknown, expired, revoked, used and someone else's: one answer for all.
    -- Expiry against the clock, not the transaction's start; addresses compared
    -- as tenancy.normalize_email() sees them.
    IF NOT FOUND OR invitation.accepted_at IS NOT NULL OR invitation.revoked_at IS NOT NULL
       OR invitation.expires_at <= pg_catalog.clock_timestamp()
       OR tenancy.normalize_email(invitation.email) IS DISTINCT FROM tenancy.normalize_email(my_email) THEN
        -- kInvitationInvalid (token/include/pg_tenancy/token/sqlstates.hpp)
        RAISE EXCEPTION 'this invitation is not valid'
            USING ERRCODE = '22T01', HINT = 'Ask the organization for a new invitation.';
    END IF;
    -- The role is checked again now: the inviter must still be a member holding
    -- everything it grants (and still an owner, for the owner role). The rows are
    -- locked, so a concurrent removal or demotion of the inviter, or an edit of
    -- either role, blocks this until it ends and is then seen (READ COMMITTED),
    -- or fails it with a serialization error (REPEATABLE READ and above).
    SELECT r.is_system, tenancy.permission_array(r.permissions)
      INTO role_is_system, role_permissions FROM tenancy.roles AS r WHERE r.id = invitation.role_id
       FOR SHARE;
    SELECT m.organization_id, m.user_id, m.role_id, r.is_system,
           tenancy.permission_array(r.permissions)
      INTO inviter
      FROM tenancy.memberships AS m JOIN tenancy.roles AS r ON r.id = m.role_id
     WHERE m.organization_id = invitation.organization_id AND m.user_id = invitation.invited_by
       FOR SHARE;
    IF inviter.user_id IS NULL
       OR tenancy.permissions_cover(inviter.permissions, role_permissions) IS NOT TRUE
       OR tenancy.permissions_cover(inviter.permissions, ARRAY['members.invite']) IS NOT TRUE
       OR (role_is_system AND inviter.is_owner IS NOT TRUE) THEN
        -- kInvitationInvalid (token/include/pg_tenancy/token/sqlstates.hpp)
        RAISE EXCEPTION 'this invitation is not valid'
            USING ERRCODE = '22T01', HINT = 'Ask the organization for a new invitation.';
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
    UPDATE tenancy.invitations AS i SET accepted_at = pg_catalog.clock_timestamp(), accepted_by = me
     WHERE i.id = invitation.id;
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
    UPDATE tenancy.invitations AS i SET revoked_at = pg_catalog.clock_timestamp()
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
                WHEN i.expires_at <= pg_catalog.clock_timestamp() THEN 'expired'
                ELSE 'pending' END
      FROM tenancy.invitations AS i JOIN tenancy.roles AS r ON r.id = i.role_id
     WHERE i.organization_id = me.organization_id
     ORDER BY i.created_at DESC, i.id;
END
$$;
COMMENT ON FUNCTION tenancy.list_invitations() IS
    'Invitations of the current organization, never their tokens or hashes (needs members.read)';
