-- ---------------------------------------------------------------------------
-- Users and organizations.
-- ---------------------------------------------------------------------------

CREATE FUNCTION tenancy.register_user(code text, email text) RETURNS uuid
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
REVOKE ALL ON FUNCTION tenancy.register_user(text, text) FROM PUBLIC;
COMMENT ON FUNCTION tenancy.register_user(text, text) IS
    'Register a user (for the engine''s privileged role and tests; not granted to PUBLIC)';

CREATE FUNCTION tenancy.create_organization(name text) RETURNS uuid
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
COMMENT ON FUNCTION tenancy.create_organization(text) IS
    'In a user-only context: create an organization, its system owner role and the caller''s owner membership, '
    'atomically. Returns the organization id.';
