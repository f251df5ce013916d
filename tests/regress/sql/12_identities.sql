-- 12_identities: identity-provider subjects linked to pg_tenancy users, for the
-- engine's identity_subject_mapping = linked. The functions are not the
-- application role's; the privileged role links, resolves and unlinks.
\set VERBOSITY terse
\i tests/regress/include/setup_vars.psql

-- Not for the application role: not the functions, not the table.
SET ROLE tenancy_app;
SELECT tenancy.resolve_identity('https://id.example/', 'auth0|alice');
SELECT tenancy.link_identity(:'carol', 'https://id.example/', 'auth0|alice');
SELECT tenancy.unlink_identity('https://id.example/', 'auth0|alice');
SELECT * FROM tenancy.user_identities;
INSERT INTO tenancy.user_identities (issuer, subject, user_id) VALUES ('https://id.example/', 'auth0|alice', :'carol');
RESET ROLE;

-- Link, resolve (issuer and subject exactly), link again (a no-op), several per user.
SELECT tenancy.link_identity(:'alice', 'https://id.example/', 'auth0|alice');
SELECT tenancy.link_identity(:'alice', 'https://id.example/', 'auth0|alice');
SELECT tenancy.link_identity(:'alice', 'https://kc.example/realms/acme', '9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d');
SELECT tenancy.resolve_identity('https://id.example/', 'auth0|alice') = :'alice' AS alice_resolved;
SELECT tenancy.resolve_identity('https://kc.example/realms/acme', '9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d') = :'alice'
    AS alice_resolved_from_keycloak;
SELECT tenancy.resolve_identity('https://id.example', 'auth0|alice') AS other_issuer_is_not_linked;
SELECT tenancy.resolve_identity('https://id.example/', 'AUTH0|alice') AS subjects_are_case_sensitive;
SELECT tenancy.resolve_identity(NULL, 'auth0|alice') AS null_resolves_to_nobody;

-- One identity belongs to one user.
SELECT tenancy.link_identity(:'bob', 'https://id.example/', 'auth0|alice');
SELECT tenancy.resolve_identity('https://id.example/', 'auth0|alice') = :'alice' AS still_alice;

-- Bad input.
SELECT tenancy.link_identity(NULL, 'https://id.example/', 'x');
SELECT tenancy.link_identity(:'bob', 'https://id.example/', NULL);
SELECT tenancy.link_identity(:'bob', 'https://id.example/', '');
SELECT tenancy.link_identity(:'bob', '', 'x');
SELECT tenancy.link_identity(:'bob', 'https://id.example/', repeat('s', 256));
SELECT tenancy.link_identity('00000000-0000-4000-8000-000000000000', 'https://id.example/', 'x');

-- A privileged role that is granted the functions, and nothing else, can use them.
CREATE ROLE tenancy_engine_admin NOLOGIN;
GRANT EXECUTE ON FUNCTION tenancy.link_identity(uuid, text, text), tenancy.resolve_identity(text, text),
    tenancy.unlink_identity(text, text) TO tenancy_engine_admin;
SET ROLE tenancy_engine_admin;
SELECT tenancy.link_identity(:'bob', 'https://id.example/', 'auth0|bob');
SELECT tenancy.resolve_identity('https://id.example/', 'auth0|bob') = :'bob' AS bob_resolved;
SELECT * FROM tenancy.user_identities;
SELECT tenancy.unlink_identity('https://id.example/', 'auth0|bob') AS unlinked;
SELECT tenancy.unlink_identity('https://id.example/', 'auth0|bob') AS nothing_left_to_unlink;
SELECT tenancy.resolve_identity('https://id.example/', 'auth0|bob') AS bob_no_longer_resolves;
RESET ROLE;
DROP OWNED BY tenancy_engine_admin;
DROP ROLE tenancy_engine_admin;

-- tenancy.audit() reports an application role that can reach the table directly
-- (it could link itself to anyone's identity).
GRANT SELECT, INSERT ON tenancy.user_identities TO tenancy_app;
SELECT rule, severity, object, detail FROM tenancy.audit('tenancy_app') WHERE object = 'tenancy.user_identities';
REVOKE ALL ON tenancy.user_identities FROM tenancy_app;
SELECT count(*) AS no_finding_after_revoke FROM tenancy.audit('tenancy_app') WHERE object = 'tenancy.user_identities';

-- Clean up (the rows would also go with their user: ON DELETE CASCADE).
SELECT count(*) AS alice_identities FROM tenancy.user_identities WHERE user_id = :'alice';
SELECT tenancy.unlink_identity('https://id.example/', 'auth0|alice'),
       tenancy.unlink_identity('https://kc.example/realms/acme', '9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d');
