-- ---------------------------------------------------------------------------
-- The data model. The application role has no privileges on these tables: it
-- reaches them only through the functions below.
-- ---------------------------------------------------------------------------

CREATE TABLE tenancy.users (
    id          uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    code        text NOT NULL
                CONSTRAINT users_code_format CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$'),
    email       text NOT NULL
                CONSTRAINT users_email_format CHECK (tenancy.is_valid_email(email)),
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT users_code_key UNIQUE (code)
);
-- One account per address as tenancy.normalize_email() sees it.
CREATE UNIQUE INDEX users_email_key ON tenancy.users (tenancy.normalize_email(email));
COMMENT ON TABLE tenancy.users IS 'People who can sign in; email is unique under tenancy.normalize_email()';

CREATE TABLE tenancy.organizations (
    id          uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    name        text NOT NULL
                CONSTRAINT organizations_name_length CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    created_by  uuid NOT NULL REFERENCES tenancy.users (id),
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    -- Bumped whenever an owner's membership changes, so that concurrent changes
    -- to the owner set of one organization serialize (see keep_an_owner()).
    ownership_version bigint NOT NULL DEFAULT 0
);
COMMENT ON TABLE tenancy.organizations IS 'Tenants';

CREATE TABLE tenancy.roles (
    id              uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    organization_id uuid NOT NULL REFERENCES tenancy.organizations (id) ON DELETE CASCADE,
    code            text NOT NULL CONSTRAINT roles_code_format CHECK (tenancy.is_valid_role_code(code)),
    name            text NOT NULL CONSTRAINT roles_name_length CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    permissions     jsonb NOT NULL DEFAULT '[]'
                    CONSTRAINT roles_permissions_valid CHECK (tenancy.valid_permissions(permissions)),
    is_system       boolean NOT NULL DEFAULT false,
    created_by      uuid REFERENCES tenancy.users (id),
    created_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT roles_code_key UNIQUE (organization_id, code),
    -- Target of the composite foreign keys below: a membership or invitation can
    -- only point at a role of its own organization.
    CONSTRAINT roles_organization_id_id_key UNIQUE (organization_id, id)
);
COMMENT ON TABLE tenancy.roles IS 'Per-organization roles; permissions is a JSON array of permission strings';

CREATE TABLE tenancy.memberships (
    id              uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    organization_id uuid NOT NULL REFERENCES tenancy.organizations (id) ON DELETE CASCADE,
    user_id         uuid NOT NULL REFERENCES tenancy.users (id) ON DELETE CASCADE,
    role_id         uuid NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT memberships_one_per_user UNIQUE (organization_id, user_id),
    CONSTRAINT memberships_role_fkey FOREIGN KEY (organization_id, role_id)
        REFERENCES tenancy.roles (organization_id, id)
);
CREATE INDEX memberships_user_id_idx ON tenancy.memberships (user_id);
-- Role look-ups (list_roles(), delete_role()) stay inside one organization's rows.
CREATE INDEX memberships_role_id_idx ON tenancy.memberships (role_id);
COMMENT ON TABLE tenancy.memberships IS 'Who belongs to which organization, with which role';

CREATE TABLE tenancy.invitations (
    id              uuid PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    organization_id uuid NOT NULL REFERENCES tenancy.organizations (id) ON DELETE CASCADE,
    email           text NOT NULL
                    CONSTRAINT invitations_email_format CHECK (tenancy.is_valid_email(email)),
    role_id         uuid NOT NULL,
    token_hash      bytea NOT NULL CONSTRAINT invitations_token_hash_length CHECK (length(token_hash) = 32),
    invited_by      uuid NOT NULL REFERENCES tenancy.users (id),
    created_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    expires_at      timestamptz NOT NULL,
    accepted_at     timestamptz,
    accepted_by     uuid REFERENCES tenancy.users (id),
    revoked_at      timestamptz,
    CONSTRAINT invitations_token_hash_key UNIQUE (token_hash),
    CONSTRAINT invitations_role_fkey FOREIGN KEY (organization_id, role_id)
        REFERENCES tenancy.roles (organization_id, id),
    CONSTRAINT invitations_expiry_after_creation CHECK (expires_at > created_at)
);
-- list_invitations() reads one organization's; delete_role() one role's.
CREATE INDEX invitations_organization_id_idx ON tenancy.invitations (organization_id, created_at);
CREATE INDEX invitations_role_id_idx ON tenancy.invitations (role_id);
COMMENT ON TABLE tenancy.invitations IS 'Invitations; tokens are stored only as SHA-256 hashes';

-- pg_dump keeps the rows of extension tables only when told to.
SELECT pg_catalog.pg_extension_config_dump('tenancy.users', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.organizations', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.roles', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.memberships', '');
SELECT pg_catalog.pg_extension_config_dump('tenancy.invitations', '');

REVOKE ALL ON ALL TABLES IN SCHEMA tenancy FROM PUBLIC;

-- The hidden system role (the owner role) is immutable: no rename, no permission
-- change, no deletion, except when its organization itself is deleted.
CREATE FUNCTION tenancy.protect_system_roles() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP OPERATOR(pg_catalog.=) 'DELETE' THEN
        IF OLD.is_system AND EXISTS (SELECT 1 FROM tenancy.organizations AS o
                                      WHERE o.id OPERATOR(pg_catalog.=) OLD.organization_id) THEN
            RAISE EXCEPTION 'the system role "%" cannot be deleted', OLD.code
                USING ERRCODE = '42501',
                      HINT = 'System roles live as long as their organization.';
        END IF;
        RETURN OLD;
    END IF;
    IF NEW.is_system AND NOT OLD.is_system THEN
        RAISE EXCEPTION 'the custom role "%" cannot become a system role', OLD.code
            USING ERRCODE = '42501',
                  HINT = 'Each organization has exactly one system role, its owner role.';
    END IF;
    IF OLD.is_system THEN
        IF ROW(NEW.*) IS DISTINCT FROM ROW(OLD.*) THEN
            RAISE EXCEPTION 'the system role "%" cannot be changed', OLD.code
                USING ERRCODE = '42501',
                      HINT = 'Create a custom role instead; system roles are fixed.';
        END IF;
    END IF;
    RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION tenancy.protect_system_roles() FROM PUBLIC;

CREATE TRIGGER roles_protect_system
    BEFORE UPDATE OR DELETE ON tenancy.roles
    FOR EACH ROW EXECUTE FUNCTION tenancy.protect_system_roles();

-- Every backend keeps the memberships tenancy.enter() read, valid while a
-- shared generation is unchanged; a committed change to any of these tables
-- moves it (extension/src/membership_generation.cpp). BEFORE, so the marking
-- precedes the change; ENABLE ALWAYS, so session_replication_role = replica
-- fires them too. Row triggers for INSERT, UPDATE and DELETE because a logical
-- replication apply worker fires no statement trigger for them (it does for
-- TRUNCATE). A backend uses its cache only while all six are in place and
-- enabled: disabling one (ALTER TABLE ... DISABLE TRIGGER, by the tables'
-- owner) turns every cache off rather than leaving it stale.
CREATE FUNCTION tenancy.note_membership_change() RETURNS trigger
    AS 'MODULE_PATHNAME', 'tenancy_note_membership_change'
    LANGUAGE C
    SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION tenancy.note_membership_change() FROM PUBLIC;
COMMENT ON FUNCTION tenancy.note_membership_change() IS
    'Trigger: a commit of this transaction invalidates every backend''s cached memberships';
CREATE TRIGGER memberships_note_change BEFORE INSERT OR UPDATE OR DELETE ON tenancy.memberships
    FOR EACH ROW EXECUTE FUNCTION tenancy.note_membership_change();
CREATE TRIGGER memberships_note_truncate BEFORE TRUNCATE ON tenancy.memberships
    FOR EACH STATEMENT EXECUTE FUNCTION tenancy.note_membership_change();
CREATE TRIGGER roles_note_change BEFORE INSERT OR UPDATE OR DELETE ON tenancy.roles
    FOR EACH ROW EXECUTE FUNCTION tenancy.note_membership_change();
CREATE TRIGGER roles_note_truncate BEFORE TRUNCATE ON tenancy.roles
    FOR EACH STATEMENT EXECUTE FUNCTION tenancy.note_membership_change();
CREATE TRIGGER users_note_change BEFORE INSERT OR UPDATE OR DELETE ON tenancy.users
    FOR EACH ROW EXECUTE FUNCTION tenancy.note_membership_change();
CREATE TRIGGER users_note_truncate BEFORE TRUNCATE ON tenancy.users
    FOR EACH STATEMENT EXECUTE FUNCTION tenancy.note_membership_change();
ALTER TABLE tenancy.memberships ENABLE ALWAYS TRIGGER memberships_note_change;
ALTER TABLE tenancy.memberships ENABLE ALWAYS TRIGGER memberships_note_truncate;
ALTER TABLE tenancy.roles ENABLE ALWAYS TRIGGER roles_note_change;
ALTER TABLE tenancy.roles ENABLE ALWAYS TRIGGER roles_note_truncate;
ALTER TABLE tenancy.users ENABLE ALWAYS TRIGGER users_note_change;
ALTER TABLE tenancy.users ENABLE ALWAYS TRIGGER users_note_truncate;
