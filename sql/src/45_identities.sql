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
