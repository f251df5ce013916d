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

-- Hardening (issue 11) ---------------------------------------------------------

-- Email identity: one normalization, tenancy.normalize_email(), for
-- registration, invitations and acceptance (see sql/src/05_validation.sql).
CREATE FUNCTION tenancy.normalize_email(email text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    RETURN CASE WHEN pg_catalog.getdatabaseencoding() OPERATOR(pg_catalog.=) 'UTF8'
                THEN pg_catalog.normalize(pg_catalog.lower(pg_catalog.normalize(email, 'NFKC') COLLATE "und-x-icu"), 'NFKC')
                ELSE pg_catalog.lower(email) END;
REVOKE ALL ON FUNCTION tenancy.normalize_email(text) FROM PUBLIC;
COMMENT ON FUNCTION tenancy.normalize_email(text) IS
    'The form in which email addresses are compared: NFKC, lower case (ICU root locale), NFKC';

-- Errors quote caller input through tenancy.echo_safe().
CREATE FUNCTION tenancy.echo_safe(input text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    RETURN CASE WHEN input IS NULL THEN '(null)'
                ELSE pg_catalog.regexp_replace(pg_catalog.left(input, 64), '[[:cntrl:]]', '?', 'g')
                     OPERATOR(pg_catalog.||) CASE WHEN pg_catalog.length(input) OPERATOR(pg_catalog.>) 64
                                                  THEN '...' ELSE '' END END;
COMMENT ON FUNCTION tenancy.echo_safe(text) IS
    'Caller input as quoted in error messages: at most 64 characters, then an ellipsis';

-- Existing users whose addresses normalize to the same one would make the new
-- unique index fail with an obscure message; name them instead.
DO $$
DECLARE
    clashes text;
BEGIN
    SELECT pg_catalog.string_agg(pg_catalog.format('%s (users %s)', g.address, g.codes), '; ')
      INTO clashes
      FROM (SELECT tenancy.normalize_email(u.email) AS address,
                   pg_catalog.string_agg(u.code, ', ' ORDER BY u.code) AS codes
              FROM tenancy.users AS u GROUP BY 1 HAVING pg_catalog.count(*) > 1 ORDER BY 1 LIMIT 20) AS g;
    IF clashes IS NOT NULL THEN
        RAISE EXCEPTION 'pg_tenancy 0.3.0 allows one account per normalized email address; these share one: %', clashes
            USING ERRCODE = '23505',
                  HINT = 'Change the email of all but one account in each group (see tenancy.normalize_email()), '
                         'then run ALTER EXTENSION pg_tenancy UPDATE again.';
    END IF;
END
$$;
DROP INDEX tenancy.users_email_key;
CREATE UNIQUE INDEX users_email_key ON tenancy.users (tenancy.normalize_email(email));
COMMENT ON TABLE tenancy.users IS 'People who can sign in; email is unique under tenancy.normalize_email()';

-- Scans stay inside one organization.
CREATE INDEX memberships_role_id_idx ON tenancy.memberships (role_id);
CREATE INDEX invitations_organization_id_idx ON tenancy.invitations (organization_id, created_at);
CREATE INDEX invitations_role_id_idx ON tenancy.invitations (role_id);

-- Audit log ids: random uuids instead of one platform-wide sequence (existing
-- rows get one each; their order stays created_at, id).
ALTER TABLE tenancy.audit_log ALTER COLUMN id DROP IDENTITY;
ALTER TABLE tenancy.audit_log ALTER COLUMN id SET DATA TYPE uuid USING pg_catalog.gen_random_uuid();
ALTER TABLE tenancy.audit_log ALTER COLUMN id SET DEFAULT pg_catalog.gen_random_uuid();
-- protect() had given it an index on organization_id alone, under this name.
DROP INDEX tenancy.audit_log_organization_id_idx;
CREATE INDEX audit_log_organization_id_idx ON tenancy.audit_log (organization_id, created_at, id);

-- Bounded input and grants: permissions_cover() is internal.
COMMENT ON FUNCTION tenancy.permissions_cover(text[], text[]) IS
    'True if every wanted permission is covered by a granted one ("*", "resource.*" or an exact match); '
    'at most 1000 permissions of at most 256 bytes per array';
REVOKE ALL ON FUNCTION tenancy.permissions_cover(text[], text[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION tenancy.permission_array(jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION tenancy.valid_permissions(jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION tenancy.forbid_audit_change() FROM PUBLIC;
REVOKE ALL ON FUNCTION tenancy.keep_an_owner() FROM PUBLIC;
REVOKE ALL ON FUNCTION tenancy.protect_system_roles() FROM PUBLIC;
REVOKE ALL ON FUNCTION tenancy.announce_membership_change() FROM PUBLIC;
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

-- Functions with new bodies: bounded echoes, locked and current authorization,
-- the statement's clock, normalized email comparison, TTL as timestamps.
CREATE OR REPLACE FUNCTION tenancy.register_permission(code text, description text) RETURNS void
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
CREATE OR REPLACE FUNCTION tenancy.require_known_permissions(permissions jsonb) RETURNS void
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
        RAISE EXCEPTION 'this needs an organization context'
            USING ERRCODE = '42501', HINT = 'Call tenancy.enter($1) with a token for the organization first.';
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
        RAISE EXCEPTION 'you are no longer a member of this organization' USING ERRCODE = '42501';
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
        RAISE EXCEPTION 'permission denied: this needs %', tenancy.echo_safe(permission)
            USING ERRCODE = '42501', HINT = 'Ask an owner for a role that grants it.';
    END IF;
    RETURN me;
END
$$;
CREATE OR REPLACE FUNCTION tenancy.require_grantable(me tenancy.caller, role_id uuid) RETURNS void
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
CREATE OR REPLACE FUNCTION tenancy.role_id(organization_id uuid, code text) RETURNS uuid
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
CREATE OR REPLACE FUNCTION tenancy.register_user(code text, email text) RETURNS uuid
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    new_id uuid;
BEGIN
    IF code IS NULL OR email IS NULL THEN
        RAISE EXCEPTION 'tenancy.register_user() needs a code and an email' USING ERRCODE = '22004';
    END IF;
    IF code !~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$' THEN
        RAISE EXCEPTION 'invalid user code'
            USING ERRCODE = '22023',
                  HINT = 'Use 1 to 128 characters from [A-Za-z0-9._@-], starting with a letter or digit.';
    END IF;
    IF NOT tenancy.is_valid_email(email) THEN
        RAISE EXCEPTION 'invalid email address' USING ERRCODE = '22023',
            HINT = 'Give an address of the form name@domain, at most 320 characters.';
    END IF;
    INSERT INTO tenancy.users (code, email) VALUES (code, email) RETURNING id INTO new_id;
    RETURN new_id;
EXCEPTION WHEN unique_violation THEN
    -- Emails are unique as tenancy.normalize_email() sees them.
    RAISE EXCEPTION 'a user with this code or email is already registered' USING ERRCODE = '23505',
        HINT = 'Email addresses are compared after Unicode NFKC normalization and lower-casing.';
END
$$;
CREATE OR REPLACE FUNCTION tenancy.create_role(code text, name text, permissions jsonb) RETURNS uuid
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
        RAISE EXCEPTION 'invalid role code "%"', tenancy.echo_safe(code)
            USING ERRCODE = '22023', HINT = 'Use a lower-case letter followed by up to 62 of [a-z0-9_-].';
    END IF;
    PERFORM tenancy.require_permission_count(permissions);
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
        RAISE EXCEPTION 'a role "%" already exists in this organization', tenancy.echo_safe(code)
            USING ERRCODE = '23505';
    END;
    PERFORM tenancy.record(me.organization_id, 'role.created',
                           pg_catalog.jsonb_build_object('role', code, 'permissions', permissions));
    RETURN new_id;
END
$$;
CREATE OR REPLACE FUNCTION tenancy.update_role(code text, name text DEFAULT NULL, permissions jsonb DEFAULT NULL) RETURNS void
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
    IF permissions IS NOT NULL THEN
        PERFORM tenancy.require_permission_count(permissions);
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
CREATE OR REPLACE FUNCTION tenancy.revoke_invitations_for(organization_id uuid, user_id uuid) RETURNS void
    LANGUAGE sql
    SET search_path = pg_catalog, pg_temp
AS $$
    UPDATE tenancy.invitations AS i SET revoked_at = pg_catalog.clock_timestamp()
      FROM tenancy.users AS u
     WHERE u.id OPERATOR(pg_catalog.=) revoke_invitations_for.user_id
       AND i.organization_id OPERATOR(pg_catalog.=) revoke_invitations_for.organization_id
       AND tenancy.normalize_email(i.email) OPERATOR(pg_catalog.=) tenancy.normalize_email(u.email)
       AND i.accepted_at IS NULL AND i.revoked_at IS NULL
$$;
CREATE OR REPLACE FUNCTION tenancy.invite(email text, role_code text, ttl interval DEFAULT '7 days') RETURNS text
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
        RAISE EXCEPTION 'tenancy.accept_invitation() needs a user-only context'
            USING ERRCODE = '42501', HINT = 'Enter a context token minted without an organization.';
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
        RAISE EXCEPTION 'this invitation is not valid'
            USING ERRCODE = '22023', HINT = 'Ask the organization for a new invitation.';
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
        RAISE EXCEPTION 'this invitation is not valid'
            USING ERRCODE = '22023', HINT = 'Ask the organization for a new invitation.';
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
CREATE OR REPLACE FUNCTION tenancy.revoke_invitation(invitation_id uuid) RETURNS void
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
CREATE OR REPLACE FUNCTION tenancy.list_invitations()
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
