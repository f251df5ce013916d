-- pg_tenancy 0.2.0 -> 0.3.0.
--
-- The rule: sql/src/*.sql hold the final form of every object and are built into
-- the 0.3.0 install script; this script is written by hand and makes exactly the
-- same changes to a 0.2.0 database. Every change to sql/src in this release is
-- mirrored here (CREATE OR REPLACE FUNCTION with the new body, ALTER TABLE, new
-- objects with their REVOKEs and COMMENTs, ...), in the same words, so that an
-- upgraded database and a fresh install are identical. tests/cluster/
-- upgrade_matches_fresh.sh compares their catalogs (function bodies and
-- settings, tables, constraints, indexes, ACLs, policies, triggers, comments,
-- types) and fails on any difference. Once 0.3.0 is released this file is frozen.
--
-- 0.3.0 so far: sql/src replaces the 0.1.0 install script plus the 0.1.0--0.2.0
-- upgrade as the source of the install script; the objects are unchanged.
-- External identities (sql/src/45_identities.sql): tenancy.user_identities and
-- tenancy.link_identity(), unlink_identity(), resolve_identity(); the audit's rule
-- T207 (sql/src/92_audit_roles.sql) also watches tenancy.user_identities.
\echo Use "ALTER EXTENSION pg_tenancy UPDATE TO '0.3.0'" to load this file. \quit

-- enter(): no SECURITY DEFINER and no SET clause (see sql/src/20_context.sql).
ALTER FUNCTION tenancy.enter(text) SECURITY INVOKER RESET ALL;

-- The commit-time checks in C (see sql/src/50_engine_support.sql).
CREATE OR REPLACE FUNCTION tenancy.assert_session_clean() RETURNS void
    AS 'MODULE_PATHNAME', 'tenancy_assert_session_clean'
    LANGUAGE C VOLATILE PARALLEL UNSAFE;
CREATE OR REPLACE FUNCTION tenancy.require_context() RETURNS void
    AS 'MODULE_PATHNAME', 'tenancy_require_context'
    LANGUAGE C VOLATILE PARALLEL UNSAFE;

-- ---------------------------------------------------------------------------
-- External identities: an identity provider's (issuer, subject) linked to a
-- pg_tenancy user, so providers whose subjects are not pg_tenancy user ids
-- (Auth0's "auth0|abc", Keycloak's own uuids, Azure AD object ids) can sign
-- users in. The engine resolves a verified bearer token's issuer and subject
-- with tenancy.resolve_identity() (identity_subject_mapping = linked). All three
-- functions are for the engine's privileged role only: grant them explicitly.
-- ---------------------------------------------------------------------------

CREATE TABLE tenancy.user_identities (
    issuer      text NOT NULL
                CONSTRAINT user_identities_issuer_length CHECK (pg_catalog.octet_length(issuer) BETWEEN 1 AND 2048),
    subject     text NOT NULL
                CONSTRAINT user_identities_subject_length CHECK (pg_catalog.octet_length(subject) BETWEEN 1 AND 255),
    user_id     uuid NOT NULL REFERENCES tenancy.users (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT user_identities_pkey PRIMARY KEY (issuer, subject)
);
CREATE INDEX user_identities_user_id_idx ON tenancy.user_identities (user_id);
COMMENT ON TABLE tenancy.user_identities IS
    'Identity-provider subjects (issuer, subject) linked to pg_tenancy users; one user may have several';
SELECT pg_catalog.pg_extension_config_dump('tenancy.user_identities', '');
REVOKE ALL ON TABLE tenancy.user_identities FROM PUBLIC;

CREATE FUNCTION tenancy.link_identity(user_id uuid, issuer text, subject text) RETURNS void
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF link_identity.user_id IS NULL OR link_identity.issuer IS NULL OR link_identity.subject IS NULL THEN
        RAISE EXCEPTION 'tenancy.link_identity() needs a user id, an issuer and a subject' USING ERRCODE = '22004';
    END IF;
    IF pg_catalog.octet_length(link_identity.issuer) NOT BETWEEN 1 AND 2048
       OR pg_catalog.octet_length(link_identity.subject) NOT BETWEEN 1 AND 255 THEN
        RAISE EXCEPTION 'invalid issuer or subject'
            USING ERRCODE = '22023',
                  HINT = 'Give the token''s iss claim (1 to 2048 bytes) and its user claim (1 to 255 bytes) exactly.';
    END IF;
    IF NOT EXISTS (SELECT FROM tenancy.users AS u WHERE u.id OPERATOR(pg_catalog.=) link_identity.user_id) THEN
        RAISE EXCEPTION 'no such user' USING ERRCODE = '22023',
            HINT = 'Register the user first (tenancy.register_user()).';
    END IF;
    INSERT INTO tenancy.user_identities AS i (issuer, subject, user_id)
        VALUES (link_identity.issuer, link_identity.subject, link_identity.user_id)
        ON CONFLICT ON CONSTRAINT user_identities_pkey DO NOTHING;
    IF NOT EXISTS (SELECT FROM tenancy.user_identities AS i
                    WHERE i.issuer OPERATOR(pg_catalog.=) link_identity.issuer
                      AND i.subject OPERATOR(pg_catalog.=) link_identity.subject
                      AND i.user_id OPERATOR(pg_catalog.=) link_identity.user_id) THEN
        RAISE EXCEPTION 'this identity is already linked to another user'
            USING ERRCODE = '23505',
                  HINT = 'Unlink it first (tenancy.unlink_identity()) if it really changed hands.';
    END IF;
END
$$;
REVOKE ALL ON FUNCTION tenancy.link_identity(uuid, text, text) FROM PUBLIC;
COMMENT ON FUNCTION tenancy.link_identity(uuid, text, text) IS
    'Link an identity provider''s (issuer, subject) to a user; linking the same pair again is a no-op '
    '(for the engine''s privileged role only)';

CREATE FUNCTION tenancy.unlink_identity(issuer text, subject text) RETURNS boolean
    LANGUAGE sql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    WITH gone AS (
        DELETE FROM tenancy.user_identities AS i
         WHERE i.issuer OPERATOR(pg_catalog.=) unlink_identity.issuer
           AND i.subject OPERATOR(pg_catalog.=) unlink_identity.subject
        RETURNING 1
    )
    SELECT EXISTS (SELECT FROM gone)
$$;
REVOKE ALL ON FUNCTION tenancy.unlink_identity(text, text) FROM PUBLIC;
COMMENT ON FUNCTION tenancy.unlink_identity(text, text) IS
    'Remove the link of an identity provider''s (issuer, subject); true if there was one '
    '(for the engine''s privileged role only)';

CREATE FUNCTION tenancy.resolve_identity(issuer text, subject text) RETURNS uuid
    LANGUAGE sql STABLE
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT i.user_id
      FROM tenancy.user_identities AS i
     WHERE i.issuer OPERATOR(pg_catalog.=) resolve_identity.issuer
       AND i.subject OPERATOR(pg_catalog.=) resolve_identity.subject
$$;
REVOKE ALL ON FUNCTION tenancy.resolve_identity(text, text) FROM PUBLIC;
COMMENT ON FUNCTION tenancy.resolve_identity(text, text) IS
    'The user linked to an identity provider''s (issuer, subject), or NULL (for the engine''s privileged role only)';

-- Rule T207 also covers tenancy.user_identities (sql/src/92_audit_roles.sql).
CREATE OR REPLACE FUNCTION tenancy.audit_roles(apps pg_catalog.oid[]) RETURNS SETOF tenancy.finding
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
AS $$
    WITH app AS (
        SELECT r.oid, r.rolname, r.rolsuper, r.rolbypassrls, r.rolcreaterole, r.rolcreatedb, r.rolreplication
          FROM pg_catalog.pg_roles AS r WHERE r.oid = ANY (apps)
    ),
    tenant AS (SELECT * FROM tenancy.tenant_relations() WHERE relkind IN ('r', 'p', 'm', 'f'))
    SELECT 'T201', 'critical'::tenancy.severity, pg_catalog.quote_ident(app.rolname),
           'the application role is a superuser: it bypasses every row-level security policy',
           pg_catalog.format('ALTER ROLE %I NOSUPERUSER;', app.rolname)
      FROM app WHERE app.rolsuper
    UNION ALL
    SELECT 'T202', 'critical'::tenancy.severity, pg_catalog.quote_ident(app.rolname),
           CASE WHEN r.oid = app.oid THEN 'the application role has BYPASSRLS'
                ELSE pg_catalog.format('the application role is a member of %I, which %s (SET ROLE reaches it '
                                       'even without INHERIT)', r.rolname,
                                       CASE WHEN r.rolsuper THEN 'is a superuser' ELSE 'has BYPASSRLS' END) END,
           CASE WHEN r.oid = app.oid THEN pg_catalog.format('ALTER ROLE %I NOBYPASSRLS;', app.rolname)
                ELSE pg_catalog.format('REVOKE %I FROM %I;', r.rolname, app.rolname) END
      FROM app JOIN pg_catalog.pg_roles AS r
        ON (r.rolsuper OR r.rolbypassrls) AND pg_catalog.pg_has_role(app.oid, r.oid, 'MEMBER')
     WHERE NOT app.rolsuper AND NOT (r.oid = app.oid AND r.rolsuper)
    UNION ALL
    SELECT 'T203', 'critical'::tenancy.severity, t.rel::text,
           CASE WHEN t.owner = app.oid THEN pg_catalog.format('owned by the application role %I itself', app.rolname)
                ELSE pg_catalog.format('owned by %s, a role the application role %I is a member of',
                                       t.owner::pg_catalog.regrole, app.rolname) END
             || ': the owner can disable or drop the policies, and bypasses them unless FORCE is set',
           pg_catalog.format('ALTER TABLE %s OWNER TO <a role the application cannot use>;', t.rel)
      FROM app JOIN tenant AS t ON pg_catalog.pg_has_role(app.oid, t.owner, 'MEMBER')
     WHERE NOT app.rolsuper
    UNION ALL
    SELECT 'T204', 'high'::tenancy.severity, t.rel::text,
           pg_catalog.format('%I holds %s, which row-level security does not cover', app.rolname,
                             pg_catalog.array_to_string(privs.list, ', ')),
           pg_catalog.format('REVOKE %s ON %s FROM %I;', pg_catalog.array_to_string(privs.list, ', '), t.rel,
                             app.rolname)
      FROM app JOIN tenant AS t ON t.relkind IN ('r', 'p')
      CROSS JOIN LATERAL (
          SELECT pg_catalog.array_agg(p ORDER BY p) AS list
            FROM pg_catalog.unnest(ARRAY['TRUNCATE', 'REFERENCES', 'TRIGGER']) AS p
           WHERE pg_catalog.has_table_privilege(app.oid, t.rel, p)) AS privs
     WHERE privs.list IS NOT NULL AND NOT pg_catalog.pg_has_role(app.oid, t.owner, 'MEMBER')
    UNION ALL
    SELECT 'T205', 'high'::tenancy.severity, pg_catalog.quote_ident(n.nspname),
           pg_catalog.format('%I can create objects in schema %I: functions, operators or tables there can '
                             'shadow what other code resolves through search_path', app.rolname, n.nspname),
           CASE WHEN pg_catalog.pg_has_role(app.oid, n.nspowner, 'MEMBER')
                THEN pg_catalog.format('ALTER SCHEMA %I OWNER TO <a role the application cannot use>;', n.nspname)
                ELSE pg_catalog.format('REVOKE CREATE ON SCHEMA %I FROM PUBLIC, %I;', n.nspname, app.rolname) END
      FROM app JOIN pg_catalog.pg_namespace AS n ON pg_catalog.has_schema_privilege(app.oid, n.oid, 'CREATE')
     WHERE NOT app.rolsuper AND n.nspname NOT LIKE 'pg_temp_%' AND n.nspname NOT LIKE 'pg_toast_temp_%'
    UNION ALL
    SELECT 'T205', 'high'::tenancy.severity, 'database ' || pg_catalog.quote_ident(pg_catalog.current_database()),
           pg_catalog.format('%I can create schemas in this database, and with them any object', app.rolname),
           pg_catalog.format('REVOKE CREATE ON DATABASE %I FROM PUBLIC, %I;', pg_catalog.current_database(),
                             app.rolname)
      FROM app
     WHERE NOT app.rolsuper AND pg_catalog.has_database_privilege(app.oid, pg_catalog.current_database(), 'CREATE')
    UNION ALL
    SELECT 'T206', 'high'::tenancy.severity, pg_catalog.quote_ident(app.rolname),
           pg_catalog.format('the application role has %s', attr.what), attr.fix
      FROM app CROSS JOIN LATERAL (
          SELECT 'CREATEROLE (it can grant itself other roles)',
                 pg_catalog.format('ALTER ROLE %I NOCREATEROLE;', app.rolname) WHERE app.rolcreaterole
          UNION ALL
          SELECT 'CREATEDB', pg_catalog.format('ALTER ROLE %I NOCREATEDB;', app.rolname) WHERE app.rolcreatedb
          UNION ALL
          SELECT 'REPLICATION (it can stream every tenant''s rows)',
                 pg_catalog.format('ALTER ROLE %I NOREPLICATION;', app.rolname) WHERE app.rolreplication
          UNION ALL
          SELECT pg_catalog.format('membership in %I', r.rolname), pg_catalog.format('REVOKE %I FROM %I;', r.rolname,
                                                                                    app.rolname)
            FROM pg_catalog.pg_roles AS r
           WHERE r.rolname IN ('pg_read_server_files', 'pg_write_server_files', 'pg_execute_server_program',
                               'pg_read_all_data', 'pg_write_all_data', 'pg_read_all_settings',
                               'pg_read_all_stats')
             AND pg_catalog.pg_has_role(app.oid, r.oid, 'MEMBER')
      ) AS attr(what, fix)
     WHERE NOT app.rolsuper
    UNION ALL
    SELECT 'T207', 'critical'::tenancy.severity, pg_catalog.format('tenancy.%I', c.relname),
           pg_catalog.format('%I can %s pg_tenancy''s own table directly, around the checks of its functions',
                             app.rolname, pg_catalog.lower(pg_catalog.array_to_string(privs.list, ', '))),
           pg_catalog.format('REVOKE ALL ON tenancy.%I FROM %I;', c.relname, app.rolname)
      FROM app JOIN pg_catalog.pg_class AS c
        ON c.relnamespace = 'tenancy'::pg_catalog.regnamespace
       AND c.relname IN ('users', 'organizations', 'roles', 'memberships', 'invitations', 'permissions', 'audit_log',
                        'user_identities')
      CROSS JOIN LATERAL (
          SELECT pg_catalog.array_agg(p ORDER BY p) AS list
            FROM pg_catalog.unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES',
                                         'TRIGGER']) AS p
           WHERE pg_catalog.has_table_privilege(app.oid, c.oid, p)
             -- granted to PUBLIC by the extension itself
             AND NOT (c.relname IN ('permissions', 'audit_log') AND p = 'SELECT')) AS privs
     WHERE privs.list IS NOT NULL AND NOT app.rolsuper
    UNION ALL
    SELECT 'T208', 'high'::tenancy.severity, p.oid::pg_catalog.regprocedure::text,
           pg_catalog.format('%I can execute this internal pg_tenancy function, which the extension keeps '
                             'from PUBLIC', app.rolname),
           pg_catalog.format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC, %I;', p.oid::pg_catalog.regprocedure,
                             app.rolname)
      FROM app JOIN pg_catalog.pg_proc AS p ON p.pronamespace = 'tenancy'::pg_catalog.regnamespace
      -- Internal: the privileges the extension script left (pg_init_privs) keep it
      -- from PUBLIC, whatever has been granted since (to PUBLIC included).
      JOIN pg_catalog.pg_init_privs AS ip
        ON ip.classoid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND ip.objoid = p.oid AND ip.privtype = 'e'
     WHERE NOT app.rolsuper
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.aclexplode(ip.initprivs) AS a
                        WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE')
       AND pg_catalog.has_function_privilege(app.oid, p.oid, 'EXECUTE')
       AND NOT pg_catalog.pg_has_role(app.oid, p.proowner, 'MEMBER')
    UNION ALL
    SELECT 'T209', 'info'::tenancy.severity, pg_catalog.quote_ident(app.rolname),
           'the application role may create temporary tables, which come first in search_path for tables '
           'and can shadow unqualified names in functions that do not pin search_path',
           pg_catalog.format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC; -- then GRANT it to roles that need it',
                             pg_catalog.current_database())
      FROM app
     WHERE NOT app.rolsuper AND pg_catalog.has_database_privilege(app.oid, pg_catalog.current_database(), 'TEMP')
    UNION ALL
    SELECT 'T210', 'medium'::tenancy.severity, s.seq::text,
           pg_catalog.format('%I can read the current value of the sequence behind %s, which tells how many '
                             'rows all tenants together created', app.rolname, s.rel),
           pg_catalog.format('REVOKE SELECT ON SEQUENCE %s FROM %I; GRANT USAGE ON SEQUENCE %s TO %I;', s.seq,
                             app.rolname, s.seq, app.rolname)
      FROM app JOIN (
          SELECT d.objid::pg_catalog.regclass AS seq, t.rel
            FROM tenant AS t JOIN pg_catalog.pg_depend AS d
              ON d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjid = t.rel
             AND d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.deptype IN ('a', 'i')
            JOIN pg_catalog.pg_class AS c ON c.oid = d.objid AND c.relkind = 'S'
      ) AS s ON pg_catalog.has_sequence_privilege(app.oid, s.seq, 'SELECT')
     WHERE NOT app.rolsuper AND NOT pg_catalog.pg_has_role(app.oid, (SELECT c.relowner FROM pg_catalog.pg_class AS c
                                                                      WHERE c.oid = s.seq), 'MEMBER')
    UNION ALL
    SELECT 'T211', 'medium'::tenancy.severity,
           pg_catalog.format('default privileges of %s%s', d.defaclrole::pg_catalog.regrole,
                             CASE WHEN d.defaclnamespace = 0 THEN ''
                                  ELSE ' in schema ' || d.defaclnamespace::pg_catalog.regnamespace::text END),
           pg_catalog.format('new tables are granted to %I the moment they are created, before anyone calls '
                             'tenancy.protect() on them', app.rolname),
           'Protect every new tenant table in the same migration that creates it (SELECT tenancy.protect(...)), '
           'and run tenancy.audit() in the deployment pipeline.'
      FROM app JOIN pg_catalog.pg_default_acl AS d ON d.defaclobjtype = 'r'
     WHERE NOT app.rolsuper
       AND EXISTS (SELECT 1 FROM pg_catalog.aclexplode(d.defaclacl) AS a
                    WHERE (a.grantee = 0 OR pg_catalog.pg_has_role(app.oid, a.grantee, 'MEMBER'))
                      AND a.privilege_type IN ('SELECT', 'INSERT', 'UPDATE', 'DELETE'))
$$;

-- Error codes (issue 13): pg_tenancy's own SQLSTATEs (token/include/pg_tenancy/token/sqlstates.hpp)
-- replace generic ones where a client must tell the condition apart; the probe's
-- private rollback codes move from class PT to TQ and it recognizes pg_tenancy's
-- refusals by SQLSTATE.

-- reject_org_change (see sql/src/30_protect.sql)
CREATE OR REPLACE FUNCTION tenancy.reject_org_change() RETURNS trigger
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

-- create_organization (see sql/src/40_users_organizations.sql)
CREATE OR REPLACE FUNCTION tenancy.create_organization(name text) RETURNS uuid
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    ctx jsonb := tenancy.context();
    creator uuid;
    org_id uuid;
    owner_role uuid;
BEGIN
    IF ctx IS NULL OR ctx OPERATOR(pg_catalog.->>) 'org' IS NOT NULL THEN
        RAISE EXCEPTION 'tenancy.create_organization() needs a user-only context'
            USING ERRCODE = '42T04', -- kWrongContextKind (token/include/pg_tenancy/token/sqlstates.hpp)
                  HINT = 'Enter a context token minted without an organization, then call it in that transaction.';
    END IF;
    IF name IS NULL OR pg_catalog.length(pg_catalog.btrim(name)) NOT BETWEEN 1 AND 200 THEN
        RAISE EXCEPTION 'organization name must be 1 to 200 characters' USING ERRCODE = '22023';
    END IF;
    creator := (ctx OPERATOR(pg_catalog.->>) 'user')::uuid;

    INSERT INTO tenancy.organizations (name, created_by) VALUES (pg_catalog.btrim(name), creator)
        RETURNING id INTO org_id;
    INSERT INTO tenancy.roles (organization_id, code, name, permissions, is_system, created_by)
        VALUES (org_id, 'owner', 'Owner', '["*"]', true, creator)
        RETURNING id INTO owner_role;
    INSERT INTO tenancy.memberships (organization_id, user_id, role_id) VALUES (org_id, creator, owner_role);
    PERFORM tenancy.record(org_id, 'organization.created', pg_catalog.jsonb_build_object('name', pg_catalog.btrim(name)));
    RETURN org_id;
END
$$;

-- authorize (see sql/src/60_authorization_audit_log.sql)
CREATE OR REPLACE FUNCTION tenancy.authorize(permission text, for_change boolean DEFAULT true) RETURNS tenancy.caller
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
    -- as a missing membership. Reads take no lock: they work in read-only
    -- transactions and on standbys.
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
    SELECT r.is_system, tenancy.permission_array(r.permissions)
      INTO me.is_owner, me.permissions
      FROM tenancy.roles AS r WHERE r.id OPERATOR(pg_catalog.=) me.role_id;
    IF permission IS NOT NULL AND tenancy.permissions_cover(me.permissions, ARRAY[permission]) IS NOT TRUE THEN
        -- kMissingPermission (token/include/pg_tenancy/token/sqlstates.hpp)
        RAISE EXCEPTION 'permission denied: this needs %', permission
            USING ERRCODE = '42T03', HINT = 'Ask an owner for a role that grants it.';
    END IF;
    RETURN me;
END
$$;

-- accept_invitation (see sql/src/80_invitations.sql)
CREATE OR REPLACE FUNCTION tenancy.accept_invitation(token text) RETURNS uuid
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
    IF NOT FOUND OR invitation.accepted_at IS NOT NULL OR invitation.revoked_at IS NOT NULL
       OR invitation.expires_at <= pg_catalog.now()
       OR pg_catalog.lower(invitation.email) IS DISTINCT FROM pg_catalog.lower(my_email) THEN
        -- kInvitationInvalid (token/include/pg_tenancy/token/sqlstates.hpp)
        RAISE EXCEPTION 'this invitation is not valid'
            USING ERRCODE = '22T01', HINT = 'Ask the organization for a new invitation.';
    END IF;
    -- The role is checked again now: the inviter must still be a member holding
    -- everything it grants (and still an owner, for the owner role).
    SELECT r.is_system, tenancy.permission_array(r.permissions)
      INTO role_is_system, role_permissions FROM tenancy.roles AS r WHERE r.id = invitation.role_id;
    SELECT m.organization_id, m.user_id, m.role_id, r.is_system,
           tenancy.permission_array(r.permissions)
      INTO inviter
      FROM tenancy.memberships AS m JOIN tenancy.roles AS r ON r.id = m.role_id
     WHERE m.organization_id = invitation.organization_id AND m.user_id = invitation.invited_by;
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
    UPDATE tenancy.invitations AS i SET accepted_at = pg_catalog.now(), accepted_by = me WHERE i.id = invitation.id;
    PERFORM tenancy.record(invitation.organization_id, 'invitation.accepted',
                           pg_catalog.jsonb_build_object('invitation', invitation.id, 'user', me));
    PERFORM tenancy.record(invitation.organization_id, 'member.added',
                           pg_catalog.jsonb_build_object('user', me, 'via', 'invitation'));
    RETURN invitation.organization_id;
END
$$;

-- probe_as (see sql/src/97_probe.sql)
CREATE OR REPLACE FUNCTION tenancy.probe_as(app_role pg_catalog.regrole, statement text, arg uuid,
                                 OUT touched bigint, OUT failure text)
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    -- PostgreSQL's own privilege refusals are told apart by message (below), so
    -- messages must not be translated.
    SET lc_messages = 'C'
AS $$
DECLARE
    n bigint;
BEGIN
    BEGIN
        n := tenancy.probe_run(app_role, statement, arg, false);
        -- kProbeStepRollback (token/include/pg_tenancy/token/sqlstates.hpp)
        RAISE EXCEPTION USING ERRCODE = 'TQ001', MESSAGE = 'pg_tenancy probe step rollback';
    EXCEPTION
        WHEN SQLSTATE 'TQ001' THEN
            touched := n;
        -- pg_tenancy's own refusals, by SQLSTATE (token/include/pg_tenancy/token/sqlstates.hpp):
        -- no tenant context, a context without an organization, a forged context,
        -- a row moved to another organization.
        WHEN SQLSTATE '42T02' OR SQLSTATE '42T04' OR SQLSTATE '42T05' OR SQLSTATE '42T06' THEN
            NULL;
        WHEN insufficient_privilege THEN
            -- PostgreSQL gives all its privilege refusals one SQLSTATE; only the
            -- relation-level ones and row-level security mean isolation held,
            -- so its own (untranslated) message is read.
            IF SQLERRM NOT LIKE 'new row violates row-level security policy%'
               AND SQLERRM NOT LIKE 'permission denied for table %'
               AND SQLERRM NOT LIKE 'permission denied for view %'
               AND SQLERRM NOT LIKE 'permission denied for materialized view %'
               AND SQLERRM NOT LIKE 'permission denied for foreign table %' THEN
                -- e.g. a sequence or column privilege: the application might still get through another way
                failure := SQLSTATE || ': ' || SQLERRM;
            END IF;
        WHEN OTHERS THEN
            failure := SQLSTATE || ': ' || SQLERRM;
    END;
END
$$;

-- probe (see sql/src/97_probe.sql)
CREATE OR REPLACE FUNCTION tenancy.probe(app_role pg_catalog.regrole) RETURNS SETOF tenancy.finding
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    findings tenancy.finding[] := '{}';
    tag text := pg_catalog.substr(pg_catalog.md5(pg_catalog.random()::text), 1, 12);
    user_a uuid := pg_catalog.gen_random_uuid();
    user_b uuid := pg_catalog.gen_random_uuid();
    org_a uuid := pg_catalog.gen_random_uuid();
    org_b uuid := pg_catalog.gen_random_uuid();
    role_a uuid := pg_catalog.gen_random_uuid();
    role_b uuid := pg_catalog.gen_random_uuid();
    rel record;
    seeded pg_catalog.regclass[] := '{}';
    unseeded jsonb := '{}';
    statement text;
    pass integer;
    checked integer := 0;
    n bigint;
    msg text;
    state text;
BEGIN
    IF app_role IS NULL THEN
        RAISE EXCEPTION 'tenancy.probe() needs the application role' USING ERRCODE = '22004',
            HINT = 'SELECT * FROM tenancy.probe(''my_app_role'');';
    END IF;
    -- A superuser session, not a SET ROLE to one: only such a session may run
    -- statements as other roles (tenancy.probe_run).
    IF NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles AS r WHERE r.rolname = SESSION_USER)
       OR NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles AS r WHERE r.rolname = CURRENT_USER) THEN
        RAISE EXCEPTION 'tenancy.probe() must be run by a superuser' USING ERRCODE = '42501',
            HINT = 'It creates synthetic organizations and runs checks as the application role; connect as a '
                   'superuser (not SET ROLE).';
    END IF;
    IF tenancy.context() IS NOT NULL THEN
        RAISE EXCEPTION 'tenancy.probe() cannot run inside a tenant context' USING ERRCODE = '25001',
            HINT = 'Run it in a transaction that has not called tenancy.enter().';
    END IF;
    -- Every step runs as the application role or a table's owner inside a
    -- security-restricted operation, so code those roles own runs with their
    -- rights only. What is left is code other roles own calling code the
    -- application controls, or resolving names into a schema it can create in,
    -- or a trigger it attached: refuse while any of that is possible.
    SELECT pg_catalog.string_agg(o.what, ', ') INTO msg FROM (
        SELECT pg_catalog.format('function %s owned by %s', p.oid::pg_catalog.regprocedure,
                                 p.proowner::pg_catalog.regrole) AS what
          FROM pg_catalog.pg_proc AS p
          JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
         WHERE (pg_catalog.pg_has_role(app_role, p.proowner, 'MEMBER')
                OR pg_catalog.pg_has_role(p.proowner, app_role, 'MEMBER'))
           AND NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles AS r WHERE r.oid = p.proowner)
           AND n.nspname NOT LIKE 'pg_temp_%'
        UNION ALL
        SELECT 'CREATE on schema ' || pg_catalog.quote_ident(n.nspname)
          FROM pg_catalog.pg_namespace AS n
         WHERE pg_catalog.has_schema_privilege(app_role, n.oid, 'CREATE')
           AND n.nspname NOT LIKE 'pg_temp_%' AND n.nspname NOT LIKE 'pg_toast_temp_%'
        UNION ALL
        SELECT 'CREATE on database ' || pg_catalog.quote_ident(pg_catalog.current_database())
         WHERE pg_catalog.has_database_privilege(app_role, pg_catalog.current_database(), 'CREATE')
        UNION ALL
        SELECT 'TRIGGER on ' || t.rel::text FROM tenancy.tenant_relations() AS t
         WHERE t.relkind IN ('r', 'p') AND pg_catalog.has_table_privilege(app_role, t.rel, 'TRIGGER')
         ORDER BY 1 LIMIT 5) AS o;
    IF msg IS NOT NULL THEN
        RETURN QUERY SELECT 'P000', 'high'::tenancy.severity, 'tenancy.probe()',
            pg_catalog.format('the probe did not run: %s can run code of its own inside it (%s)', app_role, msg),
            'Fix the T203, T204 and T205 findings of tenancy.audit() first.';
        RETURN;
    END IF;

    -- Everything below is rolled back: the raise at the end undoes the block.
    BEGIN
        INSERT INTO tenancy.users (id, code, email) VALUES
            (user_a, 'probe-a-' || tag, 'probe-a-' || tag || '@probe.invalid'),
            (user_b, 'probe-b-' || tag, 'probe-b-' || tag || '@probe.invalid');
        INSERT INTO tenancy.organizations (id, name, created_by) VALUES
            (org_a, 'pg_tenancy probe A', user_a), (org_b, 'pg_tenancy probe B', user_b);
        INSERT INTO tenancy.roles (id, organization_id, code, name, permissions) VALUES
            (role_a, org_a, 'probe', 'Probe', '["*"]'), (role_b, org_b, 'probe', 'Probe', '["*"]');
        INSERT INTO tenancy.memberships (organization_id, user_id, role_id) VALUES
            (org_a, user_a, role_a), (org_b, user_b, role_b);

        -- Rows for both organizations in every tenant table, written as the
        -- table's owner; parents before children: a table whose foreign keys
        -- fail is retried once the others are in. Partitions get their rows
        -- through their parent.
        FOR pass IN 1..3 LOOP
            FOR rel IN SELECT t.rel, t.org_column, t.owner FROM tenancy.tenant_relations() AS t
                         JOIN pg_catalog.pg_class AS c ON c.oid = t.rel
                        WHERE t.relkind IN ('r', 'p') AND NOT c.relispartition
                          AND c.relnamespace <> 'tenancy'::pg_catalog.regnamespace AND t.rel <> ALL (seeded)
                        ORDER BY t.rel::text LOOP
                BEGIN
                    PERFORM tenancy.probe_run(rel.owner::pg_catalog.regrole,
                                              tenancy.probe_insert_sql(rel.rel, rel.org_column, org_a), NULL, true);
                    PERFORM tenancy.probe_run(rel.owner::pg_catalog.regrole,
                                              tenancy.probe_insert_sql(rel.rel, rel.org_column, org_b), NULL, true);
                    seeded := seeded || rel.rel;
                    unseeded := unseeded - rel.rel::text;
                EXCEPTION WHEN OTHERS THEN
                    GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
                    unseeded := unseeded || pg_catalog.jsonb_build_object(rel.rel::text, msg);
                END;
            END LOOP;
        END LOOP;
        FOR rel IN SELECT e.key AS name, e.value #>> '{}' AS reason FROM pg_catalog.jsonb_each(unseeded) AS e LOOP
            findings := findings || ROW('P010', 'info', rel.name,
                'the probe could not insert synthetic rows, so only existing rows were checked: ' || rel.reason,
                'Give the columns defaults, or check this table with a test of your own.')::tenancy.finding;
        END LOOP;

        -- P005: the application role cannot write the context itself.
        SELECT * INTO n, msg FROM tenancy.probe_as(
            app_role, $q$SELECT pg_catalog.set_config('tenancy.context', 'forged', true)$q$, NULL);
        IF n IS NOT NULL OR msg IS NOT NULL THEN
            findings := findings || ROW('P005', 'critical', 'tenancy.context',
                'the application role set the tenant context directly with set_config()' || coalesce(' (' || msg || ')', ''),
                'Preload pg_tenancy (shared_preload_libraries) and restart.')::tenancy.finding;
        END IF;

        -- P001: without a context the application role sees no row.
        FOR rel IN SELECT t.rel, t.org_column FROM tenancy.tenant_relations() AS t
                    WHERE t.relkind IN ('r', 'p', 'v', 'm', 'f') ORDER BY t.rel::text LOOP
            checked := checked + 1;
            SELECT * INTO n, msg FROM tenancy.probe_as(
                app_role, pg_catalog.format('SELECT pg_catalog.count(*) FROM %s', rel.rel), NULL);
            IF n > 0 THEN
                findings := findings || ROW('P001', 'critical', rel.rel::text,
                    pg_catalog.format('without a tenant context the application role read %s row(s)', n),
                    'Run SELECT * FROM tenancy.audit() for the cause.')::tenancy.finding;
            ELSIF msg IS NOT NULL THEN
                findings := findings || ROW('P011', 'medium', rel.rel::text,
                    'the read without a context could not be checked: ' || msg,
                    'Fix the error, then run the probe again.')::tenancy.finding;
            END IF;
        END LOOP;

        -- In organization A's context: nothing of B (or of anyone else) is visible or writable.
        PERFORM tenancy.probe_enter(org_a, user_a);
        FOR rel IN SELECT t.rel, t.org_column, t.relkind FROM tenancy.tenant_relations() AS t
                    WHERE t.relkind IN ('r', 'p', 'v', 'm', 'f') ORDER BY t.rel::text LOOP
            -- P002: reads
            SELECT * INTO n, msg FROM tenancy.probe_as(
                app_role, pg_catalog.format('SELECT pg_catalog.count(*) FROM %s WHERE %I IS DISTINCT FROM $1',
                                            rel.rel, rel.org_column), org_a);
            IF n > 0 THEN
                findings := findings || ROW('P002', 'critical', rel.rel::text,
                    pg_catalog.format('in one organization''s context the application role read %s row(s) of '
                                      'other organizations', n),
                    'Run SELECT * FROM tenancy.audit() for the cause.')::tenancy.finding;
            ELSIF msg IS NOT NULL THEN
                findings := findings || ROW('P011', 'medium', rel.rel::text,
                    'the read in one organization''s context could not be checked: ' || msg,
                    'Fix the error, then run the probe again.')::tenancy.finding;
            END IF;
            CONTINUE WHEN rel.relkind NOT IN ('r', 'p');
            -- P003: inserting a row for organization B; P004: changing or deleting B's rows.
            FOREACH statement IN ARRAY ARRAY[
                CASE WHEN rel.rel = ANY (seeded) THEN tenancy.probe_insert_sql(rel.rel, rel.org_column, org_b) END,
                pg_catalog.format('UPDATE %s SET %I = %I WHERE %I = $1', rel.rel, rel.org_column, rel.org_column,
                                  rel.org_column),
                pg_catalog.format('DELETE FROM %s WHERE %I = $1', rel.rel, rel.org_column)] LOOP
                CONTINUE WHEN statement IS NULL; -- no insert where the probe could not build a row
                SELECT * INTO n, msg FROM tenancy.probe_as(app_role, statement, org_b);
                IF n > 0 THEN
                    findings := findings || ROW(CASE WHEN statement LIKE 'INSERT%' THEN 'P003' ELSE 'P004' END,
                        'critical', rel.rel::text,
                        pg_catalog.format('in one organization''s context the application role %s %s row(s) %s '
                                          'another', CASE pg_catalog.split_part(statement, ' ', 1) WHEN 'INSERT' THEN 'inserted'
                                                    WHEN 'UPDATE' THEN 'updated' ELSE 'deleted' END,
                                          n, CASE WHEN statement LIKE 'INSERT%' THEN 'for' ELSE 'of' END),
                        'Run SELECT * FROM tenancy.audit() for the cause.')::tenancy.finding;
                ELSIF msg IS NOT NULL THEN
                    findings := findings || ROW('P011', 'medium', rel.rel::text,
                        pg_catalog.format('the %s in one organization''s context could not be checked: %s',
                                          pg_catalog.split_part(statement, ' ', 1), msg),
                        'Fix the error, then run the probe again.')::tenancy.finding;
                END IF;
            END LOOP;
        END LOOP;

        -- kProbeRollback (token/include/pg_tenancy/token/sqlstates.hpp)
        RAISE EXCEPTION USING ERRCODE = 'TQ000', MESSAGE = 'pg_tenancy probe rollback';
    EXCEPTION
        WHEN SQLSTATE 'TQ000' THEN
            NULL; -- the synthetic organizations and rows are gone
        WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, state = RETURNED_SQLSTATE;
            findings := findings || ROW('P000', 'high', 'tenancy.probe()',
                pg_catalog.format('the probe could not run to the end (%s): %s', state, msg),
                'Fix the cause and run the probe again.')::tenancy.finding;
    END;

    findings := findings || ROW('P999', 'info', 'tenancy.probe()',
        pg_catalog.format('checked %s tenant relations as %s; synthetic rows in %s table(s); %s problem(s)',
                          checked, app_role, pg_catalog.cardinality(seeded),
                          (SELECT pg_catalog.count(*) FROM pg_catalog.unnest(findings) AS f
                            WHERE f.severity >= 'high')),
        NULL)::tenancy.finding;
    RETURN QUERY SELECT * FROM pg_catalog.unnest(findings) AS f ORDER BY f.severity DESC, f.rule, f.object;
END
$$;

COMMENT ON FUNCTION tenancy.assert_session_clean() IS
    'Raise SQLSTATE 55T01 if tenancy.session_leftovers() is not empty';
COMMENT ON FUNCTION tenancy.require_context() IS
    'Raise SQLSTATE 42T02 unless a tenant context is active (sent by the engine just before COMMIT)';
